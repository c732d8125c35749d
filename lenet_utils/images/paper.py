"""Where the ink is: the sheet, the paper, its light and its noise, found in any photo or scan.

Lesson: notebook 05, the stages "grey" to "background". MNIST's digits are light ink on a black
background with nothing else in the picture; an upload is dark ink on paper that is tinted,
noisy, unevenly lit, and sometimes lying on a darker desk. Three looks, each cheap:

    find_sheet          a sheet on a darker surface is cut out (else the desk would be the paper)
    find_paper          a shrunken copy: which way round the ink is, the light, the noise, where the ink lies
    remove_background   full resolution, in a window around the ink: paper to 0, ink stretched to 255

The first two look at a copy at most ``coarse_side`` pixels across, so a 400x400 upload costs
1.5-2 ms of work beyond decoding. Pictures are uint8 ``(H, W)`` arrays or "L" images throughout.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter


@dataclass(frozen=True)
class PaperConfig:
    """How ink is told from paper. The defaults were tuned on ``benchmarks/upload_accuracy.py``."""

    min_ink_pixels: int = 6           # fewer ink pixels than this (after denoising) is "no digit found"
    ink_threshold: float = 0.25       # paper/ink cut, as a fraction of the way from paper to ink
    noise_sigmas: float = 4.0         # ... and at least this many noise standard deviations above paper
    coarse_side: int = 200            # the first look (paper, light, where the ink is) at most this wide
    flatten_cells: int = 24           # lighting is estimated on a grid this many cells across
    uneven_light: float = 0.1         # ... and subtracted when it varies around the edges by more than
                                      #     this share of the ink's contrast
    sheet_contrast: int = 60          # a sheet is cut out of its surround (a desk) only when the two differ
                                      #     by this many grey levels


PAPER = PaperConfig()


def _border(a: np.ndarray) -> np.ndarray:
    t = max(1, min(a.shape) // 50)  # the outer 2% ring: paper, unless the digit touches every edge
    return np.concatenate([a[:t].ravel(), a[-t:].ravel(), a[:, :t].ravel(), a[:, -t:].ravel()])


def _blur(a: np.ndarray) -> np.ndarray:
    """3x3 box blur (uint8, edges repeated): noise averaged over 9 pixels drops 3x, strokes survive.
    Two running sums in uint16 (9 x 255 fits): 2.5x faster than Pillow's ``BoxBlur(1)``, which
    handles any radius, and within one grey level of it."""
    p = _pad_edge(a.astype(np.uint16), 1)                  # (H + 2, W + 2)
    rows = p[:, :-2] + p[:, 1:-1]
    rows += p[:, 2:]                                      # (H + 2, W): sums of 3 across
    total = rows[:-2] + rows[1:-1]
    total += rows[2:]                                     # (H, W): sums of 3 x 3
    total += 4                                            # round to nearest
    return (total // 9).astype(np.uint8)


def _pad_edge(a: np.ndarray, k: int) -> np.ndarray:
    """``np.pad(a, k, mode="edge")`` for a 2-D array, without np.pad's 15 us of generality."""
    h, w = a.shape
    out = np.empty((h + 2 * k, w + 2 * k), a.dtype)
    out[k:k + h, k:k + w] = a
    out[:k, k:k + w] = a[0]
    out[k + h:, k:k + w] = a[-1]
    out[:, :k] = out[:, k:k + 1]
    out[:, k + w:] = out[:, k + w - 1:k + w]
    return out


def _percentile_u8(a: np.ndarray, q: float) -> int:
    """``q``-th percentile of a uint8 array through its histogram: 5-10x faster than np.percentile.
    (For an even count the median is the lower middle value, not the mean of the two.)"""
    counts = np.cumsum(Image.fromarray(a.reshape(1, -1)).histogram())   # Pillow counts uint8 without a cast
    return int(np.searchsorted(counts, q / 100.0 * (counts[-1] - 1), side="right"))


def lighting_grid(inv: np.ndarray, cells: int = PAPER.flatten_cells) -> Image.Image:
    """The paper's brightness across an inverted image (ink bright, paper dark), on a coarse grid.

    Shrink to ``cells`` across (each cell averages many pixels, so noise vanishes), take the
    minimum over neighbouring cells (ink strokes are thinner than that window, so they vanish
    too), then the maximum over the same window, and smooth. Minimum then maximum is a
    morphological *opening*: the minimum alone would also pull a sharp edge in the light (a
    shadow's border, a photo pasted on a flat canvas) two cells into the brighter side, and that
    band would be read as ink. A shadow, a lamp's gradient or a sheet's edge survives; the digit
    does not. Resize the grid to any size (``Image.resize``, bilinear) for the light at each pixel.
    """
    h, w = inv.shape
    gw, gh = (cells, max(2, round(cells * h / w))) if w >= h else (max(2, round(cells * w / h)), cells)
    grid = Image.fromarray(inv).resize((gw, gh), Image.BOX)
    return grid.filter(ImageFilter.MinFilter(5)).filter(ImageFilter.MaxFilter(5)).filter(ImageFilter.BoxBlur(1))


def _otsu(counts: np.ndarray) -> int:
    """Otsu's threshold of a 256-bin histogram: the grey level that best splits it into two classes
    (the largest between-class variance). Levels <= the threshold are the dark class."""
    p = counts / counts.sum()
    weight = np.cumsum(p)                                        # share of the dark class
    mean = np.cumsum(p * np.arange(256))                         # its mass
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mean[-1] * weight - mean) ** 2 / (weight * (1.0 - weight))
    return int(np.nanargmax(between))


def _median_of(counts: np.ndarray, lo: int, hi: int) -> float:
    """Median grey level of the histogram ``counts`` restricted to levels ``lo`` ... ``hi``."""
    part = np.cumsum(counts[lo:hi + 1])
    return float(lo + np.searchsorted(part, (part[-1] - 1) / 2, side="right")) if part[-1] else float(lo)


def find_sheet(grey: np.ndarray | Image.Image, config: PaperConfig = PAPER,
               side: int = 100) -> tuple[int, int, int, int] | None:
    """Where a sheet of paper lies when it was photographed on a darker surface (a desk), as
    (left, top, right, bottom) a little inside its edges; None when the picture is not framed so.

    The rest of the pipeline takes what fills the picture's edges for the paper: around a sheet
    on a desk that is the desk, and the sheet itself would look like one enormous stroke. Looked
    for on a copy at most ``side`` pixels across: split the grey levels in two (Otsu), and if
    the light class (paper) and the dark class (desk, and ink) differ by ``sheet_contrast`` or
    more, keep the rows and columns with at least half the largest share of light pixels any row
    or column has (a sheet's rows all cross it). It counts as a sheet only if that cut
    removes at least 5% of the picture, keeps at least 15%, and what it keeps is at least 80%
    light, with an edge at least 90% light: a sheet is mostly paper and ends in paper, while a
    bold light digit on black paper (whose box this cut would find) is not and does not.
    """
    picture = grey if isinstance(grey, Image.Image) else Image.fromarray(grey)
    w, h = picture.size
    if min(w, h) < 64:                                                  # no room for a desk, a sheet and a digit
        return None
    f = max(1, -(-max(w, h) // side))                                   # shrink factor, rounded up
    small = picture.reduce(f) if f > 1 else picture
    counts = np.asarray(small.histogram(), dtype=np.float64)           # (256,)
    if np.count_nonzero(counts) < 2:                                    # one grey level: nothing to split
        return None
    cut = _otsu(counts)
    if _median_of(counts, cut + 1, 255) - _median_of(counts, 0, cut) < config.sheet_contrast:
        return None
    dark = np.asarray(small) <= cut                                     # (h / f, w / f)
    across, down = 1.0 - dark.mean(1), 1.0 - dark.mean(0)               # light share of each row, column
    rows, cols = np.flatnonzero(across > across.max() / 2), np.flatnonzero(down > down.max() / 2)
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    hs, ws = dark.shape
    removed = (top + hs - bottom) / hs + (left + ws - right) / ws
    kept = (bottom - top) * (right - left) / (hs * ws)
    inside = dark[top + 1:bottom - 1, left + 1:right - 1]              # what is returned, in coarse pixels
    if removed < 0.05 or kept < 0.15 or inside.size == 0 or inside.mean() > 0.2 or _border(inside).mean() > 0.1:
        return None
    # One coarse pixel inside the found edges: the sheet's border, half desk, is left out.
    return (min(w, (left + 1) * f), min(h, (top + 1) * f), max(0, (right - 1) * f), max(0, (bottom - 1) * f))


@dataclass(frozen=True)
class Paper:
    """What a first, coarse look at the picture finds, in full-resolution grey levels."""

    inverted: bool                          # dark ink on light paper: the picture must be flipped
    level: float                            # the paper's grey level once flipped (ink is brighter)
    noise: float                            # standard deviation of one pixel's noise on the paper
    lighting: Image.Image | None            # lighting_grid() when the light is uneven, else None
    contrast: int                           # strongest ink minus paper, as seen at the coarse scale
    box: tuple[int, int, int, int] | None   # where the ink roughly is (with a margin); None: no ink


def find_paper(grey: np.ndarray | Image.Image, config: PaperConfig = PAPER) -> Paper:
    """Look at a shrunken copy (at most ``coarse_side`` px across: fast, and noise averages out)
    of the grey picture (an ``(H, W)`` uint8 array or an "L" image) to decide which way round the
    ink is, how the paper is lit, how noisy it is, and roughly where the ink lies.
    :func:`remove_background` then works at full resolution around the ink."""
    picture = grey if isinstance(grey, Image.Image) else Image.fromarray(grey)
    w, h = picture.size
    f = max(1, -(-max(h, w) // config.coarse_side))                 # shrink factor, rounded up
    small = np.asarray(picture.reduce(f) if f > 1 else picture)
    soft = _blur(small)
    ring = _percentile_u8(_border(soft), 50)                        # paper fills the edges
    inverted = (ring - int(soft.min())) > (int(soft.max()) - ring)  # ink is the far extreme from paper
    if inverted:
        small, soft = 255 - small, 255 - soft
    grid = lighting_grid(soft, config.flatten_cells)
    around = _border(np.asarray(grid))                              # the light along the edges
    if int(around.max()) - int(around.min()) > config.uneven_light * (int(soft.max()) - float(np.median(around))):
        # Uneven light: subtract it. (Only then: on evenly lit paper the estimate would also eat
        # into strokes thicker than its window, hollowing out a bold digit.)
        light = np.asarray(grid.resize(soft.shape[::-1], Image.BILINEAR))
        small = small - np.minimum(small, light)                    # max(small - light, 0) in uint8
        soft = soft - np.minimum(soft, light)                       # = blur(small): light is smooth
    else:
        grid = None
    level = _percentile_u8(soft, 50)                                # most of any photo is paper
    contrast = int(soft.max()) - level
    noise = paper_noise(small, soft)
    cut = level + max(config.ink_threshold * contrast, config.noise_sigmas * noise / 3, 1.0)
    ink = soft > cut
    box = None
    if ink.any():
        x0, y0, x1, y1 = ink_box(ink)
        m = 2 * f + 2                                               # the coarse box is f pixels coarse
        box = (max(0, x0 * f - m), max(0, y0 * f - m), min(w, x1 * f + m), min(h, y1 * f + m))
    # Averaging f x f pixels divides white noise by f: one full-resolution pixel's noise is f times more.
    return Paper(bool(inverted), float(level), noise * f, grid, contrast, box)


def remove_background(grey: np.ndarray | Image.Image, paper: Paper, config: PaperConfig = PAPER
                      ) -> tuple[np.ndarray, tuple[int, int, int, int] | None, int]:
    """The window around the ink that :func:`find_paper` found (``paper.box``), cleaned: ->
    (the window with the ink bright and the paper at 0, the ink's box in the whole picture, contrast).

    Reads only that window of the grey picture, flipped when ``paper.inverted``. Two thresholds:
    what counts as ink is decided on a blurred copy, so isolated noise pixels never do - above
    ``ink_threshold`` of the way from paper to the strongest ink, and at least ``noise_sigmas``
    noise standard deviations above the paper. The ink then keeps its soft, anti-aliased rim:
    within one pixel of that ink, anything clearly above the paper's noise is kept, stretched
    so that the strongest ink is 255.
    """
    if paper.box is None:
        return np.zeros((0, 0), np.uint8), None, paper.contrast
    x0, y0, x1, y1 = paper.box
    if isinstance(grey, Image.Image):
        W, H = grey.size
        flat = np.asarray(grey.crop(paper.box))                     # (y1 - y0, x1 - x0)
    else:
        H, W = grey.shape
        flat = grey[y0:y1, x0:x1]
    if paper.inverted:
        flat = 255 - flat                                           # ink bright, as in MNIST
    if paper.lighting is not None:                                  # the light over this window only
        gw, gh = paper.lighting.size
        light = paper.lighting.resize((x1 - x0, y1 - y0), Image.BILINEAR,
                                      box=(x0 * gw / W, y0 * gh / H, x1 * gw / W, y1 * gh / H))
        light = np.asarray(light)
        flat = flat - np.minimum(flat, light)                       # max(flat - light, 0) in uint8
    soft = _blur(flat)
    contrast = int(soft.max()) - round(paper.level)
    cut = paper.level + max(config.ink_threshold * contrast, config.noise_sigmas * paper.noise / 3, 1.0)
    floor = paper.level + max(3.0 * paper.noise, 1.0)               # the paper's level, noise included
    near_ink = _grow(soft > cut)
    if not near_ink.any():
        return np.zeros_like(flat), None, contrast
    top = int(flat[near_ink].max())                                 # the strongest ink pixel
    window = np.clip((flat.astype(np.float32) - floor) * (255.0 / max(top - floor, 1.0)), 0, 255)
    window[~near_ink] = 0
    ink = window > 0
    window = window.astype(np.uint8)                                # whole grey levels (truncated)
    if int(ink.sum()) < config.min_ink_pixels:
        return window, None, contrast
    il, it, ir, ib = ink_box(ink)
    return window, (x0 + il, y0 + it, x0 + ir, y0 + ib), contrast


def paper_noise(flat: np.ndarray, soft: np.ndarray) -> float:
    """Standard deviation of the paper's pixel noise, from the image's outer ring (paper, as a rule):
    the median absolute difference between each pixel and its 3x3 mean, scaled to a Gaussian sigma.
    Blurring averages 9 pixels, so the blurred image's noise is a third of this."""
    residual = np.abs(_border(flat).astype(np.int16) - _border(soft))
    return 1.4826 * float(np.median(residual)) / 0.943  # 0.943 = sqrt(8/9): the residual's own share


def _grow(mask: np.ndarray) -> np.ndarray:
    """Mask dilated by one pixel (so a stroke's anti-aliased rim is kept)."""
    g = mask.copy()
    g[1:] |= mask[:-1]
    g[:-1] |= mask[1:]
    g[:, 1:] |= mask[:, :-1]
    g[:, :-1] |= mask[:, 1:]
    return g


def ink_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the True pixels; right and bottom exclusive."""
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1
