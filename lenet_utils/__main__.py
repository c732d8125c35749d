"""``python -m lenet_utils ...``: see :mod:`lenet_utils.cli`."""

import sys

from .cli import main

sys.exit(main(prog="python -m lenet_utils"))
