"""The predict panel put through each of its states in a real browser, and its cards measured.

Used by ``test_predict_panel_browser.py`` (which asserts the layout is steady) and by
``benchmarks/panel_layout.py`` (which writes the sizes to ``benchmarks/results/panel_layout.json``),
so both measure the same thing. The panel must already be shown and its notebook run
(``lab.open_notebook`` + ``lab.run_all_cells``); ``execute_in_kernel`` reaches its ``panel`` variable.

States: ``empty`` (just built), ``answer`` (an example read right), ``unsure`` and
``not-a-digit`` (a Prediction made in the kernel and shown, so the layout is tested whatever the
detector says about real inputs), ``error`` (a file that is not an image) and ``inside`` (an
example with "look inside" open).
"""

from __future__ import annotations

from lab import execute_in_kernel

WIDTHS = (900, 1200, 1400, 1600)          # px: browser window widths, JupyterLab's file browser open
STATES = ("empty", "answer", "unsure", "not-a-digit", "error", "inside")
CARDS = ("image", "pad", "answer")
WAIT_MS = 60_000                          # a kernel round trip on a busy 2-core machine

# Each card's box relative to the cards' row (so page scrolling does not count), and whether its
# content is cut off (the card's, or the answer's inside it: a fixed size too small for some state).
_BOXES_JS = """(cards) => {
  const row = document.querySelector('.lenet-panel .lenet-cards').getBoundingClientRect();
  const out = {};
  for (const kind of cards) {
    const el = document.querySelector('.lenet-panel .lenet-card-' + kind);
    const r = el.getBoundingClientRect();
    out[kind] = {x: Math.round(r.left - row.left), y: Math.round(r.top - row.top),
                 width: Math.round(r.width), height: Math.round(r.height),
                 clipped: [el, ...el.querySelectorAll('.lenet-answer')].some(
                   e => e.scrollHeight > e.clientHeight + 1 || e.scrollWidth > e.clientWidth + 1)};
  }
  return out;
}"""

_SHOW_PY = """from lenet_utils.predict import Prediction
from lenet_utils.widgets.predict_views import answer_html, bars_html
_p = Prediction('made-up.png', label={label}, confidence={confidence!r}, probabilities={probs!r},
                not_a_digit={not_a_digit!r})
panel.answer.value = answer_html(_p)
panel.bars.value = bars_html(_p.probabilities)
"""


def card_boxes(page) -> dict:
    """``{card: {x, y, width, height, clipped}}`` for the panel's three cards, as laid out now."""
    return page.evaluate(_BOXES_JS, list(CARDS))


def open_file_browser(page) -> None:
    """JupyterLab's left sidebar with the file browser, as a newcomer has it."""
    page.evaluate("() => window.jupyterapp.shell.activateById('filebrowser')")
    page.wait_for_function("() => { const fb = document.getElementById('filebrowser');"
                           " return !!fb && fb.offsetWidth > 100; }", timeout=WAIT_MS)


def _made_up(page, label: int, confidence: float, not_a_digit: bool) -> None:
    rest = (1.0 - confidence) / 9
    probs = [confidence if d == label else rest for d in range(10)]
    out = execute_in_kernel(page, _SHOW_PY.format(label=label, confidence=confidence, probs=probs,
                                                  not_a_digit=not_a_digit))
    assert "Error" not in out, out


def enter_state(page, panel, state: str, tmp_path) -> None:
    """Put the panel (its root locator) into ``state`` and wait until the browser shows it."""
    def shown(name: str) -> None:
        panel.locator(f".lenet-answer[data-state='{name}']").wait_for(timeout=WAIT_MS)

    if state == "empty":
        pass                                                      # the freshly run notebook
    elif state in ("answer", "inside"):
        panel.locator(".lenet-example").click()
        shown("sure")
        if state == "inside":
            if "mod-active" not in (panel.locator(".lenet-inside-toggle").get_attribute("class") or ""):
                panel.locator(".lenet-inside-toggle").click()
            panel.locator(".lenet-inside[data-state='open']").wait_for(timeout=WAIT_MS)
    elif state == "unsure":
        _made_up(page, 3, 0.41, False)
        shown("unsure")
    elif state == "not-a-digit":
        _made_up(page, 3, 0.611, True)
        shown("not-a-digit")
    elif state == "error":
        bad = tmp_path / "not_a_picture.png"
        bad.write_text("hello, I am a text file")
        with page.expect_file_chooser() as chooser:
            panel.locator(".lenet-upload").click()
        chooser.value.set_files(str(bad))
        shown("error")
    else:
        raise ValueError(f"unknown state {state!r}; one of {STATES}")
    page.wait_for_timeout(300)                                    # one more layout pass after the DOM change


def measure(page, panel, tmp_path, widths=WIDTHS, states=STATES, height: int = 1000) -> dict:
    """``{width: {state: card_boxes}}``: each state entered once, measured at every width."""
    sizes: dict[int, dict[str, dict]] = {w: {} for w in widths}
    for state in states:
        enter_state(page, panel, state, tmp_path)
        for w in widths:
            page.set_viewport_size({"width": w, "height": height})
            page.wait_for_timeout(250)
            sizes[w][state] = card_boxes(page)
    return sizes
