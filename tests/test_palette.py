"""The colours are named once (lenet_utils.palette); the widgets' CSS, which cannot import them, agrees."""

import re
from pathlib import Path

from lenet_utils import palette

PACKAGE = Path(palette.__file__).resolve().parent
NAMED = {getattr(palette, n).lower() for n in palette.__all__}


def test_no_python_module_spells_a_palette_colour_itself():
    spelled = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "palette.py":
            continue
        for colour in re.findall(r"#[0-9a-fA-F]{6}\b", path.read_text()):
            if colour.lower() in NAMED:
                spelled.append(f"{path.relative_to(PACKAGE)}: {colour}")
    assert not spelled, spelled


def test_the_css_uses_the_palettes_colours_for_its_meanings():
    css = (PACKAGE / "widgets" / "predict_panel.css").read_text().lower()
    for colour in (palette.ERROR, palette.WARN, palette.ACCENT, palette.MUTED):
        assert colour.lower() in css, colour


def test_the_check_catches_a_spelled_colour(tmp_path):
    """The first test can fail: a module spelling the palette's red is found by the same search."""
    text = "STYLE = 'color: #C62828'"
    assert any(c.lower() in NAMED for c in re.findall(r"#[0-9a-fA-F]{6}\b", text))
