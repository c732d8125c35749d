"""MNIST digits dressed up as the images people actually upload, to measure the predict pipeline.

A real upload is not a 28x28 white-on-black square: it is dark ink on light paper, somewhere on
a canvas many times larger than the digit, in colour or grey, PNG or JPEG, often noisy, tinted
and unevenly lit. :func:`make_upload` turns one MNIST test digit into such a file (bytes), so
``benchmarks/upload_accuracy.py`` and the tests can score the pipeline on 10,000 "photos" whose
true labels are known.

Each style is one way uploads differ; every style puts the digit off-centre on a canvas 3 to 15
times the digit's size:

* ``grey_png``    grey paper, dark pencil, 8-bit grey PNG
* ``rgb_png``     tinted paper, blue or black pen, RGB PNG
* ``rgba_png``    ink on a transparent sheet (drawing apps), RGBA PNG
* ``rgb_jpeg``    tinted paper, sensor noise, JPEG (quality 60-95)
* ``grey_jpeg``   grey paper with heavy noise, grey JPEG
* ``photo_jpeg``  a phone photo: uneven lighting across the sheet, noise, JPEG
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

if TYPE_CHECKING:
    import torch

STYLES = ("grey_png", "rgb_png", "rgba_png", "rgb_jpeg", "grey_jpeg", "photo_jpeg")


@dataclass(frozen=True)
class UploadRecipe:
    """The ranges each upload's look is drawn from."""

    digit_side: tuple[int, int] = (28, 84)          # the digit's 28x28 square is scaled to this many pixels
    canvas_factor: tuple[float, float] = (3.0, 15.0)  # canvas side / digit side
    max_canvas: int = 1600                          # px: keeps the benchmark affordable on a laptop
    paper: tuple[int, int] = (185, 250)             # paper brightness
    ink: tuple[int, int] = (10, 90)                 # ink darkness (0 is black)
    noise: tuple[float, float] = (2.0, 10.0)        # Gaussian sensor noise, grey levels
    heavy_noise: tuple[float, float] = (10.0, 20.0)  # grey_jpeg's noise
    shading: tuple[float, float] = (0.65, 0.9)      # photo_jpeg: the darkest corner's share of full light
    jpeg_quality: tuple[int, int] = (60, 95)


RECIPE = UploadRecipe()


@dataclass(frozen=True)
class Upload:
    data: bytes                 # the encoded file
    label: int                  # the MNIST label of the digit in it
    style: str                  # one of STYLES
    size: tuple[int, int]       # (width, height) of the canvas
    index: int = -1             # position of the digit in its MNIST split


def make_upload(pixels: np.ndarray, style: str, rng: np.random.Generator,
                recipe: UploadRecipe = RECIPE) -> tuple[bytes, tuple[int, int]]:
    """One MNIST digit ``(28, 28)`` uint8 (ink 255) -> (encoded file bytes, (width, height))."""
    if style not in STYLES:
        raise ValueError(f"style={style!r} is not one of {', '.join(STYLES)}")
    side = int(rng.integers(recipe.digit_side[0], recipe.digit_side[1] + 1))
    canvas = int(min(recipe.max_canvas, round(side * rng.uniform(*recipe.canvas_factor))))
    w = int(min(recipe.max_canvas, round(canvas * rng.uniform(0.75, 1.33))))  # portrait or landscape
    h = canvas
    # The digit, enlarged smoothly (a pen line is soft at the edges), at a random place on the sheet.
    digit = np.asarray(Image.fromarray(np.asarray(pixels, dtype=np.uint8)).resize((side, side), Image.BICUBIC),
                       dtype=np.float32) / 255.0                                     # (side, side) ink coverage
    cover = np.zeros((h, w), dtype=np.float32)
    top, left = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
    cover[top:top + side, left:left + side] = digit

    paper_level = rng.uniform(*recipe.paper)
    ink_level = rng.uniform(*recipe.ink)
    colour = style in ("rgb_png", "rgba_png", "rgb_jpeg", "photo_jpeg")
    if colour:
        paper = paper_level * np.array([1.0, rng.uniform(0.93, 1.0), rng.uniform(0.82, 1.0)])     # warm tint
        ink = (np.array([ink_level * 0.5, ink_level * 0.6, ink_level * 1.8 + 40]) if rng.random() < 0.5
               else np.full(3, ink_level))                                            # blue or black pen
    else:
        paper, ink = np.array([paper_level]), np.array([ink_level])
    paper, ink = paper.astype(np.float32), np.minimum(ink, 255).astype(np.float32)
    img = paper + (ink - paper) * cover[..., None]                                   # (h, w, channels)

    if style == "photo_jpeg":  # light falls off linearly across the sheet, in a random direction
        angle = rng.uniform(0, 2 * np.pi)
        ramp = (np.cos(angle) * np.arange(w, dtype=np.float32)[None, :] / w
                + np.sin(angle) * np.arange(h, dtype=np.float32)[:, None] / h)       # (h, w)
        ramp = (ramp - ramp.min()) / max(float(ramp.max() - ramp.min()), 1e-6)
        darkest = rng.uniform(*recipe.shading)
        img *= (darkest + (1 - darkest) * ramp)[..., None]
    if style != "rgba_png":
        sigma = rng.uniform(*(recipe.heavy_noise if style == "grey_jpeg" else recipe.noise))
        img += rng.standard_normal(img.shape, dtype=np.float32) * np.float32(sigma)
    img = np.clip(img, 0, 255).round().astype(np.uint8)

    buf = io.BytesIO()
    if style == "rgba_png":  # a drawing app's export: ink colour everywhere, the shape in alpha
        alpha = np.clip(cover * 255, 0, 255).round().astype(np.uint8)
        rgba = np.dstack([np.broadcast_to(ink.astype(np.uint8), (h, w, 3)), alpha])
        Image.fromarray(rgba, "RGBA").save(buf, "PNG", compress_level=1)
    elif style.endswith("png"):
        Image.fromarray(img[..., 0] if img.shape[2] == 1 else img).save(buf, "PNG", compress_level=1)  # fast to write
    else:
        quality = int(rng.integers(recipe.jpeg_quality[0], recipe.jpeg_quality[1] + 1))
        Image.fromarray(img[..., 0] if img.shape[2] == 1 else img).save(buf, "JPEG", quality=quality)
    return buf.getvalue(), (w, h)


def on_desk(data: bytes, rng: np.random.Generator, recipe: UploadRecipe = RECIPE) -> tuple[bytes, tuple[int, int]]:
    """An upload photographed lying on a darker desk: the sheet (transparency onto white) pasted
    somewhere on a noisy brown surface 1.25-2x its size, saved again in its own format."""
    with Image.open(io.BytesIO(data)) as im:
        fmt = im.format
        sheet = im.convert("RGBA")
    sheet = Image.alpha_composite(Image.new("RGBA", sheet.size, "white"), sheet).convert("RGB")
    k = rng.uniform(1.25, 2.0)
    if max(sheet.size) * k > recipe.max_canvas:                        # keep the desk affordable
        sheet.thumbnail((int(recipe.max_canvas / k),) * 2)
    w, h = sheet.size
    W, H = int(w * k), int(h * k)
    level = rng.uniform(30, 120)
    desk = level * np.array([1.0, 0.85, 0.7], np.float32) + rng.standard_normal((H, W, 3), dtype=np.float32) * 8
    canvas = Image.fromarray(np.clip(desk, 0, 255).round().astype(np.uint8))
    canvas.paste(sheet, (int(rng.integers(0, W - w + 1)), int(rng.integers(0, H - h + 1))))
    buf = io.BytesIO()
    if fmt == "JPEG":
        canvas.save(buf, "JPEG", quality=int(rng.integers(recipe.jpeg_quality[0], recipe.jpeg_quality[1] + 1)))
    else:
        canvas.save(buf, "PNG", compress_level=1)
    return buf.getvalue(), (W, H)


def make_uploads(pixels: np.ndarray, labels: Sequence[int], indices: Sequence[int] | None = None, *,
                 seed: int = 0, styles: Sequence[str] = STYLES, recipe: UploadRecipe = RECIPE,
                 desk: bool = False) -> Iterator[Upload]:
    """An upload per digit of ``pixels`` ``(N, 28, 28)`` uint8 (e.g. ``load_mnist("test").pixels``),
    or of those at ``indices``. Digit ``i`` gets style ``styles[i % len(styles)]`` and its own
    random stream seeded by ``(seed, i)``: the same digit always makes the same bytes, whatever subset.
    ``desk=True`` photographs each sheet lying on a darker desk (:func:`on_desk`).
    """
    pixels = np.asarray(pixels)
    for i in (range(len(pixels)) if indices is None else indices):
        i = int(i)
        rng = np.random.default_rng([seed, i])
        style = styles[i % len(styles)]
        data, size = make_upload(pixels[i], style, rng, recipe)
        if desk:
            data, size = on_desk(data, rng, recipe)
        yield Upload(data, int(labels[i]), style, size, i)


def sample_indices(n: int, total: int, seed: int = 0) -> np.ndarray:
    """``n`` distinct indices out of ``total``, sorted, the same for the same seed."""
    if not 0 < n <= total:
        raise ValueError(f"n must be between 1 and {total}, got {n}")
    return np.sort(np.random.default_rng(seed).choice(total, size=n, replace=False))


# --- scoring the pipeline on them -------------------------------------------------------------
@dataclass(frozen=True)
class UploadScore:
    """Accuracy on one style of upload (or ``"all"``), three ways, on the same digits."""

    style: str
    n: int
    mnist: float        # the digits as MNIST's own 28x28 images: the model's ceiling
    naive: float        # uploads squashed to 28x28 (preprocess.naive_input)
    pipeline: float     # uploads through preprocess.preprocess
    refused: int        # uploads the pipeline found no digit in (counted as wrong)


def score_uploads(model: torch.nn.Module, pixels: np.ndarray, labels: np.ndarray | Sequence[int],
                  indices: Sequence[int] | None = None, *, seed: int = 0, styles: Sequence[str] = STYLES,
                  progress: Callable[[int, int], None] | None = None, desk: bool = False) -> dict[str, UploadScore]:
    """Make an upload of each digit and score ``model`` on it through the pipeline and through a
    naive resize; returns a score per style and ``"all"``. ``progress(done, total)`` is called
    every 500 uploads when given."""
    import torch

    from ..data import normalize
    from ..images.decoding import ImageError
    from ..images.preprocess import naive_input, preprocess
    from ..inference import predict_logits

    pixels, labels = np.asarray(pixels), np.asarray(labels)
    idx = np.arange(len(pixels)) if indices is None else np.asarray(indices)
    blank = normalize(torch.zeros(1, 28, 28, dtype=torch.uint8))[0]              # stands in for a refusal
    piped, naive, refused, kinds = [], [], [], []
    for k, up in enumerate(make_uploads(pixels, labels, idx, seed=seed, styles=styles, desk=desk)):
        try:
            piped.append(preprocess(up.data).input)
            refused.append(False)
        except ImageError:
            piped.append(blank)
            refused.append(True)
        naive.append(naive_input(up.data))
        kinds.append(up.style)
        if progress is not None and (k + 1) % 500 == 0:
            progress(k + 1, len(idx))
    truth = torch.as_tensor(labels[idx]).long()
    right = {
        "mnist": predict_logits(model, normalize(torch.as_tensor(pixels[idx]))).argmax(1) == truth,
        "naive": predict_logits(model, torch.stack(naive)).argmax(1) == truth,
        "pipeline": (predict_logits(model, torch.stack(piped)).argmax(1) == truth) & ~torch.tensor(refused),
    }
    kinds_arr, refused_arr = np.array(kinds), np.array(refused)
    scores = {}
    for style in [*dict.fromkeys(kinds), "all"]:
        sel = np.ones(len(kinds), bool) if style == "all" else kinds_arr == style
        t = torch.from_numpy(sel)
        scores[style] = UploadScore(style, int(sel.sum()), *(float(right[m][t].float().mean()) for m in right),
                                    int(refused_arr[sel].sum()))
    return scores


def format_scores(scores: dict[str, UploadScore]) -> str:
    """The scores as a text table, a row per style."""
    lines = [f"{'upload style':<14}{'n':>7}{'MNIST as is':>13}{'naive resize':>14}{'pipeline':>10}{'refused':>9}"]
    for s in scores.values():
        if s.style == "all":
            lines.append("-" * len(lines[0]))
        lines.append(f"{s.style:<14}{s.n:>7}{s.mnist:>13.2%}{s.naive:>14.2%}{s.pipeline:>10.2%}{s.refused:>9}")
    return "\n".join(lines)
