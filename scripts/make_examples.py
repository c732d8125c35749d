"""Regenerate ``data/examples/``: the predict panel's "Try an example" digits.

The project draws them itself (nothing here comes from MNIST): each digit is a few pen strokes
written below as curves in a unit box, rendered like a real upload - dark ink on light paper,
somewhere off-centre on a sheet several times the digit's size, slightly slanted, with a paper
tint, uneven light, sensor noise, as PNG scans or JPEG photos. Deterministic: running it again
gives the same files.

    python scripts/make_examples.py            # writes data/examples/*.png|jpg
    python scripts/make_examples.py --check    # fails if the files on disk differ from what it would write
"""

from __future__ import annotations

import argparse
import io
import math
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parents[1] / "data" / "examples"
Point = tuple[float, float]


def arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float, n: int = 40) -> list[Point]:
    """Points on an ellipse from angle ``start`` to ``end`` (degrees; 0 = right, 90 = down)."""
    return [(cx + rx * math.cos(math.radians(a)), cy + ry * math.sin(math.radians(a)))
            for a in np.linspace(start, end, n)]


# Each digit: strokes in a unit box (x right, y down), as a person might write it.
DIGITS: dict[int, list[list[Point]]] = {
    0: [arc(0.5, 0.5, 0.33, 0.46, -100, 265)],
    1: [[(0.40, 0.18), (0.58, 0.04)], [(0.58, 0.04), (0.50, 0.96)]],
    2: [arc(0.5, 0.30, 0.30, 0.24, 190, 380)[:-8] + [(0.62, 0.55), (0.40, 0.74), (0.18, 0.94)],
        [(0.18, 0.94), (0.86, 0.92)]],
    3: [arc(0.48, 0.27, 0.30, 0.22, 200, 450)[:-5] + arc(0.48, 0.71, 0.33, 0.25, -90, 160)],
    4: [[(0.60, 0.04), (0.14, 0.64), (0.88, 0.64)], [(0.64, 0.30), (0.62, 0.97)]],
    5: [[(0.82, 0.06), (0.30, 0.06), (0.24, 0.44)], arc(0.48, 0.66, 0.33, 0.28, -120, 150)],
    6: [[(0.70, 0.04), (0.45, 0.20), (0.29, 0.44)] + arc(0.50, 0.71, 0.27, 0.25, 180, -175)],
    7: [[(0.14, 0.08), (0.86, 0.08), (0.60, 0.50), (0.42, 0.96)]],
    8: [arc(0.5, 0.27, 0.24, 0.22, 90, 450), arc(0.5, 0.72, 0.30, 0.25, -90, 270)],
    9: [arc(0.48, 0.30, 0.27, 0.24, 20, 380), [(0.75, 0.32), (0.70, 0.62), (0.62, 0.97)]],
}

# How each example looks: (file name, canvas (w, h), digit height px, centre (fx, fy) as a fraction of
# the canvas, slant degrees, pen width as a fraction of the digit's height, ink RGB, paper RGB,
# light fall-off (0 = even), noise sigma, format).
LOOKS = [
    ("0_black_marker.jpg", (520, 400), 150, (0.30, 0.40), -4, 0.11, (25, 25, 30), (236, 232, 222), 0.15, 5, "JPEG"),
    ("1_pencil_scan.png", (300, 360), 120, (0.62, 0.58), 8, 0.09, (70, 70, 75), (244, 244, 244), 0.0, 0, "PNG"),
    ("2_blue_pen.jpg", (600, 450), 140, (0.70, 0.35), -6, 0.10, (30, 45, 140), (240, 238, 230), 0.25, 6, "JPEG"),
    ("3_felt_tip_scan.png", (360, 300), 110, (0.35, 0.60), 5, 0.12, (15, 15, 15), (250, 250, 250), 0.0, 0, "PNG"),
    ("4_phone_photo.jpg", (640, 480), 170, (0.58, 0.62), -3, 0.10, (35, 35, 40), (214, 208, 196), 0.35, 8, "JPEG"),
    ("5_red_ink.jpg", (480, 480), 130, (0.40, 0.30), 6, 0.10, (150, 30, 35), (245, 243, 238), 0.10, 5, "JPEG"),
    ("6_pencil_photo.jpg", (500, 620), 160, (0.45, 0.65), -8, 0.09, (60, 60, 65), (226, 224, 218), 0.30, 7, "JPEG"),
    ("7_marker_scan.png", (400, 320), 120, (0.68, 0.45), 4, 0.11, (20, 20, 25), (248, 248, 246), 0.0, 0, "PNG"),
    ("8_blue_pen_photo.jpg", (560, 440), 150, (0.36, 0.55), 3, 0.10, (25, 40, 120), (232, 230, 222), 0.30, 7, "JPEG"),
    ("9_grey_scan.png", (320, 400), 130, (0.55, 0.38), -5, 0.10, (40, 40, 40), (238, 238, 238), 0.0, 0, "PNG"),
]


def render(label: int, canvas: tuple[int, int], height: int, centre: tuple[float, float], slant: float,
           pen: float, ink: tuple[int, int, int], paper: tuple[int, int, int], falloff: float, noise: float,
           rng: np.random.Generator, supersample: int = 3) -> Image.Image:
    """Draw ``label``'s strokes on a sheet of paper (anti-aliased by drawing 3x larger and shrinking)."""
    w, h = canvas
    s = supersample
    cover = Image.new("L", (w * s, h * s), 0)           # how much ink covers each pixel
    draw = ImageDraw.Draw(cover)
    width = pen * height * s
    t = math.radians(slant)
    cx, cy = centre[0] * w * s, centre[1] * h * s
    size = height * s
    for stroke in DIGITS[label]:
        # wobble: a hand is not a plotter
        pts = [(x + rng.normal(0, 0.006), y + rng.normal(0, 0.006)) for x, y in stroke]
        pts = [((x - 0.5) * 0.8 * size, (y - 0.5) * size) for x, y in pts]      # digits are taller than wide
        pts = [(cx + x * math.cos(t) - y * math.sin(t) + y * 0.12, cy + x * math.sin(t) + y * math.cos(t))
               for x, y in pts]
        draw.line(pts, fill=255, width=max(1, round(width)), joint="curve")
        for x, y in (pts[0], pts[-1]):
            draw.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=255)
    a = np.asarray(cover.resize((w, h), Image.BOX), dtype=np.float32)[..., None] / 255.0
    img = np.array(paper, np.float32) * (1 - a) + np.array(ink, np.float32) * a
    if falloff:  # light from one side of the sheet
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        ramp = (xx / w * 0.7 + yy / h * 0.3)
        img = img * (1 - falloff * ramp)[..., None]
    if noise:
        img = img + rng.normal(0, noise, img.shape)
    return Image.fromarray(np.clip(img, 0, 255).round().astype(np.uint8), "RGB")


def build() -> dict[str, bytes]:
    files = {}
    for i, (name, canvas, height, centre, slant, pen, ink, paper, falloff, noise, fmt) in enumerate(LOOKS):
        rng = np.random.default_rng(1000 + i)
        img = render(int(name[0]), canvas, height, centre, slant, pen, ink, paper, falloff, noise, rng)
        buf = io.BytesIO()
        if fmt == "PNG":
            img.convert("L").save(buf, "PNG", optimize=True)   # a scanner's greyscale mode
        else:
            img.save(buf, "JPEG", quality=85)
        files[name] = buf.getvalue()
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with data/examples instead of writing")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    files = build()
    if args.check:
        stale = [n for n, data in files.items() if not (args.out / n).is_file() or (args.out / n).read_bytes() != data]
        if stale:
            print(f"out of date: {', '.join(stale)}; run python scripts/make_examples.py", file=sys.stderr)
            return 1
        print(f"{len(files)} examples up to date in {args.out}")
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (args.out / name).write_bytes(data)
    print(f"wrote {len(files)} examples ({sum(map(len, files.values())) / 1024:.0f} KiB) to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
