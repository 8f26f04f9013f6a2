# Copyright (c) mmdistill contributors.
