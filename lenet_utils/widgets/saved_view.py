"""What a saved notebook shows for the course's panels where no live widget can be drawn.

A widget's output carries two things: the widget itself (``application/vnd.jupyter.widget-view+json``)
and a fallback. JupyterLab draws the widget only for outputs it trusts, and it trusts a notebook
only where it was run: a notebook cloned from git and opened unexecuted is untrusted, so JupyterLab
shows the fallback. ipywidgets' fallback is ``repr(widget)``, a screenful of
``PredictPanel(children=(HTML(value="<style>...``. Here each course panel gets a fallback a
newcomer can read instead: its title and a line saying how to bring it to life (plain HTML, which
JupyterLab shows in untrusted notebooks too; where the widget can be drawn, it still is).

:func:`register` installs it in the running IPython (``lenet_utils.widgets`` calls it on import).
Panels are named, not imported, so registering loads none of them.
"""

from __future__ import annotations

import html

from .. import palette

# (module, class) -> the panel's title, as the live panel shows it
PANELS: dict[tuple[str, str], str] = {
    ("lenet_utils.widgets.predict_panel", "PredictPanel"): "What digit is this? Ask LeNet-5",
    ("lenet_utils.widgets.layer_lab", "LayerLab"): "The layer lab: change LeNet-5, see what changes",
    ("lenet_utils.widgets.class_dashboard", "ClassDashboard"): "The class gallery: every digit the class shared",
}
HOW = "This panel comes alive when the notebook runs: run this cell, or Run ▸ Run All Cells."


def saved_html(title: str) -> str:
    """The fallback: the title and how to bring the panel to life (inline styles: an untrusted
    notebook keeps no stylesheet)."""
    return (f"<div class='lenet-saved-panel' style='border: 1px dashed {palette.FAINT}; border-radius: 8px; "
            "padding: 10px 14px; max-width: 720px'>"
            f"<div style='font-size: 17px; font-weight: 600'>{html.escape(title)}</div>"
            f"<div style='font-size: 13px; color: {palette.MUTED}; margin-top: 4px'>{html.escape(HOW)}</div></div>")


def mimebundle(widget, title: str, **kwargs) -> dict:
    """``widget``'s own output (the live widget) with a readable text/plain and text/html in place of its repr."""
    data = widget._repr_mimebundle_(**kwargs)
    data = data[0] if isinstance(data, tuple) else data        # (data, metadata) from some versions
    data["text/plain"] = f"{title}: {HOW}"
    data["text/html"] = saved_html(title)
    return data


def register(shell=None) -> bool:
    """Install the fallbacks in IPython's display formatter; False where there is none to install them in.

    A process-wide change (listed in the package's docstring), made when a panel is first built
    (:func:`register_once`), not when ``lenet_utils.widgets`` is imported."""
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return False
        shell = get_ipython()
    # Solara and Voila run a stand-in for IPython without display formatters: nothing to register there.
    formatter = getattr(getattr(shell, "display_formatter", None), "mimebundle_formatter", None)
    if formatter is None:
        return False
    for (module, name), title in PANELS.items():
        formatter.for_type_by_name(module, name, lambda w, include=None, exclude=None, t=title: mimebundle(w, t))
    return True


_registered: set[int] = set()      # the formatters already holding the fallbacks


def register_once() -> None:
    """:func:`register` in the running IPython, the first time a course panel is built there."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    formatter = getattr(getattr(shell, "display_formatter", None), "mimebundle_formatter", None)
    if formatter is not None and id(formatter) not in _registered and register(shell):
        _registered.add(id(formatter))
