"""Notebook 05's sentences checked against its outputs, and the upload-safety appendix it points to."""

from __future__ import annotations

import contextlib
import io
import re

from test_claims_02 import code_and_output
from test_notebook_claims import REPO, output_matching, outputs, percent
from test_notebook_claims import markdown as _markdown


def markdown(notebook: str) -> str:
    """The lesson's text with its line breaks as spaces: a phrase is found wherever its lines break."""
    return " ".join(_markdown(notebook).split())

APPENDIX = REPO / "docs" / "appendix" / "upload_safety.md"


def test_05_the_naive_smudge_is_where_the_photo_has_its_4():
    """Section 2: "about 5 pixels wide and 10 tall, a little right of and below the middle": the photo's ink
    box (section 3's output) scaled from the photo to 28x28, as the naive resize does."""
    size = output_matching("05_predict_panel.ipynb", r"^1\. oriented\s+(\d+) x (\d+)")
    box = output_matching("05_predict_panel.ipynb",
                          r"ink box \(left, top, right, bottom\): \((\d+), (\d+), (\d+), (\d+)\)")
    w, h = int(size[1]), int(size[2])
    left, top, right, bottom = (int(v) for v in box.groups())
    sx, sy = 28 / w, 28 / h
    assert round((right - left) * sx) == 5 and round((bottom - top) * sy) == 10, (box[0], size[0])
    cx, cy = (left + right) / 2 * sx, (top + bottom) / 2 * sy
    assert 14 < cx < 20 and 14 < cy < 20, (cx, cy)                # right of and below the middle, not a corner
    text = markdown("05_predict_panel.ipynb")
    assert "about 5 pixels wide and 10 tall, a little right of and below the middle" in text
    assert f"scaled from {w}×{h} down to 28×28" in text and "a few pixels wide, in a corner" not in text


def test_05_styles_are_drawn_at_random():
    """Section 6: "between 34 and 46 per style: the `n` column"."""
    table = output_matching("05_predict_panel.ipynb", r"^upload style.*\n((?:(?!-).+\n)+)")
    counts = [int(line.split()[1]) for line in table[1].strip().splitlines()]
    assert len(counts) == 6 and sum(counts) == 240
    assert f"between {min(counts)} and {max(counts)} per style" in markdown("05_predict_panel.ipynb")
    assert "40 per style" not in markdown("05_predict_panel.ipynb")


def test_05_standard_error_of_240_uploads():
    """Section 6: "A sample of 240 pins an accuracy near 99% down to about 0.6 of a point"."""
    found = output_matching("05_predict_panel.ipynb", r"^all\s+(\d+)\s+\S+\s+\S+\s+([\d.]+%)")
    p, n = percent(found[2]), int(found[1])
    assert round((p * (1 - p) / n) ** 0.5 * 100, 1) == 0.6
    assert "about 0.6 of a point, its standard error" in markdown("05_predict_panel.ipynb")


def test_05_prediction_checked_after_the_measurement():
    texts = outputs("05_predict_panel.ipynb")
    measured = next(i for i, t in enumerate(texts) if t.startswith("upload style"))
    assert "`prediction` is still None" in texts[measured + 1]


def test_05_bomb_moved_to_its_appendix_and_the_page_says_what_its_code_prints():
    """Point 6 and the "70 bytes" that was a 1,226-byte file: the appendix builds the bomb from the 7's
    PNG, says its true size, and prints the refusal; this runs that code and compares."""
    text = markdown("05_predict_panel.ipynb")
    assert "`docs/appendix/upload_safety.md`" in text and "70 bytes" not in text
    assert "claims_size" not in "".join(outputs("05_predict_panel.ipynb"))
    page = APPENDIX.read_text()
    size = (REPO / "data" / "examples" / "7_marker_scan.png").stat().st_size
    assert f"`data/examples/7_marker_scan.png`, {size:,} bytes" in page
    code, shown = code_and_output(page)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, str(APPENDIX), "exec"), {})
    assert printed.getvalue() == shown
    assert re.search(rf"in a file of the same {size:,} bytes", page)


def test_05_appendix_without_the_crc_fix_the_file_is_not_an_image():
    """upload_safety.md: "Without the CRC fix the file is refused as "not an image"."""
    import struct

    from lenet_utils.paths import examples_dir
    from lenet_utils.predict import predict_image

    assert 'Without the CRC fix the file is refused as "not an image"' in APPENDIX.read_text()
    png = bytearray((examples_dir() / "7_marker_scan.png").read_bytes())
    png[16:24] = struct.pack(">II", 60_000, 60_000)                   # the header's CRC left as it was
    assert "not an image" in predict_image(bytes(png), name="no_crc.png").error


def test_05_the_measured_uploads_and_the_panels_settings():
    """Sections 6 and 7: "On 240 uploads" (as scored), "its standard error is about 2 points" (of an accuracy near
    chance on 240), "A sample of 240 pins an accuracy near 99%" (the pipeline's score); the uploads sit "off-centre
    on a sheet 3 to 15 times the digit's size" (UploadRecipe's canvas_factor); the panel says it is unsure "below
    60%" (predict_views.UNSURE)."""
    from lenet_utils.synthetic.uploads import UploadRecipe
    from lenet_utils.widgets.predict_views import UNSURE

    found = output_matching("05_predict_panel.ipynb", r"^all\s+(\d+)\s+\S+\s+\S+\s+([\d.]+%)")
    n, pipeline = int(found[1]), percent(found[2])
    text = markdown("05_predict_panel.ipynb")
    se = (0.1 * 0.9 / n) ** 0.5
    assert f"On {n} uploads, what share will the naive resize read right?" in text
    assert f"(on {n} uploads its standard error is about {round(100 * se)} points)" in text
    assert f"the network reads these {n} uploads exactly as" in text
    assert round(100 * pipeline) == 99 and f"A sample of {n} pins an accuracy near 99%" in text
    low, high = UploadRecipe().canvas_factor
    assert f"off-centre on a sheet {low:g} to {high:g} times the digit's size" in text
    assert f"When the network is unsure (below {UNSURE:.0%}) the panel says so" in text
