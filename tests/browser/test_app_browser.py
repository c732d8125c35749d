"""`make app`, the standalone page, in a real browser: the Solara page (app/predict_page.py), started
as `make app` starts it (app/servers.py) on 127.0.0.1, in headless Chromium. Desktop: upload,
example, draw with the mouse, share (the student picks the label). Phone (375x812, touch): after an
example, an upload, a drawing made with a finger and "look inside", the answer card (the digit, how
sure, the ten bars) is on the screen without scrolling; the pad keeps its size through its strokes
with its Clear button whole; no sideways scrolling; a smiley cannot be shared as a digit. Laptop
(1366x768): the same answer-on-screen check, and nothing moves sideways when "look inside" opens.
Screenshots of every state at 375 and 1366 px go to build/screenshots/ (not committed). From 900 to
1600 px wide the cards keep their place and size whatever the panel shows. Two visitors share; the
lecturer's dashboard, refreshing itself, shows both. Then a smoke test of `make app-voila` (the page
loads, an example gets its answer). The browser may reach 127.0.0.1 only: anything else is aborted
and fails the test. A missing browser, Solara or offline asset FAILS these tests with the fix."""

from __future__ import annotations

import math
import runpy
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from panel_states import CARDS, WIDTHS, measure
from phone_states import (
    ACTIONS,
    LAPTOP,
    PHONE,
    SHOTS,
    box,
    choose_photo,
    on_screen,
    pad_strokes,
    stroke,
    upload_label,
    walk,
)
from playwright.sync_api import expect

from lenet_utils.classroom.store import ClassDB
from lenet_utils.predict import example_images, example_label

REPO = Path(__file__).resolve().parents[2]
ANSWER = 60_000       # ms
LOCAL = ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")


def _servers() -> SimpleNamespace:
    """``app/servers.py`` (start/stop either server), run from its file: ``app/`` is not a package."""
    return SimpleNamespace(**runpy.run_path(str(REPO / "app" / "servers.py"), run_name="lenet_app_servers"))


servers = _servers()


def serve(tool: str, base: Path):
    try:
        server = servers.start(tool, base, env={"LENET_CLASS_DB": str(base / "class.sqlite")})
    except RuntimeError as err:
        pytest.fail(f"the {tool} page's server did not start: {err}", pytrace=False)
    server.db_path = base / "class.sqlite"
    server.base = base
    return server


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """`make app`'s server: Solara."""
    server = serve("solara", tmp_path_factory.mktemp("app"))
    yield server
    servers.stop(server)


def open_page(chromium, app, **context):
    """A visitor whose browser may reach 127.0.0.1 only: ``page.blocked`` lists the other requests
    (aborted), ``page.failed`` the local ones answered with an error (a missing offline asset)."""
    ctx = chromium.new_context(**context)
    page = ctx.new_page()
    page.blocked, page.failed = [], []

    def route(r):
        if r.request.url.startswith(LOCAL):
            r.continue_()
        else:
            page.blocked.append(r.request.url)
            r.abort()

    ctx.route("**/*", route)
    page.on("response", lambda resp: resp.status >= 400 and page.failed.append(f"{resp.status} {resp.url}"))
    page.set_default_timeout(ANSWER)
    page.goto(app.url, timeout=180_000)
    expect(page.locator(".lenet-panel")).to_be_visible(timeout=180_000)
    return page


def close_offline(page, allowed: str | None = None):
    """Close the visitor; it must have asked no other host (but ``allowed``) and missed no local file."""
    page.context.close()
    assert not [u for u in page.blocked if not (allowed and allowed in u)], f"asked another host: {page.blocked}"
    assert not page.failed, f"local requests failed: {page.failed}"


def upload(page, tmp_path):
    label = choose_photo(page, tmp_path)
    expect(page.locator(".lenet-answer")).to_have_attribute("data-label", str(label))


def test_desktop_upload_example_draw_and_share(chromium, app, tmp_path):
    page = open_page(chromium, app, viewport={"width": 1280, "height": 900})
    expect(page.locator(".lenet-model")).to_be_hidden()            # no model chooser, no code
    upload(page, tmp_path)
    expect(page.locator(".lenet-bar-col")).to_have_count(10)

    first = example_images()[0]
    page.locator(".lenet-example").click()
    expect(page.locator(".lenet-message")).to_contain_text(f"{first.name}: {example_label(first)} with")

    box = pad_box(page)
    x = box["x"] + box["width"] / 2
    page.mouse.move(x, box["y"] + box["height"] * 0.12)
    page.mouse.down()
    for i in range(1, 21):
        page.mouse.move(x - 0.5 * i, box["y"] + box["height"] * (0.12 + 0.038 * i))
    page.mouse.up()
    expect(page.locator(".lenet-message")).to_contain_text("your drawing:")
    expect(page.locator(".lenet-answer")).to_have_attribute("data-label", "1")

    expect(page.locator(".lenet-share-button")).to_be_disabled()   # no guess preset: the student says
    page.locator(".lenet-share-label select").select_option("1")
    page.locator(".lenet-share-nickname input").fill("desk")
    page.locator(".lenet-share-button").click()
    expect(page.locator(".lenet-share-status[data-shared]")).to_have_count(1)
    shares = ClassDB(app.db_path).shares()
    assert [(s.nickname, s.true_label, s.source) for s in shares][-1] == ("desk", 1, "drawing")
    close_offline(page)


APP_STATES = ("empty", "answer", "error", "inside")   # unsure and not-a-digit need the kernel: JupyterLab's test


def test_desktop_cards_keep_their_place_and_size_in_every_state(chromium, app, tmp_path):
    page = open_page(chromium, app, viewport={"width": 1400, "height": 1000})
    sizes = measure(page, page.locator(".lenet-panel"), tmp_path, states=APP_STATES)
    for width in WIDTHS:
        first = sizes[width]["empty"]
        print(f"\napp at {width} px:", {card: (b["x"], b["y"], b["width"], b["height"]) for card, b in first.items()})
        for state in APP_STATES:
            assert sizes[width][state] == first, f"at {width} px the cards in state {state!r} moved: {sizes[width]}"
            assert not any(b["clipped"] for b in sizes[width][state].values()), (width, state)
        assert len({first[card]["y"] for card in CARDS}) == 1, f"at {width} px a card wrapped: {first}"
    close_offline(page)


def pad_box(page, timeout: float = 20.0) -> dict:
    """The drawing pad's box once the page has stopped moving: on a busy machine the panel is still
    laying itself out (pictures arriving, Solara's boxes sizing) when the pad first appears, and a
    stroke aimed at where it was lands beside it."""
    canvas = page.locator("canvas.lenet-pad-canvas")
    canvas.scroll_into_view_if_needed()
    box, deadline = canvas.bounding_box(), time.monotonic() + timeout
    while time.monotonic() < deadline:
        page.wait_for_timeout(300)
        canvas.scroll_into_view_if_needed()
        again = canvas.bounding_box()
        if again == box:
            return box
        box = again
    raise AssertionError(f"the drawing pad kept moving for {timeout:.0f} s: {box}")


SIDEWAYS = """() => { const wider = [];
  for (let e = document.querySelector('.lenet-panel'); e; e = e.parentElement)
    if (e.scrollWidth > e.clientWidth + 1) wider.push(`${e.tagName}.${e.className} ${e.scrollWidth}>${e.clientWidth}`);
  return wider; }"""
PANEL_HEIGHT = "Math.ceil(document.querySelector('.lenet-app').getBoundingClientRect().height) + 40"


def test_phone_the_answer_stays_on_screen_and_the_pad_keeps_its_size(chromium, app, tmp_path):
    page = open_page(chromium, app, **PHONE)
    shots = SHOTS / "375px"
    states = walk(page, tmp_path, touch=True, shots=shots)    # example, upload, draw (a finger), look inside
    for action in ACTIONS:
        answer = states[action]["answer"]
        print(f"\n375 px after {action}: answer card at y={answer['y']}, {answer['width']}x{answer['height']}")
        assert on_screen(answer), f"after {action} the answer card is not wholly on the 375x812 screen: {answer}"
    expect(page.locator(".lenet-card-image .lenet-card-note")).to_have_text("your drawing is on the pad")
    label = upload_label(page)
    assert label["label"] == "Upload a photo of a digit" and label["text_width"] == 0, label   # no "(1)"

    strokes = pad_strokes(page, touch=True, shots=shots)       # clear, one stroke, two strokes
    first = strokes["clear"]
    for state, b in strokes.items():
        assert (b["pad"]["width"], b["pad"]["height"]) == (first["pad"]["width"], first["pad"]["height"]), (state, b)
        assert (b["canvas"]["width"], b["canvas"]["height"]) == (202, 202), (state, b["canvas"])
        clear, card = b["clear"], b["pad_card"]
        assert on_screen(clear) and clear["y"] + clear["height"] <= card["y"] + card["height"], (state, clear, card)
    print(f"pad box {first['pad']['width']}x{first['pad']['height']} before and after two strokes")

    width = page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")
    assert width <= 375, f"the page is {width} px wide at 375 px: it scrolls sideways"
    wider = page.evaluate(SIDEWAYS)           # Solara's page scrolls inside a box, not the document
    assert not wider, f"at 375 px these boxes around the panel scroll sideways (scrollWidth > clientWidth): {wider}"
    page.set_viewport_size({"width": 375, "height": page.evaluate(PANEL_HEIGHT)})   # all of it in one picture
    page.screenshot(path=str(shots / "whole-page.png"))
    print(f"screenshots at 375 px: {shots}")
    close_offline(page)


def test_laptop_the_answer_stays_on_screen_and_look_inside_does_not_move_the_panel(chromium, app, tmp_path):
    page = open_page(chromium, app, **LAPTOP)
    states = walk(page, tmp_path, touch=False, shots=SHOTS / "1366px")
    for action in ACTIONS:
        assert on_screen(states[action]["answer"]), (action, states[action]["answer"])
    before, after = states["draw"], states["inside"]
    for part in ("panel", "answer", "pad"):
        assert (after[part]["x"], after[part]["width"]) == (before[part]["x"], before[part]["width"]), \
            f"the {part} moved sideways when look inside opened: {before[part]} -> {after[part]}"
    inside = after["inside"]
    assert inside["height"] > 150 and on_screen(inside), f"look inside opened off the 1366x768 screen: {inside}"
    print(f"\n1366 px: panel x={after['panel']['x']} before and after look inside; its view {inside}")
    strokes = pad_strokes(page, touch=False, shots=SHOTS / "1366px")
    assert len({(b["pad"]["width"], b["pad"]["height"], b["canvas"]["width"]) for b in strokes.values()}) == 1, strokes
    assert all(on_screen(b["clear"]) for b in strokes.values()), strokes
    close_offline(page)


def arc(cx: float, cy: float, r: float, a0: float = 0.0, a1: float = 2 * math.pi, n: int = 24) -> list:
    """Points along a circle's arc, in fractions of the pad."""
    angles = [a0 + (a1 - a0) * t / n for t in range(n + 1)]
    return [(cx + r * math.cos(a), cy + r * math.sin(a)) for a in angles]


# a round head, two dot eyes, a smile (test_share_box.py's face, on a pad of any size)
SMILEY = [arc(0.5, 0.5, 0.375), [(0.36, 0.375)] * 2, [(0.64, 0.375)] * 2, arc(0.5, 0.525, 0.25, 0.15 * math.pi,
                                                                                0.85 * math.pi, 12)]


def test_phone_a_smiley_cannot_be_shared_as_a_digit(chromium, app):
    page = open_page(chromium, app, **PHONE)
    for fractions in SMILEY:                                   # a face, drawn with a finger
        stroke(page, fractions, touch=True)
    expect(page.locator(".lenet-pad-hint")).to_have_text("4 strokes")
    expect(page.locator(".lenet-message")).to_contain_text("your drawing:")
    expect(page.locator(".lenet-answer")).not_to_have_attribute("data-label", "")
    answer, message = page.locator(".lenet-answer"), page.locator(".lenet-message").inner_text()
    print(f"\nthe smiley: {message!r}, state {answer.get_attribute('data-state')}")
    button, label = page.locator(".lenet-share-button"), page.locator(".lenet-share-label select")
    expect(button).to_be_disabled()                           # whatever the network read, no label is preset
    assert label.evaluate("s => s.selectedIndex") == -1, "a label is preselected"
    page.screenshot(path=str(SHOTS / "375px" / "smiley.png"))
    before = len(ClassDB(app.db_path).shares())
    button.click(force=True)                                  # pressed anyway: nothing is stored
    expect(page.locator(".lenet-share-status[data-shared]")).to_have_count(0)
    assert len(ClassDB(app.db_path).shares()) == before

    # A dash, which the detector flags: the answer leads with "This doesn't look like a digit", the
    # closest digit follows with no percentage, all of it inside the phone's answer card.
    page.locator(".lenet-pad-clear").click()
    expect(page.locator(".lenet-message")).to_contain_text("The pad is clear")
    stroke(page, [(0.2 + 0.03 * i, 0.5) for i in range(21)], touch=True)
    expect(answer).to_have_attribute("data-state", "not-a-digit")
    text, message = answer.inner_text(), page.locator(".lenet-message").inner_text()
    assert text.startswith("This doesn't look like a digit") and "closest digit:" in text, text
    assert "%" not in text and "%" not in message and "doesn't look like a digit" in message, (text, message)
    assert answer.evaluate("e => e.scrollHeight <= e.clientHeight + 1 && e.scrollWidth <= e.clientWidth + 1"), \
        "the not-a-digit answer is cut off"
    card, said = box(page, ".lenet-card-answer"), box(page, ".lenet-answer")
    assert on_screen(card) and said["x"] + said["width"] <= card["x"] + card["width"] - 8, (said, card)
    expect(page.locator(".lenet-share-status[data-not-a-digit]")).to_have_count(1)
    expect(button).to_be_disabled()
    page.screenshot(path=str(SHOTS / "375px" / "not-a-digit.png"))
    close_offline(page)


def test_two_visitors_share_and_the_dashboard_shows_both(chromium, app):
    from lenet_utils.widgets.class_dashboard import ClassDashboard

    db = ClassDB(app.db_path)
    dash = ClassDashboard(db, every=0.5)            # the lecturer's dashboard, refreshing itself
    try:
        before = len(dash.gallery)
        pages = [open_page(chromium, app, viewport={"width": 1000, "height": 900}), open_page(chromium, app, **PHONE)]
        for i, page in enumerate(pages):
            page.locator(".lenet-example").click()
            expect(page.locator(".lenet-answer")).not_to_have_attribute("data-label", "")
            page.locator(".lenet-share-nickname input").fill(f"visitor{i}")
            page.locator(".lenet-share-button").click()
            expect(page.locator(".lenet-share-status[data-shared]")).to_have_count(1)
        deadline = time.monotonic() + 10
        while "visitor1" not in dash.names.value and time.monotonic() < deadline:
            time.sleep(0.2)                          # the refresh thread redraws after it reads
        assert len(dash.gallery) == before + 2
        assert {"visitor0", "visitor1"} <= set(dash.gallery.nicknames)
        assert "visitor0" in dash.names.value and "visitor1" in dash.names.value
        # each visit owns only its own share: the second cannot delete the first's
        expect(pages[1].locator(".lenet-share-mine select option")).to_have_count(1)
        for page in pages:
            close_offline(page)
    finally:
        dash.stop()


def test_make_app_voila_still_serves_the_page(chromium, tmp_path_factory):
    """The documented alternative: Voila's page loads and an example gets its answer, offline but for
    Voila's own Font Awesome stylesheet (icons the panel does not use), which is aborted."""
    server = serve("voila", tmp_path_factory.mktemp("app-voila"))
    try:
        page = open_page(chromium, server, **PHONE)
        page.locator(".lenet-example").click()
        first = example_images()[0]
        expect(page.locator(".lenet-message")).to_contain_text(f"{first.name}: {example_label(first)} with")
        expect(page.locator(".lenet-bar-col")).to_have_count(10)
        close_offline(page, allowed="fontawesome")
    finally:
        servers.stop(server)
