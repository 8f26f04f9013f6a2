# Copyright (c) mmdistill contributors.
"""Schemas of the Something-Something V2 / Something-Else JSON files (pydantic).

* :data:`SSV2_ENTRIES`: the SSv2 / Something-Else split lists (``something-something-v2-
  {train,validation,test}.json``, ``dataset_splits/*/*.json``): ``[{id, label, template,
  placeholders}, ...]``.
* :data:`SSV2_LABELS`: ``labels.json``: template -> class index (text or int).
* :data:`BOX_FILE`: Something-Else ``annotations.json`` (per-frame boxes of each video).

Every real file in ``shared/data`` validates (tests/test_schemas.py).
"""
import re
from collections import Counter
from typing import Dict, List, Optional, Union

from pydantic import (BaseModel, ConfigDict, Field, RootModel, TypeAdapter, field_validator,
                      model_validator)

from .base import register

_NAME = r'^[^\s/]+$'


class SSv2Entry(BaseModel):
    """One video of a split list."""

    model_config = ConfigDict(extra='allow')

    id: Union[str, int] = Field(description='video id (the file `<id>.webm` / folder `<id>/`)')
    template: Optional[str] = Field(None, description=(
        'action template with `[something]` placeholders; its `labels.json` key (brackets '
        'dropped) gives the class. Absent in test lists'))
    label: Optional[str] = Field(None, description='the filled-in template (not used)')
    placeholders: Optional[List[str]] = Field(None, description='the objects filled in')

    @field_validator('id')
    @classmethod
    def _id_is_a_name(cls, v):
        """`id` is a non-empty name without whitespace or `/` (it becomes a path)."""
        v = str(v)
        if not re.match(_NAME, v):
            raise ValueError('is not a video id (non-empty, no whitespace or "/")')
        return v

    @model_validator(mode='after')
    def _placeholders_fill_the_template(self):
        """`placeholders` has one object per `[...]` of `template`."""
        if self.template is not None:
            if self.template.count('[') != self.template.count(']'):
                raise ValueError(f'template {self.template!r} has unbalanced brackets')
            if self.placeholders is not None and \
                    len(self.placeholders) != self.template.count('['):
                raise ValueError(f'placeholders {self.placeholders} do not fill the '
                                 f'{self.template.count("[")} [something] of template '
                                 f'{self.template!r}')
        return self


class SSv2Entries(RootModel[List[SSv2Entry]]):
    """A split list: a non-empty JSON list of entries with unique ids; either every entry has
    a `template` (labelled) or none has (a test list)."""

    @model_validator(mode='after')
    def _ids_unique_and_labels_all_or_none(self):
        """Ids are unique; `template` is on every entry or on none."""
        ids = Counter(e.id for e in self.root)
        dup = [i for i, n in ids.items() if n > 1]
        if dup:
            where = [k for k, e in enumerate(self.root) if e.id == dup[0]]
            raise ValueError(f'id {dup[0]!r} is not unique (entries {where}); '
                             f'{len(dup)} duplicated id(s)')
        has = [e.template is not None for e in self.root]
        if any(has) and not all(has):
            k = has.index(False)
            raise ValueError(f'entry {k} (id {self.root[k].id!r}) has no template while '
                             f'{sum(has)} others have one: a list is labelled throughout or '
                             f'not at all')
        return self


class SSv2Labels(RootModel[Dict[str, Union[int, str]]]):
    """`labels.json`: template (brackets dropped) -> class index; the indices are integers
    (or their text), unique, and exactly 0..n-1."""

    @field_validator('root')
    @classmethod
    def _contiguous_indices(cls, v):
        """Indices parse as integers and are exactly 0..n-1, each once."""
        if not v:
            raise ValueError('has no labels')
        out = {}
        for k, x in v.items():
            if isinstance(x, bool) or not re.fullmatch(r'\d+', str(x).strip()):
                raise ValueError(f'template {k!r}: label {x!r} is not an integer')
            out[k] = int(str(x).strip())
        seen = {}
        for k, x in out.items():
            if x in seen:
                raise ValueError(f'templates {seen[x]!r} and {k!r} have the same label {x}')
            seen[x] = k
        gaps = sorted(set(range(len(out))) - set(out.values()))
        if gaps:
            raise ValueError(f'labels are not 0..{len(out) - 1}: missing {gaps[:5]}, present '
                             f'up to {max(out.values())}')
        return out


class Box2D(BaseModel):
    """Box corners in pixels (NaN / reversed boxes are dropped with a warning when loaded)."""

    x1: float
    y1: float
    x2: float
    y2: float


class BoxLabel(BaseModel):
    """One box of a frame."""

    model_config = ConfigDict(extra='allow')

    box2d: Box2D = Field(description='corners in pixels of the frame')
    gt_annotation: str = Field(pattern=r'^object (\d+|hand)$', description=(
        '`object k` (the k-th placeholder) or `object hand`'))
    standard_category: Optional[str] = None
    category: Optional[str] = None


class BoxFrame(BaseModel):
    """One annotated frame of a video."""

    model_config = ConfigDict(extra='allow')

    name: str = Field(pattern=r'^[^\s/]+/\d+\.\w+$', description='`<video_id>/<frame>.jpg`')
    labels: List[BoxLabel] = Field(default_factory=list)
    gt_placeholders: Optional[List[str]] = Field(None, description='the objects of the video')
    nr_instances: Optional[int] = None

    @model_validator(mode='after')
    def _objects_are_placeholders(self):
        """An `object k` has `k < len(gt_placeholders)` (when the frame lists them)."""
        if self.gt_placeholders is not None:
            for j, lab in enumerate(self.labels):
                k = lab.gt_annotation[7:]
                if k.isdigit() and int(k) >= len(self.gt_placeholders):
                    raise ValueError(f'labels[{j}] is {lab.gt_annotation!r} but gt_placeholders '
                                     f'lists {len(self.gt_placeholders)} object(s) '
                                     f'{self.gt_placeholders}')
        return self


class BoxVideo(RootModel[List[BoxFrame]]):
    """The frames of one video: each frame once, named after the video."""

    @model_validator(mode='after')
    def _frames_once_and_of_this_video(self):
        """Frame names are unique (a frame listed twice used to lose its boxes)."""
        seen = {}
        for k, fr in enumerate(self.root):
            if fr.name in seen:
                raise ValueError(f'frame {fr.name!r} is listed twice (entries {seen[fr.name]} '
                                 f'and {k})')
            seen[fr.name] = k
        return self


class BoxFile(RootModel[Dict[str, BoxVideo]]):
    """`annotations.json`: video id -> its frames; a frame is named after its video."""

    @model_validator(mode='after')
    def _frames_of_their_video(self):
        """Every frame `name` starts with `<video id>/`."""
        for vid, video in self.root.items():
            for k, fr in enumerate(video.root):
                if fr.name.split('/')[0] != vid:
                    raise ValueError(f'video {vid!r}: frame entry {k} is named {fr.name!r}, '
                                     f'a frame of another video')
        return self


SSV2_ENTRIES = TypeAdapter(SSv2Entries)
SSV2_LABELS = TypeAdapter(SSv2Labels)
BOX_FILE = TypeAdapter(BoxFile)

register('SSv2 / Something-Else split list', SSv2Entries,
         reader='`SomethingSomethingV2Dataset` (`ann_file`)',
         files='`something-something-v2-*.json`, Something-Else `dataset_splits/*/*.json`')
register('SSv2 labels', SSv2Labels, reader='`SomethingSomethingV2Dataset` (`labels_file`)',
         files='`something-something-v2-labels.json`, `dataset_splits/*/labels.json`')
register('Something-Else boxes', BoxFile,
         reader='`load_box_annotations` (`boxes_file`)',
         files='Something-Else `annotations.json` (video id -> frames)')
