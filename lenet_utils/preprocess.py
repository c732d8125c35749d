"""From a photo, scan or drawing of one digit to the ``(1, 28, 28)`` input LeNet-5 was trained on.

MNIST's digits were not photographs: NIST scanned black-on-white forms, and LeCun et al. then
size-normalised each digit to fit a 20x20 box (keeping its aspect ratio, anti-aliased, which
made the grey levels) and centred it in 28x28 by its centre of mass. A network trained on that
only works on inputs made the same way, so :func:`preprocess` repeats the procedure on any image:

    decode       bytes -> image, refused early when too large (see :class:`Limits`)
    oriented     the camera's EXIF orientation applied; huge images shrunk to ``work_side``
    on_white     transparency composited onto white paper
    grey         one channel, 0 = black ... 255 = white; a sheet photographed on a darker desk is cut out
    inverted     light ink on dark paper, as in MNIST (dark-on-light input is flipped)
    background   uneven lighting flattened, paper set to 0, ink stretched to full strength
    cropped      the ink's bounding box
    scaled       longer side 20 px, aspect ratio kept, anti-aliased
    centred      pasted into 28x28 with its centre of mass at the centre pixel (14, 14)

The background stage looks twice: first at a shrunken copy (which way round the ink is, how
the paper is lit, how noisy it is, roughly where the ink lies), then at full resolution in a
window around the ink. That keeps a 400x400 upload to 1.5-2 ms of work beyond decoding.

Every stage's image is returned (``Preprocessed.stages``) so the course can show them. The
function is pure: no model, no files written, no global state.
"""

from __future__ import annotations

import io
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Mapping, Union

import numpy as np
import torch
from PIL import Image, ImageFilter, ImageOps

from .data import normalize
from .pixels import array_to_u8, working_image

# What a user can hand in: encoded bytes, a path, an opened PIL image, or pixels (H, W) / (H, W, C) uint8.
ImageSource = Union[bytes, bytearray, memoryview, str, os.PathLike, Image.Image, np.ndarray]

FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF")  # Pillow's decoders we allow (JPEG includes phones' MPO)
FORMAT_NAMES = "PNG, JPEG, GIF, BMP, WebP or TIFF"


class ImageError(ValueError):
    """An input that is not a usable image; the message is one line naming the file and the reason."""


class NoDigitFound(ImageError):
    """A readable image with nothing on it that could be a digit (blank, or too faint)."""


@dataclass(frozen=True)
class Limits:
    """What is refused before any pixel is decoded. A decompression bomb is a small file that
    claims to be huge (a 50 KB PNG of 50,000 x 50,000 pixels needs 2.5 GB to decode)."""

    max_bytes: int = 25 * 2**20       # 25 MiB of file: phone photos are 2-12 MB
    max_pixels: int = 50_000_000      # 50 megapixels, read from the header before decoding
    max_aspect: float = 20.0          # longer side / shorter side: a strip cannot hold a digit


@dataclass(frozen=True)
class PreprocessConfig:
    """The procedure's settings. The defaults reproduce MNIST's normalisation."""

    canvas: int = 28                  # output side, as MNIST
    box: int = 20                     # the digit's longer side is scaled to this (MNIST: 20)
    work_side: int = 1024             # larger images are shrunk to this first: speed, and no digit needs more
    resample: int = Image.LANCZOS     # anti-aliasing filter for the 20 px scaling
    min_contrast: int = 32            # ink must differ from paper by this much (of 255), or "no digit found"
    min_ink_pixels: int = 6           # fewer ink pixels than this (after denoising) is "no digit found"
    ink_threshold: float = 0.25       # paper/ink cut, as a fraction of the way from paper to ink
    noise_sigmas: float = 4.0         # ... and at least this many noise standard deviations above paper
    coarse_side: int = 200            # the first look (paper, light, where the ink is) at most this wide
    flatten_cells: int = 24           # lighting is estimated on a grid this many cells across
    uneven_light: float = 0.1         # ... and subtracted when it varies around the edges by more than
                                      #     this share of the ink's contrast
    sheet_contrast: int = 60          # a sheet is cut out of its surround (a desk) only when the two differ
                                      #     by this many grey levels


LIMITS = Limits()
CONFIG = PreprocessConfig()

# Set once, here, not per call: warnings.catch_warnings swaps the process-wide filters and is not
# thread-safe. Pillow's bomb warning fires above its own 89-megapixel mark, and our lower limit
# (Limits.max_pixels, checked from the header) has refused such images already; a corrupt EXIF
# block is reported as a note by preprocess instead.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning, module=r"PIL\.")
warnings.filterwarnings("ignore", message="Corrupt EXIF data", category=UserWarning)
warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")   # corrupt tags, truncated metadata

STAGES = {  # name -> caption, in pipeline order
    "oriented": "upright (EXIF)",
    "on_white": "onto white paper",
    "grey": "greyscale",
    "inverted": "light ink on dark",
    "background": "paper removed",
    "cropped": "cropped to the ink",
    "scaled": "longer side 20 px",
    "centred": "28x28, centred by mass",
}


class Stages(Mapping):
    """Each stage's image (``np.ndarray``), in pipeline order. A stage may be stored as the PIL
    image it was made from, or as a function that makes it, and becomes an array when first read:
    copying a full-size picture out of Pillow, or making the full-size inverted and background
    pictures, costs 0.1 ms or more, and only a panel showing the steps ever looks at them."""

    def __init__(self) -> None:
        self._images: dict[str, np.ndarray | Image.Image | Callable[[], np.ndarray]] = {}

    def __setitem__(self, name: str, image: np.ndarray | Image.Image | Callable[[], np.ndarray]) -> None:
        self._images[name] = image

    def __getitem__(self, name: str) -> np.ndarray:
        image = self._images[name]
        if callable(image):                            # made when first read
            image = self._images[name] = image()
        if isinstance(image, Image.Image):
            pixels = np.asarray(image)
            for key, value in self._images.items():   # stages sharing one picture share one array
                if value is image:
                    self._images[key] = pixels
            image = pixels
        return image

    def __iter__(self) -> Iterator[str]:
        return iter(self._images)

    def __len__(self) -> int:
        return len(self._images)

    def __repr__(self) -> str:
        return f"Stages({', '.join(self._images)})"


@dataclass
class Preprocessed:
    """The result of :func:`preprocess`."""

    input: torch.Tensor                 # (1, 28, 28) float32, normalised like the training data
    pixels: np.ndarray                  # (28, 28) uint8, 0 = paper, 255 = ink (MNIST's convention)
    stages: Stages                      # STAGES name -> uint8 image (H, W) or (H, W, 3|4), in order
    inverted: bool                      # True when the input was dark ink on light paper
    box: tuple[int, int, int, int]      # ink bounding box (left, top, right, bottom) in the grey image
    size: tuple[int, int]               # (width, height) of the image as stored (its header)
    format: str | None = None           # "PNG", "JPEG", ... (None for a PIL image or array given directly)
    notes: list[str] = field(default_factory=list)   # what was done beyond the usual (shrunk, alpha as ink)


# --- decoding, with limits ------------------------------------------------------------------
def source_name(source: ImageSource, name: str | None = None) -> str:
    """How messages refer to ``source``: the given name, the path, or a description."""
    if name:
        return name
    if isinstance(source, (str, os.PathLike)):
        return str(source)
    if isinstance(source, Image.Image):
        return getattr(source, "filename", "") or "image"
    return "image"


def read_bytes(path: str | os.PathLike, limits: Limits = LIMITS, name: str | None = None) -> bytes:
    """A file's bytes, refused before reading when it is missing, a folder, empty or too big."""
    name = name or str(path)
    if "\0" in os.fspath(path):
        shown = name.replace("\0", "\\0")
        raise ImageError(f"{shown}: a file name cannot contain a NUL character")
    p = Path(path).expanduser()
    try:
        if p.is_dir():
            raise ImageError(f"{name}: is a folder, not an image file")
        size = p.stat().st_size
    except FileNotFoundError:
        raise ImageError(f"{name}: no such file") from None
    except OSError as err:
        raise ImageError(f"{name}: cannot read ({err.strerror or err})") from None
    _check_byte_count(size, name, limits)
    try:
        return p.read_bytes()
    except OSError as err:
        raise ImageError(f"{name}: cannot read ({err.strerror or err})") from None


def _check_byte_count(size: int, name: str, limits: Limits) -> None:
    if size == 0:
        raise ImageError(f"{name}: empty file (0 bytes), not an image")
    if size > limits.max_bytes:
        raise ImageError(f"{name}: {size / 2**20:.1f} MiB is more than the {limits.max_bytes / 2**20:.0f} MiB "
                         "limit; send a smaller or more compressed image")


def check_dimensions(width: int, height: int, name: str, limits: Limits = LIMITS) -> None:
    """Refuse sizes no digit needs, from the header alone: too many pixels, or too elongated."""
    if width < 1 or height < 1:
        raise ImageError(f"{name}: the image has no pixels ({width}x{height})")
    if width * height > limits.max_pixels:
        raise ImageError(f"{name}: {width}x{height} pixels ({width * height / 1e6:.0f} megapixels) is more than "
                         f"the {limits.max_pixels / 1e6:.0f}-megapixel limit; refused before decoding "
                         "(shrink the image first)")
    aspect = max(width, height) / min(width, height)
    if aspect > limits.max_aspect:
        raise ImageError(f"{name}: {width}x{height} pixels is too elongated to hold one digit (aspect "
                         f"{aspect:.0f}:1, limit {limits.max_aspect:.0f}:1); crop it around the digit")


def decode(source: ImageSource, name: str | None = None, limits: Limits = LIMITS,
           work_side: int | None = CONFIG.work_side) -> Image.Image:
    """Any :data:`ImageSource` -> a loaded PIL image (first frame only), or :class:`ImageError`.

    Order matters for safety: byte count, then the header's width and height, and only then the
    pixels. ``work_side`` lets JPEG decode at a reduced scale when the image is far larger.
    """
    name = source_name(source, name)
    if isinstance(source, Image.Image):
        check_dimensions(*source.size, name, limits)
        try:
            source.load()  # an Image.open()-ed file is read only now
        except Exception as err:  # noqa: BLE001 - as below
            raise ImageError(f"{name}: truncated or corrupt image ({_first_line(err)})") from None
        return source
    if isinstance(source, np.ndarray):
        return _from_array(source, name, limits)
    if isinstance(source, (str, os.PathLike)):
        data = read_bytes(source, limits, name)
    elif isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        _check_byte_count(len(data), name, limits)
    else:
        raise ImageError(f"{name}: expected image bytes, a file path, a PIL image or a pixel array, "
                         f"not {type(source).__name__}")
    try:
        img = Image.open(io.BytesIO(data), formats=FORMATS)   # lazy: reads the header only
    except Image.DecompressionBombError as err:  # beyond Pillow's own guard, checked before ours could be
        found = re.search(r"\((\d+) pixels\)", str(err))
        claimed = int(found.group(1)) if found else None
        size = f"{claimed / 1e6:,.0f} megapixels" if claimed else "more pixels than Pillow allows"
        limit = (f"the {limits.max_pixels / 1e6:.0f}-megapixel limit" if claimed and claimed > limits.max_pixels
                 else "Pillow's safety limit")
        raise ImageError(f"{name}: the header claims {size}, more than {limit}; refused before decoding "
                         "(a decompression bomb?)") from None
    except Exception as err:  # noqa: BLE001 - each plugin fails its own way (UnidentifiedImageError, SyntaxError, ...)
        kind = "not an image" if isinstance(err, Image.UnidentifiedImageError) else "corrupt image header"
        raise ImageError(f"{name}: {kind} (expected {FORMAT_NAMES})") from None
    check_dimensions(*img.size, name, limits)
    img.info["header_size"] = img.size  # before draft() may decode it smaller
    if work_side and img.format in ("JPEG", "MPO") and max(img.size) > 2 * work_side:
        img.draft(img.mode, (work_side, work_side))  # decode at 1/2, 1/4 or 1/8 scale: much faster
    try:
        img.load()  # first frame only, for GIF, TIFF and MPO
    except Exception as err:  # noqa: BLE001 - truncated data raises OSError, broken streams SyntaxError, ...
        raise ImageError(f"{name}: truncated or corrupt {img.format} image ({_first_line(err)})") from None
    return img


def _first_line(err: BaseException) -> str:
    return str(err).splitlines()[0][:100] if str(err) else type(err).__name__


def _from_array(arr: np.ndarray, name: str, limits: Limits) -> Image.Image:
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (1, 3, 4)):
        raise ImageError(f"{name}: a pixel array must be (H, W) or (H, W, 1|3|4), got shape {arr.shape}")
    check_dimensions(arr.shape[1], arr.shape[0], name, limits)
    try:
        arr = array_to_u8(arr)          # uint16 scaled (not clipped), floats 0-1 or 0-255, bool 0/255
    except TypeError as err:
        raise ImageError(f"{name}: {err}") from None
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    return Image.fromarray(np.ascontiguousarray(arr))


# --- the stages -----------------------------------------------------------------------------
def _normalise_mode(img: Image.Image, work_side: int | None = None) -> Image.Image:
    """Any Pillow mode -> "L", "RGB" or "RGBA" (8 bits per channel, alpha kept), no larger than
    ``work_side``; wide pictures are shrunk before they are widened (:mod:`lenet_utils.pixels`)."""
    return working_image(img, work_side)


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


def lighting_grid(inv: np.ndarray, cells: int = CONFIG.flatten_cells) -> Image.Image:
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


def find_sheet(grey: np.ndarray | Image.Image, config: PreprocessConfig = CONFIG,
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


def find_paper(grey: np.ndarray | Image.Image, config: PreprocessConfig = CONFIG) -> Paper:
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
        l, t, r, b = ink_box(ink)
        m = 2 * f + 2                                               # the coarse box is f pixels coarse
        box = (max(0, l * f - m), max(0, t * f - m), min(w, r * f + m), min(h, b * f + m))
    # Averaging f x f pixels divides white noise by f: one full-resolution pixel's noise is f times more.
    return Paper(bool(inverted), float(level), noise * f, grid, contrast, box)


def remove_background(grey: np.ndarray | Image.Image, paper: Paper, config: PreprocessConfig = CONFIG
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
    l, t, r, b = paper.box
    if isinstance(grey, Image.Image):
        W, H = grey.size
        flat = np.asarray(grey.crop(paper.box))                     # (b - t, r - l)
    else:
        H, W = grey.shape
        flat = grey[t:b, l:r]
    if paper.inverted:
        flat = 255 - flat                                           # ink bright, as in MNIST
    if paper.lighting is not None:                                  # the light over this window only
        gw, gh = paper.lighting.size
        light = paper.lighting.resize((r - l, b - t), Image.BILINEAR,
                                      box=(l * gw / W, t * gh / H, r * gw / W, b * gh / H))
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
    return window, (l + il, t + it, l + ir, t + ib), contrast


def _on_canvas(window: np.ndarray, box: tuple[int, int, int, int] | None, shape: tuple[int, int]) -> np.ndarray:
    """``window`` pasted at ``box`` (left, top, right, bottom) into a black picture of ``shape``."""
    out = np.zeros(shape, np.uint8)
    if box is not None:
        l, t, r, b = box
        out[t:b, l:r] = window
    return out


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


def scale_to_box(crop: np.ndarray, box: int = CONFIG.box, resample: int = CONFIG.resample) -> np.ndarray:
    """Longer side -> ``box`` pixels, aspect ratio kept, anti-aliased; re-stretched so the
    strongest ink is 255 again (thin strokes shrink to grey otherwise)."""
    h, w = crop.shape
    s = box / max(h, w)
    size = (max(1, round(w * s)), max(1, round(h * s)))
    out = np.asarray(Image.fromarray(crop).resize(size, resample), dtype=np.float32)
    top = out.max()
    if top > 0:
        out = out * (255.0 / top)
    return np.clip(out, 0, 255).round().astype(np.uint8)


def centre_of_mass(a: np.ndarray) -> tuple[float, float]:
    """(row, column) of the intensity-weighted centre, in pixel-index coordinates."""
    a = a.astype(np.float64)
    total = a.sum()
    if total == 0:
        return (a.shape[0] - 1) / 2, (a.shape[1] - 1) / 2
    return float(a.sum(1) @ np.arange(a.shape[0]) / total), float(a.sum(0) @ np.arange(a.shape[1]) / total)


def place_by_mass(patch: np.ndarray, canvas: int = CONFIG.canvas) -> np.ndarray:
    """Paste ``patch`` into a ``canvas`` x ``canvas`` black square so that its centre of mass
    lands on pixel (14, 14), as MNIST's are (mean over the test set: 13.99, 14.01). The shift
    is rounded to whole pixels (no resampling blur); a patch is never pushed off the canvas."""
    h, w = patch.shape
    cy, cx = centre_of_mass(patch)
    centre = canvas / 2
    top = min(max(round(centre - cy), 0), canvas - h)
    left = min(max(round(centre - cx), 0), canvas - w)
    out = np.zeros((canvas, canvas), dtype=np.uint8)
    out[top:top + h, left:left + w] = patch
    return out


# --- the pipeline ---------------------------------------------------------------------------
# normalize() of each grey level 0-255, looked up per pixel: the same floats, without torch's per-call cost.
_NORMALISED = normalize(torch.arange(256, dtype=torch.uint8)[None]).numpy().ravel()   # (256,) float32


def preprocess(source: ImageSource, name: str | None = None, *, limits: Limits = LIMITS,
               config: PreprocessConfig = CONFIG) -> Preprocessed:
    """Any image of one digit -> the network's input, with every intermediate stage.

    Raises :class:`ImageError` (one line naming the file) for input that is not a usable image,
    and :class:`NoDigitFound` when the image is readable but blank or too faint.
    """
    name = source_name(source, name)
    img = decode(source, name, limits, config.work_side)
    fmt, size, notes = img.format, img.info.get("header_size", img.size), []
    try:  # phones store photos sideways plus an orientation tag
        if img is source:  # the caller's own PIL image: never modify it
            img = ImageOps.exif_transpose(img)
        else:  # decoded here: turn it in place, saving a copy of every pixel (0.3 ms at 400x400)
            ImageOps.exif_transpose(img, in_place=True)
    except Exception:  # noqa: BLE001 - a broken EXIF block: keep the pixels as stored
        notes.append("unreadable EXIF orientation ignored")
    img = _normalise_mode(img, config.work_side)     # a new, smaller image: the decoded one is not copied
    if max(size) > max(img.size):
        notes.append(f"shrunk from {size[0]}x{size[1]} to {img.size[0]}x{img.size[1]}")
    stages = Stages()
    stages["oriented"] = img           # an array when first read

    if img.mode == "RGBA":
        rgba = np.asarray(img)
        white = Image.alpha_composite(Image.new("RGBA", img.size, "white"), img).convert("RGB")
        grey = np.asarray(white.convert("L"))
        alpha = rgba[:, :, 3]
        if int(grey.max()) - int(grey.min()) < config.min_contrast <= int(alpha.max()) - int(alpha.min()):
            # White (or any single colour) ink on a transparent sheet: the shape is in the alpha channel.
            grey = 255 - alpha
            notes.append("the digit was drawn in transparency only; its opacity was used as ink")
        stages["on_white"] = np.asarray(white)
    else:
        stages["on_white"] = img
        grey = img.convert("L") if img.mode != "L" else img   # kept in Pillow: the work below reads a
                                                               # shrunken copy and a window, not all of it
    sheet = find_sheet(grey, config)
    if sheet is not None and sheet[2] > sheet[0] and sheet[3] > sheet[1]:
        l, t, r, b = sheet
        grey = grey.crop(sheet) if isinstance(grey, Image.Image) else grey[t:b, l:r]
        notes.append(f"a sheet on a darker surface: cut out ({l}, {t}) to ({r}, {b})")
    else:
        sheet = None
    stages["grey"] = grey

    paper = find_paper(grey, config)
    stages["inverted"] = (lambda: 255 - np.asarray(grey)) if paper.inverted else grey

    window, box, contrast = remove_background(grey, paper, config)
    shape = (grey.size[1], grey.size[0]) if isinstance(grey, Image.Image) else grey.shape
    stages["background"] = lambda: _on_canvas(window, paper.box, shape)
    if box is None or contrast < config.min_contrast:
        err = NoDigitFound(f"{name}: no digit found (the image is blank or too faint: ink differs from "
                           f"the paper by {max(contrast, 0)} of 255 grey levels)")
        err.stages = stages  # what was seen so far, for a panel to show
        raise err

    left, top, right, bottom = box
    crop = window[top - paper.box[1]:bottom - paper.box[1], left - paper.box[0]:right - paper.box[0]]
    stages["cropped"] = crop
    scaled = scale_to_box(crop, config.box, config.resample)
    stages["scaled"] = scaled
    pixels = place_by_mass(scaled, config.canvas)
    stages["centred"] = pixels
    x = torch.from_numpy(_NORMALISED[pixels])[None]                 # (1, 28, 28)
    if sheet is not None:                                           # the box in the whole picture
        box = (left + sheet[0], top + sheet[1], right + sheet[0], bottom + sheet[1])
    return Preprocessed(x, pixels, stages, paper.inverted, box, size, fmt, notes)


def naive_input(source: ImageSource, name: str | None = None, limits: Limits = LIMITS,
                canvas: int = CONFIG.canvas) -> torch.Tensor:
    """What minimal demo apps do, for comparison: greyscale, invert when the picture is mostly
    light, squash the whole picture to 28x28. No cropping, no centring, no aspect ratio.
    Returns the ``(1, 28, 28)`` network input."""
    img = _normalise_mode(decode(source, name, limits), CONFIG.work_side)   # bounded memory; 1024 px is plenty
    grey = np.asarray(img.convert("L").resize((canvas, canvas), Image.LANCZOS))
    if grey.mean() > 127:  # dark ink on light paper
        grey = 255 - grey
    return normalize(torch.from_numpy(grey.copy()).unsqueeze(0))[0]
