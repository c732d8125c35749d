"""`make app`, the standalone page, in a real browser: the Solara page (app/predict_page.py), started
as `make app` starts it (app/servers.py) on 127.0.0.1, in headless Chromium. Desktop: upload,
example, draw with the mouse, share. Phone (375 px, touch): draw with a finger (touch events),
upload through the file chooser, look inside, no sideways scrolling. From 900 to 1600 px wide the cards keep
their place and size whatever the panel shows. Two visitors share; the lecturer's
dashboard, refreshing itself, shows both. Then a smoke test of `make app-voila` (the page loads,
an example gets its answer). The browser may reach 127.0.0.1 only: anything else is aborted and
fails the test. A missing browser, Solara or offline asset FAILS these tests with the fix."""

from __future__ import annotations

import runpy
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from panel_states import CARDS, WIDTHS, measure
from playwright.sync_api import expect

from lenet_utils.classroom.store import ClassDB
from lenet_utils.predict import example_images, example_label

REPO = Path(__file__).resolve().parents[2]
ANSWER = 60_000       # ms
PHONE = dict(viewport={"width": 375, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True)
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
    example = next(p for p in example_images() if p.suffix == ".png")
    target = tmp_path / "photo of my digit.png"
    target.write_bytes(example.read_bytes())
    with page.expect_file_chooser() as chooser:
        page.locator(".lenet-upload").click()
    assert "image/*" in (chooser.value.element.get_attribute("accept") or "")   # a phone offers the camera
    chooser.value.set_files(str(target))
    expect(page.locator(".lenet-answer")).to_have_attribute("data-label", str(example_label(example)))


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


def touch_stroke(page, points):
    """A finger on the screen: touchStart, touchMoves, touchEnd, through Chromium's DevTools input."""
    cdp = page.context.new_cdp_session(page)
    kinds = ["touchStart"] + ["touchMove"] * (len(points) - 2) + ["touchEnd"]
    for kind, (x, y) in zip(kinds, points):
        cdp.send("Input.dispatchTouchEvent",
                 {"type": kind, "touchPoints": [] if kind == "touchEnd" else [{"x": x, "y": y}]})
        page.wait_for_timeout(15)


SIDEWAYS = """() => { const wider = [];
  for (let e = document.querySelector('.lenet-panel'); e; e = e.parentElement)
    if (e.scrollWidth > e.clientWidth + 1) wider.push(`${e.tagName}.${e.className} ${e.scrollWidth}>${e.clientWidth}`);
  return wider; }"""
PANEL_HEIGHT = "Math.ceil(document.querySelector('.lenet-app').getBoundingClientRect().height) + 40"


def test_phone_draw_with_a_finger_upload_and_no_sideways_scrolling(chromium, app, tmp_path):
    page = open_page(chromium, app, **PHONE)
    box = pad_box(page)
    x = box["x"] + box["width"] / 2
    touch_stroke(page, [(x - 0.4 * i, box["y"] + box["height"] * (0.12 + 0.038 * i)) for i in range(21)])
    expect(page.locator(".lenet-message")).to_contain_text("your drawing:")
    expect(page.locator(".lenet-answer")).to_have_attribute("data-label", "1")
    assert page.evaluate("window.scrollY") >= 0                    # the page did not jump away
    upload(page, tmp_path)
    page.locator(".lenet-inside-toggle").click()                   # look inside fits a phone too
    expect(page.locator(".lenet-inside[data-state='open'] .lenet-inside-tile")).to_have_count(6 + 16)
    page.wait_for_timeout(500)
    width = page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")
    assert width <= 375, f"the page is {width} px wide at 375 px: it scrolls sideways"
    wider = page.evaluate(SIDEWAYS)           # Solara's page scrolls inside a box, not the document
    assert not wider, f"at 375 px these boxes around the panel scroll sideways (scrollWidth > clientWidth): {wider}"
    shot = app.base / "app-375px.png"
    page.set_viewport_size({"width": 375, "height": page.evaluate(PANEL_HEIGHT)})   # all of it in one picture
    page.screenshot(path=str(shot))
    print(f"\nscreenshot at 375 px: {shot}")
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
