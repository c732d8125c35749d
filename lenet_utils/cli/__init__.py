"""The command line, ``python -m lenet_utils``, and ``doctor``, which checks a machine for the course.

* ``parser``    the options, help texts and examples; imports nothing heavy, so ``--help`` answers at once
* ``commands``  train | evaluate | predict | summary | data | doctor: runs the command
* ``doctor``    is this machine ready for the course? each problem with its fix
"""

from .commands import main

__all__ = ["main"]
