"""``python -m lenet_utils ...``: see :mod:`lenet_utils.cli.commands`."""

import sys

from .cli.commands import main

sys.exit(main(prog="python -m lenet_utils"))
