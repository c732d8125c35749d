"""`make app`, the standalone page, in a real browser: Voila serving app/voila_page.ipynb on
127.0.0.1, headless Chromium. Desktop: upload, example, draw with the mouse, share. Phone
(375 px, touch): draw with a finger (touch events), upload through the file chooser, no sideways
scrolling. Two visitors share; the lecturer's dashboard, refreshing itself, shows both.
A missing browser or a server that does not start FAILS these tests."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "app"))
from servers import start, stop  # noqa: E402

from lenet_utils.classdb import ClassDB  # noqa: E402
from lenet_utils.predict import example_images, example_label  # noqa: E402

ANSWER = 60_000       # ms
PHONE = dict(viewport={"width": 375, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    base = tmp_path_factory.mktemp("app")
    try:
        server = start("voila", base, env={"LENET_CLASS_DB": str(base / "class.sqlite")})
    except RuntimeError as err:
        pytest.fail(f"the app's server did not start: {err}", pytrace=False)
    server.db_path = base / "class.sqlite"
    server.base = base
    yield server
    stop(server)


def open_page(chromium, app, **context):
    page = chromium.new_context(**context).new_page()
    page.set_default_timeout(ANSWER)
    page.goto(app.url, timeout=180_000)
    expect(page.locator(".lenet-panel")).to_be_visible(timeout=180_000)
    return page


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

    canvas = page.locator("canvas.lenet-pad-canvas")
    box = canvas.bounding_box()
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
    page.context.close()


def touch_stroke(page, points):
    """A finger on the screen: touchStart, touchMoves, touchEnd, through Chromium's DevTools input."""
    cdp = page.context.new_cdp_session(page)
    kinds = ["touchStart"] + ["touchMove"] * (len(points) - 2) + ["touchEnd"]
    for kind, (x, y) in zip(kinds, points):
        cdp.send("Input.dispatchTouchEvent",
                 {"type": kind, "touchPoints": [] if kind == "touchEnd" else [{"x": x, "y": y}]})
        page.wait_for_timeout(15)


def test_phone_draw_with_a_finger_upload_and_no_sideways_scrolling(chromium, app, tmp_path):
    page = open_page(chromium, app, **PHONE)
    canvas = page.locator("canvas.lenet-pad-canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    x = box["x"] + box["width"] / 2
    touch_stroke(page, [(x - 0.4 * i, box["y"] + box["height"] * (0.12 + 0.038 * i)) for i in range(21)])
    expect(page.locator(".lenet-message")).to_contain_text("your drawing:")
    expect(page.locator(".lenet-answer")).to_have_attribute("data-label", "1")
    assert page.evaluate("window.scrollY") >= 0                    # the page did not jump away
    upload(page, tmp_path)
    page.wait_for_timeout(500)
    width = page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")
    assert width <= 375, f"the page is {width} px wide at 375 px: it scrolls sideways"
    shot = app.base / "app-375px.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"\nscreenshot at 375 px: {shot}")
    page.context.close()


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
            page.context.close()
    finally:
        dash.stop()
