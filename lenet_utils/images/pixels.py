"""Any decoded picture or pixel array -> 8-bit "L", "RGB" or "RGBA", in bounded memory.

Why this is its own step. A 16-bit PNG or a float TIFF of 50 megapixels is 100-200 MB once
decoded; turned into float64 at full size (and scaled, clipped, rounded: a new array each time)
it took 1.8 GB. Here a wide picture is shrunk first, in Pillow and in its own mode (a box filter,
which averages and so keeps the value range), and only the shrunken copy (at most
``work_side`` pixels across, 4 MB at 1024x1024) is widened to float32 and scaled to 0-255.
``benchmarks/decode_memory.py`` measures the worst case of every format and bit depth.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

EIGHT_BIT = ("L", "RGB", "RGBA")
BAND_ROWS = 256            # rows of a pixel array converted at a time: extra memory is one band


def working_image(img: Image.Image, work_side: int | None) -> Image.Image:
    """``img`` in mode "L", "RGB" or "RGBA" (alpha kept), its longer side at most ``work_side``
    (``None``: as large as it is). The input image is never modified."""
    mode = img.mode
    if mode.startswith("I") or mode == "F":           # 16/32-bit grey, float: shrink, then widen
        return _wide_to_l(img, work_side)
    if mode == "1":
        img = img.convert("L")
    elif mode == "LA":                                # grey + alpha: shrink first, then widen to RGBA
        return shrink(img, work_side).convert("RGBA")  # (RGBA at full size is 200 MB at 50 megapixels)
    elif mode not in EIGHT_BIT:
        rgba = "A" in mode or "a" in mode or "transparency" in img.info   # LA, PA, La, RGBa, P + transparency
        img = img.convert("RGBA" if rgba else "RGB")                        # P, CMYK, YCbCr, LAB, HSV, RGBX
    return shrink(img, work_side)


def shrink(img: Image.Image, side: int | None) -> Image.Image:
    """``img`` with its longer side at most ``side`` (box filter, aspect kept, as ``thumbnail``),
    as a new image without first copying the full-size one; ``img`` itself when small enough."""
    if not side or max(img.size) <= side:
        return img
    size = _thumbnail_size(img.size, side)
    return img.resize(size, Image.BOX, reducing_gap=2.0)


def _thumbnail_size(size: tuple[int, int], side: int) -> tuple[int, int]:
    """The size ``Image.thumbnail((side, side))`` picks (its own rounding, so results match it)."""
    w, h = size
    aspect = w / h
    if aspect <= 1:                                   # tall or square: the height is side
        return _round_aspect(side * aspect, lambda n: abs(aspect - n / side)), side
    return side, _round_aspect(side / aspect, lambda n: 0 if n == 0 else abs(aspect - side / n))


def _round_aspect(number: float, key) -> int:
    return max(min(math.floor(number), math.ceil(number), key=key), 1)  # whichever keeps the aspect


def _wide_to_l(img: Image.Image, work_side: int | None) -> Image.Image:
    """16/32-bit integer or float grey -> 8-bit "L". The scale comes from the whole picture's
    range (``getextrema`` reads it without a copy); the widening from the shrunken one."""
    if img.mode not in ("I", "F"):                    # I;16, I;16B, ...: Pillow resizes only I and F
        img = img.convert("I")                        # 4 bytes a pixel: 200 MB at 50 megapixels
    lo, hi = img.getextrema()
    small = shrink(img, work_side)
    a = np.asarray(small, dtype=np.float32)           # (h, w), at most work_side across
    with np.errstate(all="ignore"):                   # NaN and inf pixels of float TIFFs: handled below
        top = float(hi) if np.isfinite(hi) else _finite_max(a)
        scale = 1.0 if (img.mode == "F" and top <= 1.0) else (255.0 if top <= 255 else 65535.0)
        return Image.fromarray(_to_u8(a, scale))


def _finite_max(a: np.ndarray) -> float:
    finite = a[np.isfinite(a)]                        # a copy of at most one band or a shrunken picture
    return float(finite.max()) if finite.size else 0.0


def _to_u8(a: np.ndarray, scale: float) -> np.ndarray:
    """Floats on 0..``scale`` -> uint8 0..255; NaN is 0 (paper), +inf full ink, -inf 0."""
    a = np.nan_to_num(a, nan=0.0, posinf=scale, neginf=0.0)
    a *= np.float32(255.0 / scale)
    np.clip(a, 0, 255, out=a)
    return np.rint(a, out=a).astype(np.uint8)


def array_to_u8(arr: np.ndarray) -> np.ndarray:
    """A pixel array of numbers -> uint8 of the same shape, converted a band of rows at a time.

    uint8 as is; bool as 0/255; floats on 0-1 (if none exceeds 1) or 0-255; integers on 0-255
    (if none exceeds 255), else 0-65535 (16-bit), else 0-max. Raises ``TypeError`` naming the
    dtype for anything that is not numbers (dates, text, objects, complex)."""
    kind = arr.dtype.kind
    if kind not in "buif":
        raise TypeError(f"pixels of type {arr.dtype} are not numbers; expected uint8 (0-255), "
                        "uint16 or floats (0-1)")
    if kind == "u" and arr.dtype.itemsize == 1:
        return arr
    if kind == "b":
        return arr.astype(np.uint8) * np.uint8(255)
    # No warnings.catch_warnings here: it swaps the process-wide filters and is not thread-safe.
    # np.errstate is per thread, and the maxima are taken band by band over finite values only.
    with np.errstate(all="ignore"):
        if kind == "f":
            top = max((_finite_max(arr[r:r + BAND_ROWS]) for r in range(0, arr.shape[0], BAND_ROWS)), default=0.0)
            scale = 1.0 if top <= 1.0 else (255.0 if top <= 255 else top)
        else:
            top = int(arr.max()) if arr.size else 0
            scale = 255.0 if top <= 255 else (65535.0 if top <= 65535 else float(top))
        out = np.empty(arr.shape, np.uint8)
        for r in range(0, arr.shape[0], BAND_ROWS):   # float32 per band: bounded extra memory
            out[r:r + BAND_ROWS] = _to_u8(arr[r:r + BAND_ROWS].astype(np.float32), scale)
    return out
