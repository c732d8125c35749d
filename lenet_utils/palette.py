"""The course's colours, named once: what green, orange, red and blue mean wherever the package shows them.

The doctor's report, the exercises' feedback, the layer lab's messages, the class gallery and the
saved-notebook views take their colours from here. The widgets' CSS files (``widgets/*.css``)
cannot import Python: they state the same values, and ``tests/test_palette.py`` checks they agree.
"""

from __future__ import annotations

__all__ = ["ACCENT", "BASELINE", "ERROR", "FAINT", "MUTED", "OK", "WARN"]

OK = "#2e7d32"         # green: a pass, a check that is fine
WARN = "#ef6c00"       # orange: a hint, a warning
ERROR = "#c62828"      # red: a problem, a refused input, a failed run
ACCENT = "#1565c0"     # blue: the network's answer, the bar that matters
BASELINE = "#90a4ae"   # blue-grey: what the answer is compared with
MUTED = "#616161"      # grey: secondary text
FAINT = "#9e9e9e"      # light grey: a placeholder
