"""A set of pictures that are NOT one digit, made from a seed: the not-a-digit detector's negatives.

    python -m lenet_utils.synthetic.non_digits --seed 1 --n 4 --out /tmp/non_digits   # a few of each kind, as PNGs

Nothing is stored: the generator is the set. The same ``(seed, kind, i)`` always gives the same
picture. Each picture is drawn like an upload: dark ink on light, slightly tinted paper with sensor
noise, somewhere on a sheet a few times the drawing's size. Kinds:

* ``letters``      one letter typed in one of matplotlib's fonts (DejaVu, STIX), any size, slanted a
                   little. O, o, I and l are left out: in most fonts they *are* a 0 or a 1.
* ``shapes``       squares, triangles, stars, crosses, arrows, hearts, filled discs, grids
* ``scribbles``    one to three random pen strokes, wandering and curling
* ``words``        three to seven letters typed in a row
* ``digit_pairs``  two digits side by side: a two-digit number typed, or two handwritten MNIST digits
* ``near_blank``   a dot, a short dash, a few specks, a faint smudge: almost nothing on the paper

:func:`typed_digits` makes the control: digits typed in the same fonts on the same paper, which the
detector should *not* flag (so that it learns "not a digit", not "typed").

``scripts/fit_not_a_digit.py`` trains the detector on one seed of this set (with MNIST's *training*
digits in the pairs) and ``benchmarks/not_a_digit.py`` measures it on another (MNIST's *test* digits).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

KINDS = ("letters", "shapes", "scribbles", "words", "digit_pairs", "near_blank")
LETTERS = "".join(c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" if c not in "OoIl")
FONTS = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSerif.ttf",
         "DejaVuSerif-Bold.ttf", "DejaVuSerif-Italic.ttf", "DejaVuSansMono.ttf", "STIXGeneral.ttf",
         "STIXGeneralItalic.ttf", "STIXGeneralBol.ttf")
SHAPES = ("square", "triangle", "star", "cross", "plus", "arrow", "heart", "disc", "grid", "box_filled")


def _font(rng: np.random.Generator, size: int) -> ImageFont.FreeTypeFont:
    import matplotlib

    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    return ImageFont.truetype(str(folder / FONTS[int(rng.integers(len(FONTS)))]), size)


def _typed(text: str, rng: np.random.Generator, height: int) -> Image.Image:
    """``text`` as white ink on black (L), cut to its ink, slanted by up to 12 degrees."""
    font = _font(rng, height)
    left, top, right, bottom = font.getbbox(text)
    img = Image.new("L", (right + height // 2, bottom + height // 2), 0)
    stroke = int(rng.integers(0, max(1, height // 25) + 1))
    ImageDraw.Draw(img).text((height // 4, height // 4), text, fill=255, font=font, stroke_width=stroke,
                             stroke_fill=255)
    return img.rotate(float(rng.uniform(-12, 12)), resample=Image.BILINEAR, expand=True)


def _polygon(name: str, rng: np.random.Generator, side: int) -> Image.Image:
    img = Image.new("L", (side, side), 0)
    d = ImageDraw.Draw(img)
    s, w = side, max(2, int(side * rng.uniform(0.04, 0.1)))       # pen width
    m = w + 2
    if name == "square":
        d.rectangle((m, m, s - m, int(s * rng.uniform(0.6, 1.0)) - m), outline=255, width=w)
    elif name == "box_filled":
        d.rectangle((m, m, s - m, int(s * rng.uniform(0.4, 1.0)) - m), fill=255)
    elif name == "triangle":
        d.polygon([(s / 2, m), (s - m, s - m), (m, s - m)], outline=255, width=w)
    elif name == "star":
        pts = [(s / 2 + (s / 2 - m) * (1 if k % 2 == 0 else 0.4) * math.sin(k * math.pi / 5),
                s / 2 - (s / 2 - m) * (1 if k % 2 == 0 else 0.4) * math.cos(k * math.pi / 5)) for k in range(10)]
        d.polygon(pts, outline=255, width=w) if rng.random() < 0.5 else d.polygon(pts, fill=255)
    elif name == "cross":
        d.line((m, m, s - m, s - m), fill=255, width=w)
        d.line((m, s - m, s - m, m), fill=255, width=w)
    elif name == "plus":
        d.line((s / 2, m, s / 2, s - m), fill=255, width=w)
        d.line((m, s / 2, s - m, s / 2), fill=255, width=w)
    elif name == "arrow":
        d.line((m, s / 2, s - m, s / 2), fill=255, width=w)
        d.line((s * 0.65, s * 0.25, s - m, s / 2, s * 0.65, s * 0.75), fill=255, width=w, joint="curve")
    elif name == "heart":
        t = np.linspace(0, 2 * np.pi, 80)
        x, y = 16 * np.sin(t) ** 3, 13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t)
        pts = list(zip(s / 2 + x * (s / 2 - m) / 17, s / 2 - y * (s / 2 - m) / 17))
        d.polygon(pts, fill=255) if rng.random() < 0.5 else d.line(pts + pts[:1], fill=255, width=w)
    elif name == "disc":
        d.ellipse((m, m, s - m, s - m), fill=255)
    elif name == "grid":
        for k in range(int(rng.integers(3, 6))):
            p = m + k * (s - 2 * m) / 3
            d.line((p, m, p, s - m), fill=255, width=w)
            d.line((m, p, s - m, p), fill=255, width=w)
    return img.rotate(float(rng.uniform(-20, 20)), resample=Image.BILINEAR, expand=True)


def _scribble(rng: np.random.Generator, side: int) -> Image.Image:
    img = Image.new("L", (side, side), 0)
    d = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(1, 4))):
        n = int(rng.integers(20, 60))
        turn = np.cumsum(rng.normal(0, rng.uniform(0.2, 0.6), n))          # heading wanders and curls
        step = side * rng.uniform(0.03, 0.08)
        x = np.cumsum(np.cos(turn) * step) + rng.uniform(0.3, 0.7) * side
        y = np.cumsum(np.sin(turn) * step) + rng.uniform(0.3, 0.7) * side
        d.line(list(zip(np.clip(x, 2, side - 2), np.clip(y, 2, side - 2))), fill=255,
               width=max(2, int(side * rng.uniform(0.02, 0.06))), joint="curve")
    return img


def _pair(rng: np.random.Generator, height: int, mnist: np.ndarray | None) -> Image.Image:
    if mnist is None or rng.random() < 0.5:
        return _typed(str(int(rng.integers(10, 100))), rng, height)
    a, b = mnist[rng.integers(len(mnist), size=2)]                                # (28, 28) each, ink 255
    gap = int(rng.integers(-2, 6))
    both = np.zeros((28, 56 + gap), np.uint8)
    both[:, :28] = a
    both[:, 28 + gap:] = np.maximum(both[:, 28 + gap:], b)
    return Image.fromarray(both).resize((int(both.shape[1] * height / 28), height), Image.BICUBIC)


def _near_blank(rng: np.random.Generator, side: int) -> tuple[Image.Image, float]:
    """A little ink, and how strong it is (a faint smudge is grey)."""
    img = Image.new("L", (side, side), 0)
    d = ImageDraw.Draw(img)
    what = int(rng.integers(4))
    c = side / 2
    if what == 0:                                                   # a dot
        r = side * rng.uniform(0.03, 0.08)
        d.ellipse((c - r, c - r, c + r, c + r), fill=255)
    elif what == 1:                                                 # a short dash, roughly level
        half, tilt = side * rng.uniform(0.1, 0.3), rng.uniform(-0.2, 0.2)
        d.line((c - half, c - half * tilt, c + half, c + half * tilt), fill=255, width=max(2, int(side * 0.04)))
    elif what == 2:                                                 # a few specks
        for _ in range(int(rng.integers(3, 9))):
            x, y, r = rng.uniform(0.1, 0.9) * side, rng.uniform(0.1, 0.9) * side, rng.uniform(1, 3)
            d.ellipse((x - r, y - r, x + r, y + r), fill=255)
    else:                                                           # a faint smudge
        r = side * rng.uniform(0.1, 0.3)
        d.ellipse((c - r, c - r * 0.6, c + r, c + r * 0.6), fill=255)
        return img.filter(ImageFilter.GaussianBlur(side * 0.05)), rng.uniform(0.15, 0.5)
    return img, 1.0


def draw(kind: str, rng: np.random.Generator, mnist: np.ndarray | None = None) -> np.ndarray:
    """One non-digit of ``kind`` as an upload would look: ``(H, W)`` uint8, dark ink on light paper.
    ``mnist``: ``(N, 28, 28)`` uint8 digits for the handwritten pairs (typed numbers only when None)."""
    height = int(rng.integers(40, 140))                             # the drawing's size in px
    strength = 1.0
    if kind == "letters":
        ink = _typed(LETTERS[int(rng.integers(len(LETTERS)))], rng, height)
    elif kind == "shapes":
        ink = _polygon(SHAPES[int(rng.integers(len(SHAPES)))], rng, height)
    elif kind == "scribbles":
        ink = _scribble(rng, height)
    elif kind == "words":
        ink = _typed("".join(rng.choice(list(LETTERS), int(rng.integers(3, 8)))), rng, height // 2 + 16)
    elif kind == "digit_pairs":
        ink = _pair(rng, height, mnist)
    elif kind == "near_blank":
        ink, strength = _near_blank(rng, height)
    else:
        raise ValueError(f"kind={kind!r} is not one of {', '.join(KINDS)}")
    return _on_paper(np.asarray(ink, np.float32) / 255 * strength, rng)


def typed_digit(rng: np.random.Generator) -> tuple[int, np.ndarray]:
    """Not a non-digit: a control. One digit typed in one of the same fonts, on the same paper, as
    ``(digit, (H, W) uint8)``: the detector should leave it alone, whatever the typeface."""
    digit = int(rng.integers(10))
    ink = _typed(str(digit), rng, int(rng.integers(40, 140)))
    return digit, _on_paper(np.asarray(ink, np.float32) / 255, rng)


def typed_digits(n: int, seed: int) -> Iterator[tuple[int, np.ndarray]]:
    """``n`` typed digits (:func:`typed_digit`); digit ``i`` from its own stream seeded by ``(seed, 99, i)``."""
    for i in range(n):
        yield typed_digit(np.random.default_rng([seed, 99, i]))


def _on_paper(cover: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Ink coverage ``(h, w)`` in 0..1 -> dark ink on light, noisy paper a few times its size, uint8."""
    h, w = cover.shape
    H, W = int(h * rng.uniform(1.5, 3.0)), int(w * rng.uniform(1.3, 2.5))
    sheet = np.zeros((H, W), np.float32)
    top, left = int(rng.integers(0, H - h + 1)), int(rng.integers(0, W - w + 1))
    sheet[top:top + h, left:left + w] = cover
    paper, pen = rng.uniform(190, 250), rng.uniform(10, 90)
    img = paper + (pen - paper) * sheet + rng.normal(0, rng.uniform(1, 6), sheet.shape)
    return np.clip(img, 0, 255).round().astype(np.uint8)


def non_digits(n: int, seed: int, mnist: np.ndarray | None = None,
               kinds: tuple[str, ...] = KINDS) -> Iterator[tuple[str, np.ndarray]]:
    """``n`` pictures of each kind, as ``(kind, (H, W) uint8)``; picture ``i`` of a kind has its own
    random stream seeded by ``(seed, kind, i)``, so any subset is the same pictures."""
    for kind in kinds:
        for i in range(n):
            yield kind, draw(kind, np.random.default_rng([seed, KINDS.index(kind), i]), mnist)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1, help="which set (the detector is fitted on seed 0)")
    parser.add_argument("--n", type=int, default=4, help="pictures of each kind")
    parser.add_argument("--out", type=Path, required=True, help="folder for the PNGs")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for i, (kind, img) in enumerate(non_digits(args.n, args.seed)):
        Image.fromarray(img).save(args.out / f"{kind}_{i % args.n}.png")
    print(f"{args.n * len(KINDS)} pictures in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
