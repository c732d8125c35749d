"""A simulated class: digits drawn by a stroke generator, as thirty students would draw them on the
predict panel's pad. Not MNIST: every digit is pen strokes written below, bent by each writer's
habits (slant, width, size, a shaky hand, their way of writing a 1, 4, 7 or 9).

    drawings = simulate_class(writers=32, seed=0)       # [Drawing(png, label, writer), ...]
    fill_demo_db(db, drawings)                          # every drawing answered and shared

Used when a class has shared nothing yet (a fresh clone), to test the dashboard, and to measure
fine-tuning on "new writers" (notebook 07).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..images.strokes import render_strokes

if TYPE_CHECKING:
    from torch import nn

    from ..classroom.store import ClassDB

Point = tuple[float, float]
PAD = 200                      # px: the panel's drawing pad


def _arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float, n: int = 24) -> list[Point]:
    """Points on an ellipse from ``start`` to ``end`` degrees (0 = right, 90 = down)."""
    return [(cx + rx * math.cos(math.radians(a)), cy + ry * math.sin(math.radians(a)))
            for a in np.linspace(start, end, n)]


# Each digit has a few ways people write it; strokes in a unit box (x right, y down).
STYLES: dict[int, list[list[list[Point]]]] = {
    0: [[_arc(0.5, 0.5, 0.32, 0.45, -90, 270)], [_arc(0.5, 0.5, 0.22, 0.45, -60, 300)]],
    1: [[[(0.5, 0.05), (0.5, 0.95)]],
        [[(0.30, 0.25), (0.55, 0.05), (0.55, 0.95)]],
        [[(0.30, 0.22), (0.55, 0.05), (0.55, 0.95)], [(0.32, 0.95), (0.78, 0.95)]]],   # flag and base
    2: [[_arc(0.5, 0.3, 0.3, 0.24, 190, 370)[:-4] + [(0.6, 0.58), (0.18, 0.95), (0.85, 0.93)]],
        [_arc(0.5, 0.3, 0.3, 0.24, 200, 380) + [(0.2, 0.92)] + _arc(0.3, 0.86, 0.1, 0.08, 180, 360)
         + [(0.85, 0.94)]]],                                                             # with a loop
    3: [[_arc(0.48, 0.28, 0.30, 0.22, 200, 450)[:-4] + _arc(0.48, 0.72, 0.33, 0.24, -90, 160)],
        [[(0.18, 0.06), (0.80, 0.06), (0.45, 0.42)] + _arc(0.48, 0.70, 0.33, 0.26, -80, 160)]],
    4: [[[(0.60, 0.05), (0.12, 0.65), (0.88, 0.65)], [(0.64, 0.30), (0.62, 0.97)]],
        [[(0.22, 0.05), (0.18, 0.55), (0.85, 0.55)], [(0.70, 0.08), (0.70, 0.97)]]],    # open top
    5: [[[(0.80, 0.06), (0.28, 0.06), (0.24, 0.44)] + _arc(0.48, 0.66, 0.32, 0.28, -120, 150)],
        [[(0.26, 0.06), (0.22, 0.44)] + _arc(0.48, 0.66, 0.32, 0.28, -120, 150), [(0.26, 0.06), (0.82, 0.06)]]],
    6: [[[(0.68, 0.04), (0.40, 0.25), (0.26, 0.55)] + _arc(0.5, 0.72, 0.26, 0.24, 180, -180)],
        [_arc(0.75, 0.55, 0.5, 0.5, 250, 180, 12) + _arc(0.5, 0.74, 0.25, 0.22, 180, -180)]],
    7: [[[(0.15, 0.08), (0.85, 0.08), (0.45, 0.96)]],
        [[(0.15, 0.08), (0.85, 0.08), (0.45, 0.96)], [(0.35, 0.52), (0.75, 0.50)]],     # crossed
        [[(0.15, 0.2), (0.2, 0.08), (0.85, 0.08), (0.55, 0.96)]]],
    8: [[_arc(0.5, 0.27, 0.24, 0.22, 90, 450), _arc(0.5, 0.72, 0.30, 0.25, -90, 270)],
        [_arc(0.5, 0.27, 0.18, 0.22, 90, 450), _arc(0.5, 0.72, 0.26, 0.25, -90, 270)]],     # narrow
    9: [[_arc(0.48, 0.30, 0.27, 0.24, 20, 380), [(0.75, 0.32), (0.70, 0.62), (0.62, 0.97)]],
        [_arc(0.48, 0.30, 0.27, 0.24, 20, 380), [(0.75, 0.32), (0.75, 0.97)]],
        [_arc(0.48, 0.30, 0.27, 0.24, 20, 380), [(0.75, 0.32)] + _arc(0.5, 0.75, 0.25, 0.22, 0, 150)]],
}


@dataclass(frozen=True)
class Writer:
    """One simulated student's habits."""

    nickname: str
    slant: float            # shear: x moves by slant * (0.5 - y)
    width: float            # pen width, pad pixels
    size: float             # the digit's height as a share of the pad
    aspect: float           # width / height of the digit box
    shake: float            # random wobble of each point, as a share of the digit's size
    style: dict[int, int]   # digit -> which of STYLES[digit] this writer uses


@dataclass(frozen=True)
class Drawing:
    png: bytes              # what the pad would send: 200 x 200 RGB, dark ink on white
    label: int
    writer: str


def make_writers(n: int, rng: np.random.Generator) -> list[Writer]:
    return [Writer(nickname=f"student{i + 1:02d}", slant=float(rng.normal(0.2, 0.35)),
                   width=float(rng.uniform(5, 26)), size=float(rng.uniform(0.4, 0.9)),
                   aspect=float(rng.uniform(0.45, 1.3)), shake=float(rng.uniform(0.0, 0.05)),
                   style={d: int(rng.integers(len(STYLES[d]))) for d in range(10)}) for i in range(n)]


def draw_digit(digit: int, writer: Writer, rng: np.random.Generator) -> bytes:
    """One digit in ``writer``'s hand, somewhere on the pad."""
    strokes: Sequence[Sequence[Point]] = STYLES[digit][writer.style[digit]]
    h = writer.size * PAD * rng.uniform(0.9, 1.1)
    w = h * writer.aspect * 0.75
    x0 = rng.uniform(0.05 * PAD, PAD - w - 0.05 * PAD) if PAD - w > 0.1 * PAD else (PAD - w) / 2
    y0 = rng.uniform(0.05 * PAD, PAD - h - 0.05 * PAD) if PAD - h > 0.1 * PAD else (PAD - h) / 2
    slant = writer.slant + rng.normal(0, 0.05)
    out = []
    for stroke in strokes:
        pts = np.asarray(stroke, dtype=float)                              # (n, 2) in the unit box
        pts = pts + rng.normal(0, writer.shake, pts.shape) + rng.normal(0, 0.02, 2)
        pts[:, 0] += slant * (0.5 - pts[:, 1])
        out.append([(x0 + x * w, y0 + y * h) for x, y in pts])
    return render_strokes(out, PAD, writer.width * rng.uniform(0.9, 1.1))


def simulate_class(writers: int = 32, per_digit: int = 1, seed: int = 0) -> list[Drawing]:
    """``writers`` students each draw every digit ``per_digit`` times (32 x 10 = 320 by default)."""
    rng = np.random.default_rng(seed)
    return [Drawing(draw_digit(d, w, rng), d, w.nickname)
            for w in make_writers(writers, rng) for _ in range(per_digit) for d in range(10)]


def fill_demo_db(db: ClassDB, drawings: Sequence[Drawing], model: nn.Module | None = None) -> int:
    """Answer each drawing with ``model`` (the shipped one by default) and share it, labelled
    with the truth, as the simulated student. Returns how many were stored (blank ones are not)."""
    from ..classroom.shares import share_from_prediction
    from ..predict.answer import predict_image

    stored = 0
    for i, d in enumerate(drawings):
        pred = predict_image(d.png, model, name=f"{d.writer}-{i}.png")
        if pred.ok:
            db.add(share_from_prediction(pred, d.label, nickname=d.writer, owner=d.writer, source="simulated"))
            stored += 1
    return stored
