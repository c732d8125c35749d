"""`make app`'s page used as a student uses it on a phone (375x812, touch) and on a laptop (1366x768):
an example, an upload, a drawing, "look inside"; after each, where the answer card and the pad are.

Used by ``test_app_browser.py`` (which asserts the answer stays on the screen, the pad keeps its
size and nothing slides sideways) and by ``benchmarks/panel_layout.py`` (which writes the same
boxes to ``benchmarks/results/panel_layout.json``), so both measure the same thing. Every wait is
for a condition (an answer shown, a box that stopped moving), never a fixed sleep.

Boxes are in CSS pixels relative to the viewport (what the student sees without scrolling):
``{x, y, width, height}`` plus the viewport's size and the page's scroll offset.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from lenet_utils.predict import example_images, example_label

PHONE = dict(viewport={"width": 375, "height": 812}, device_scale_factor=2, is_mobile=True, has_touch=True)
LAPTOP = dict(viewport={"width": 1366, "height": 768})
ACTIONS = ("example", "upload", "draw", "inside")       # in this order, each on the page the last one left
WAIT_MS = 60_000                                        # a kernel round trip on a busy 2-core machine
SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"   # gitignored: not committed

# Resolves once ``selectors``' boxes are the same for 8 animation frames running (or after ``ms``):
# the page has finished laying itself out (pictures arriving, Solara sizing its boxes).
_SETTLED_JS = """async ([selectors, ms]) => {
  const boxes = () => JSON.stringify(selectors.map(s => { const e = document.querySelector(s);
    if (!e) return null; const r = e.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; }));
  const frame = () => new Promise(r => requestAnimationFrame(() => r()));
  let last = boxes(), same = 0; const end = performance.now() + ms;
  while (same < 8 && performance.now() < end) { await frame(); const now = boxes();
    same = now === last ? same + 1 : 0; last = now; }
  return same >= 8; }"""
_BOX_JS = """(sel) => { const e = document.querySelector(sel); if (!e) return null; const r = e.getBoundingClientRect();
  return {x: Math.round(r.left), y: Math.round(r.top), width: Math.round(r.width), height: Math.round(r.height),
          viewport: [innerWidth, innerHeight], scroll_y: Math.round(scrollY)}; }"""
WATCHED = {"answer": ".lenet-panel .lenet-card-answer", "pad": ".lenet-panel .lenet-pad",
           "canvas": "canvas.lenet-pad-canvas", "clear": ".lenet-pad-clear", "pad_card": ".lenet-panel .lenet-card-pad",
           "panel": ".lenet-panel", "inside": ".lenet-inside-box"}


def settle(page, ms: int = 10_000) -> bool:
    """Wait until the panel's boxes stop moving; False if they still moved after ``ms``."""
    return page.evaluate(_SETTLED_JS, [list(WATCHED.values()), ms])


def box(page, selector: str) -> dict | None:
    return page.evaluate(_BOX_JS, selector)


def boxes(page) -> dict:
    """``{name: box}`` for every watched part of the panel, once the layout has settled."""
    settle(page)
    return {name: box(page, sel) for name, sel in WATCHED.items()}


def on_screen(b: dict) -> bool:
    """The whole box lies inside the viewport: seen without scrolling."""
    w, h = b["viewport"]
    return b["x"] >= 0 and b["y"] >= 0 and b["x"] + b["width"] <= w and b["y"] + b["height"] <= h


def touch_stroke(page, points) -> None:
    """A finger on the screen: touchStart, touchMoves, touchEnd, through Chromium's DevTools input."""
    cdp = page.context.new_cdp_session(page)
    kinds = ["touchStart"] + ["touchMove"] * (len(points) - 2) + ["touchEnd"]
    for kind, (x, y) in zip(kinds, points):
        cdp.send("Input.dispatchTouchEvent",
                 {"type": kind, "touchPoints": [] if kind == "touchEnd" else [{"x": x, "y": y}]})
    cdp.detach()


def mouse_stroke(page, points) -> None:
    page.mouse.move(*points[0])
    page.mouse.down()
    for p in points[1:]:
        page.mouse.move(*p)
    page.mouse.up()


ON_TOP_JS = """() => {
  const c = document.querySelector("canvas.lenet-pad-canvas");
  if (!c) return false;
  const r = c.getBoundingClientRect();
  return [[0.5, 0.5], [0.1, 0.1], [0.9, 0.9]].every(([fx, fy]) =>
    document.elementFromPoint(r.left + fx * r.width, r.top + fy * r.height) === c);
}"""


def stroke(page, fractions, touch: bool) -> None:
    """One stroke through ``fractions`` of the pad ((0, 0) its top left, (1, 1) its bottom right),
    aimed at where the canvas is now."""
    page.locator("canvas.lenet-pad-canvas").scroll_into_view_if_needed()
    settle(page)
    # A finger lands on what is on top: wait until that is the canvas (on a page just loaded, a whole first stroke
    # went to something over it, and a smiley drawn first thing lost its head).
    page.wait_for_function(ON_TOP_JS, timeout=WAIT_MS)
    c = box(page, "canvas.lenet-pad-canvas")
    points = [(c["x"] + fx * c["width"], c["y"] + fy * c["height"]) for fx, fy in fractions]
    (touch_stroke if touch else mouse_stroke)(page, points)


ONE = [(0.52 - 0.002 * i, 0.12 + 0.038 * i) for i in range(21)]       # a 1, top to bottom


def choose_photo(page, tmp_path: Path) -> int:
    """Upload a PNG example as a phone's camera roll would (named like a photo); return its true label."""
    example = next(p for p in example_images() if p.suffix == ".png")
    target = tmp_path / "photo of my digit.png"
    target.write_bytes(example.read_bytes())
    with page.expect_file_chooser() as chooser:
        page.locator(".lenet-upload").click()
    assert "image/*" in (chooser.value.element.get_attribute("accept") or "")   # a phone offers the camera
    chooser.value.set_files(str(target))
    return example_label(example)


def act(page, action: str, tmp_path: Path, touch: bool) -> None:
    """Do ``action`` as a student would and wait until its answer is shown."""
    answer = page.locator(".lenet-answer")
    if action == "example":
        first = example_images()[0]
        page.locator(".lenet-example").click()
        expect(page.locator(".lenet-message")).to_contain_text(f"{first.name}: {example_label(first)} with",
                                                               timeout=WAIT_MS)
    elif action == "upload":
        choose_photo(page, tmp_path)
        expect(page.locator(".lenet-message")).to_contain_text("photo of my digit.png:", timeout=WAIT_MS)
    elif action == "draw":
        stroke(page, ONE, touch)
        expect(page.locator(".lenet-message")).to_contain_text("your drawing:", timeout=WAIT_MS)
        expect(answer).to_have_attribute("data-label", "1", timeout=WAIT_MS)
    elif action == "inside":
        page.locator(".lenet-inside-toggle").click()
        expect(page.locator(".lenet-inside[data-state='open'] .lenet-inside-tile")).to_have_count(6 + 16,
                                                                                                  timeout=WAIT_MS)
    else:
        raise ValueError(f"unknown action {action!r}; one of {ACTIONS}")


def walk(page, tmp_path: Path, touch: bool, shots: Path | None = None, tag: str = "") -> dict:
    """``{state: boxes}`` for the page as opened (``start``) and after each of :data:`ACTIONS`;
    a screenshot of the screen (the viewport, what the student sees) per state into ``shots``."""
    out = {"start": boxes(page)}
    if shots is not None:
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shots / f"{tag}start.png"))
    for action in ACTIONS:
        act(page, action, tmp_path, touch)
        out[action] = boxes(page)
        if shots is not None:
            page.screenshot(path=str(shots / f"{tag}{action}.png"))
    return out


def pad_strokes(page, touch: bool, shots: Path | None = None, tag: str = "") -> dict:
    """The pad's boxes with the pad clear, after one stroke and after a second one."""
    page.locator(".lenet-pad-clear").click()
    expect(page.locator(".lenet-message")).to_contain_text("The pad is clear", timeout=WAIT_MS)
    out = {"clear": boxes(page)}
    for n, fractions in ((1, ONE), (2, [(0.3 + 0.02 * i, 0.2) for i in range(15)])):
        stroke(page, fractions, touch)
        expect(page.locator(".lenet-pad-hint")).to_have_text(f"{n} stroke{'s' if n > 1 else ''}", timeout=WAIT_MS)
        expect(page.locator(".lenet-message")).to_contain_text("your drawing:", timeout=WAIT_MS)
        out[f"{n} stroke{'s' if n > 1 else ''}"] = boxes(page)
    if shots is not None:
        page.screenshot(path=str(shots / f"{tag}two-strokes.png"))
    return out


# What the upload button shows: the words CSS draws (::after) and the width of its own text
# (ipywidgets' "description (count)", which the panel hides: 0 px wide when hidden).
_UPLOAD_LABEL_JS = """(sel) => { const b = document.querySelector(sel);
  const range = document.createRange(); let width = 0;
  for (const n of b.childNodes) if (n.nodeType === 3) { range.selectNodeContents(n);
    width = Math.max(width, range.getBoundingClientRect().width); }
  return {label: getComputedStyle(b, '::after').content.replace(/^"|"$/g, ''), text_width: width,
          button_width: b.getBoundingClientRect().width}; }"""


def upload_label(page, selector: str = ".lenet-upload") -> dict:
    """``{label, text_width, button_width}`` of the upload button as drawn."""
    return page.evaluate(_UPLOAD_LABEL_JS, selector)
