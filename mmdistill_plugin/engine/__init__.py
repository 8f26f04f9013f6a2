from . import atomic_local_backend, checkpoint_files  # noqa: F401  (registers 'atomic_local')
from . import hooks  # noqa: F401
