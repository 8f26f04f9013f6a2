from . import atomic_local_backend, checkpoint_files  # noqa: F401  (registers 'atomic_local')
from . import hooks, optim_wrappers  # noqa: F401
