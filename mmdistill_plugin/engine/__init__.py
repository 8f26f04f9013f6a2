# atomic_local_backend registers the "atomic_local" file backend (atomic checkpoint saves)
from . import atomic_local_backend, checkpoint_files, hooks, optim_wrappers  # noqa: F401
