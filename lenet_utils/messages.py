"""Any error as the one printable line a person reads: the rule behind every message the package shows.

The command line, the predict panel, the share box, the image decoder, the checkpoint loader and the
exercises' feedback all show failures through :func:`one_line`, so a message is cut the same way
wherever it appears, and never becomes a traceback.
"""

from __future__ import annotations

__all__ = ["LIMIT", "one_line"]

LIMIT = 500          # characters: a longer message (a tensor's repr, a dump) is cut, with an ellipsis


def one_line(err: BaseException, limit: int = LIMIT) -> str:
    """``err``'s message as one line: its first non-empty line, at most ``limit`` characters (cut with
    "..."), or the error's type name when it says nothing. An ``OSError`` that names a file reads
    ``"name: reason"`` ("[Errno 21] Is a directory: 'x'" reads worse)."""
    if isinstance(err, OSError) and err.strerror and err.filename is not None:
        text = f"{err.filename}: {err.strerror}"
    else:
        text = next((line.strip() for line in str(err).splitlines() if line.strip()), "")
    text = text.replace("\0", "\\0") or type(err).__name__
    return text if len(text) <= limit else text[:limit - 3].rstrip() + "..."
