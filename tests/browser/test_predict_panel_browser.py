"""The predict panel in a real browser: JupyterLab serving a copy of the notebooks, headless
Chromium. Opens 05_predict_panel, runs every cell, then uses the panel as a person would: uploads
a PNG through the file chooser, presses "Try an example", draws a digit on the pad with the mouse
(and a dash, which it calls no digit), shows the steps, and uploads a file that is not an image. A
second test puts the panel through every state (empty, answer, unsure, not a digit, error, look
inside) at window widths from 900 to 1600 px with the file browser open, and checks that no card
moves or changes size; it saves a screenshot of the look-inside view. Print the sizes with
``pytest -s``."""

from __future__ import annotations

import pytest
from lab import cell_errors, execution_counts, open_notebook, run_all_cells
from panel_states import CARDS, STATES, WIDTHS, measure, open_file_browser
from phone_states import upload_label
from PIL import Image
from playwright.sync_api import expect

from lenet_utils.images.preprocess import STAGES
from lenet_utils.predict import example_images, example_label

NOTEBOOK = "05_predict_panel.ipynb"
ANSWER_TIMEOUT = 60_000  # ms: a kernel round trip on a busy 2-core machine


@pytest.fixture
def panel(jupyterlab, browser_page):
    """The notebook opened and run; the panel's root element."""
    open_notebook(browser_page, jupyterlab, NOTEBOOK)
    run_all_cells(browser_page)
    assert cell_errors(browser_page) == []
    assert None not in execution_counts(browser_page), "some cells did not run"
    root = browser_page.locator(".lenet-panel")
    expect(root).to_have_count(1)
    root.scroll_into_view_if_needed()
    expect(root.locator(".lenet-title")).to_have_text("What digit is this? Ask LeNet-5")
    return root


def answer_of(panel):
    return panel.locator(".lenet-answer")


def test_upload_example_drawing_and_a_bad_file_in_jupyterlab(panel, browser_page, tmp_path):
    page = browser_page

    # 1. Upload a PNG through the browser's file chooser.
    example = next(p for p in example_images() if p.suffix == ".png")
    upload = tmp_path / "my digit.png"
    upload.write_bytes(example.read_bytes())
    with page.expect_file_chooser() as chooser:
        panel.locator(".lenet-upload").click()
    chooser.value.set_files(str(upload))
    expect(answer_of(panel)).to_have_attribute("data-label", str(example_label(example)), timeout=ANSWER_TIMEOUT)
    expect(panel.locator(".lenet-message")).to_contain_text(f"my digit.png: {example_label(example)} with")
    expect(panel.locator(".lenet-digit")).to_have_text(str(example_label(example)))
    expect(panel.locator(".lenet-bar-col")).to_have_count(10)
    label = upload_label(page)                                              # says what it does, no "(1)"
    assert label["label"] == "Upload a photo of a digit" and label["text_width"] == 0, label
    w, h = Image.open(example).size
    expect(panel.locator(".lenet-card-image .lenet-card-note")).to_have_text(f"my digit.png, {w}x{h} px")

    # 2. Try an example: the first of data/examples, read right.
    first = example_images()[0]
    panel.locator(".lenet-example").click()
    expect(panel.locator(".lenet-message")).to_contain_text(f"{first.name}: {example_label(first)} with",
                                                            timeout=ANSWER_TIMEOUT)
    expect(panel.locator(".lenet-message")).to_contain_text("(right)")
    expect(answer_of(panel)).to_have_attribute("data-label", str(example_label(first)))

    # 3. Draw a 1 on the pad with the mouse: one stroke from top to bottom.
    canvas = panel.locator("canvas.lenet-pad-canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    x = box["x"] + box["width"] * 0.5
    page.mouse.move(x + 6, box["y"] + box["height"] * 0.12)
    page.mouse.down()
    for i in range(1, 21):
        page.mouse.move(x + 6 - 0.6 * i, box["y"] + box["height"] * (0.12 + 0.038 * i))
    page.mouse.up()
    expect(panel.locator(".lenet-message")).to_contain_text("your drawing:", timeout=ANSWER_TIMEOUT)
    expect(answer_of(panel)).to_have_attribute("data-label", "1")
    expect(panel.locator(".lenet-pad-hint")).to_have_text("1 stroke")
    assert canvas.bounding_box() == box, "the pad changed its size or place after a stroke"
    expect(panel.locator(".lenet-card-image .lenet-card-note")).to_have_text("your drawing is on the pad")

    # 3b. A dash is no digit: the panel says so instead of a confident answer (the closest digit in small print).
    panel.locator(".lenet-pad-clear").click()
    expect(panel.locator(".lenet-message")).to_contain_text("The pad is clear", timeout=ANSWER_TIMEOUT)
    page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.5)
    page.mouse.down()
    for i in range(1, 21):
        page.mouse.move(box["x"] + box["width"] * (0.2 + 0.03 * i), box["y"] + box["height"] * 0.5)
    page.mouse.up()
    expect(answer_of(panel)).to_have_attribute("data-state", "not-a-digit", timeout=ANSWER_TIMEOUT)
    expect(answer_of(panel)).to_contain_text("This doesn't look like a digit")
    expect(answer_of(panel)).to_contain_text("closest digit:")

    # 4. Show the steps: one tile per stage; then clear the pad.
    panel.locator(".lenet-steps-toggle").click()
    expect(panel.locator(".lenet-step")).to_have_count(len(STAGES), timeout=ANSWER_TIMEOUT)
    panel.locator(".lenet-pad-clear").click()
    expect(panel.locator(".lenet-message")).to_contain_text("The pad is clear", timeout=ANSWER_TIMEOUT)
    expect(answer_of(panel)).to_have_attribute("data-label", "")


    # 5. A file that is not an image: a message in the panel, no traceback in the notebook.
    bad = tmp_path / "not_a_picture.png"
    bad.write_text("hello, I am a text file")
    with page.expect_file_chooser() as chooser:
        panel.locator(".lenet-upload").click()
    chooser.value.set_files(str(bad))
    message = panel.locator(".lenet-message")
    expect(message).to_have_attribute("data-error", "1", timeout=ANSWER_TIMEOUT)
    expect(message).to_contain_text("not_a_picture.png: not an image")
    expect(page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")).to_have_count(0)
    assert cell_errors(page) == []


def test_cards_keep_their_place_and_size_in_every_state_and_width(panel, browser_page, tmp_path):
    page = browser_page
    open_file_browser(page)
    sizes = measure(page, panel, tmp_path)
    for width in WIDTHS:
        print(f"\n{width} px:", {card: (box["width"], box["height"]) for card, box in sizes[width]["empty"].items()},
              "positions:", {card: (box["x"], box["y"]) for card, box in sizes[width]["empty"].items()})
        first = sizes[width][STATES[0]]
        for state in STATES:
            boxes = sizes[width][state]
            assert boxes == first, f"at {width} px the cards in state {state!r} differ from {STATES[0]!r}: {boxes}"
            assert not any(box["clipped"] for box in boxes.values()), f"{state} at {width} px: a card cuts its content"
        if width >= 1400:                                  # wide enough: the three cards side by side
            assert len({first[card]["y"] for card in CARDS}) == 1, f"at {width} px a card wrapped: {first}"
    # every width: each card the same size (the layout may only wrap, never resize a card)
    assert len({tuple((b["width"], b["height"]) for b in sizes[w]["empty"].values()) for w in WIDTHS}) == 1

    # The look-inside view, photographed: the input, 6 + 16 maps, the top five contributions.
    page.set_viewport_size({"width": 1400, "height": 1000})
    inside = panel.locator(".lenet-inside[data-state='open']")
    expect(inside.locator(".lenet-inside-tile")).to_have_count(6 + 16)
    expect(inside.locator(".lenet-inside-row")).to_have_count(5)
    inside.scroll_into_view_if_needed()
    shot = tmp_path / "look_inside.png"
    inside.screenshot(path=str(shot))
    img = Image.open(shot).convert("L")
    assert img.width > 600 and img.height > 150, img.size
    low, high = img.getextrema()
    assert high - low > 200 and len(img.getcolors(1 << 16)) > 20, "the screenshot is blank"
