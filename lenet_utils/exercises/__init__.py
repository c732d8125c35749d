"""Auto-checked exercises: ``check_...(answer)`` returns a :class:`Feedback` that passes,
or gives a hint (never the solution). One module per notebook."""

from ._core import Feedback, verdict
from .ch01_data import *  # noqa: F401,F403
from .ch02_architecture import *  # noqa: F401,F403
from .ch03_training import *  # noqa: F401,F403
from .ch04_evaluation import *  # noqa: F401,F403
from .ch05_predict import *  # noqa: F401,F403
from .ch06_layer_lab import *  # noqa: F401,F403
