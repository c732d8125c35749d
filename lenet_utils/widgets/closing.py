"""Closing a widget and everything inside it, its layout and style included: nothing stays alive in the kernel.

Every front end closes through :func:`close_tree`: the predict panel when an upload replaces its
tiles, the layer lab when it is closed. A layout or a style is a widget of its own: closing the
widget that uses it does not close it, so a helper that forgot them leaked one or two per widget.
"""

from __future__ import annotations

import ipywidgets as W

__all__ = ["close_tree"]


def close_tree(*widgets: W.Widget) -> None:
    """Close each widget and every widget inside it (children first), with their layouts and styles."""
    for w in widgets:
        close_tree(*getattr(w, "children", ()))
        for part in (getattr(w, "layout", None), getattr(w, "style", None)):
            if isinstance(part, W.Widget):
                part.close()
        W.Widget.close(w)
