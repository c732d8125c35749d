"""Whatever a person hands in -> an upright 8-bit picture, or one line saying why not.

Lesson: notebook 05, the first step of making a photo look like MNIST. An image can arrive as a
file, its bytes, an opened PIL image or a pixel array (:data:`ImageSource`). Reading it safely
means checking in order, cheapest first: the file's size, then the width and height its header
claims (a decompression bomb is a small file that claims to be huge), and only then the pixels.
The camera's EXIF orientation is then applied, and any Pillow mode becomes 8-bit "L", "RGB" or
"RGBA", shrunk to ``work_side`` before it is widened (:mod:`lenet_utils.images.pixels`).

Anything refused raises :class:`ImageError`: one line naming the file, the problem and the fix.

Two settings outside this module, each made the first time it is needed and listed in the
package's docstring: Pillow's own metadata warnings are filtered at the first decode, for Pillow's
modules only (``warnings.catch_warnings`` per call swaps process-wide filters and is not
thread-safe), and libtiff's error printer is switched off the first time a TIFF is read
(:func:`quiet_libtiff`).
"""

from __future__ import annotations

import ctypes
import io
import os
import re
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from ..messages import one_line
from .pixels import array_to_u8, working_image

# What a user can hand in: encoded bytes, a path, an opened PIL image, or pixels (H, W) / (H, W, C).
ImageSource = bytes | bytearray | memoryview | str | os.PathLike | Image.Image | np.ndarray

FORMATS = {  # Pillow's decoders we allow -> (the name people know, file suffixes); JPEG includes phones' MPO
    "PNG": ("PNG", (".png",)),
    "JPEG": ("JPEG", (".jpg", ".jpeg")),
    "GIF": ("GIF", (".gif",)),
    "BMP": ("BMP", (".bmp",)),
    "WEBP": ("WebP", (".webp",)),
    "TIFF": ("TIFF", (".tif", ".tiff")),
}
_NAMES = [name for name, _ in FORMATS.values()]
FORMAT_NAMES = ", ".join(_NAMES[:-1]) + " or " + _NAMES[-1]     # "PNG, JPEG, GIF, BMP, WebP or TIFF"
SUFFIXES = tuple(s for _, suffixes in FORMATS.values() for s in suffixes)
WORK_SIDE = 1024   # px: larger pictures are shrunk to this first (speed, bounded memory; no digit needs more)


class ImageError(ValueError):
    """An input that is not a usable image; the message is one line naming the file and the reason."""


@dataclass(frozen=True)
class Limits:
    """What is refused before any pixel is decoded. A decompression bomb is a small file that
    claims to be huge (a 50 KB PNG of 50,000 x 50,000 pixels needs 2.5 GB to decode).

    Within these limits, reading one image needs at most ``DECODE_BOUND_MB`` above the process's
    baseline, whatever the format (``benchmarks/decode_memory.py`` measures each at the limit)."""

    max_bytes: int = 25 * 2**20       # 25 MiB of file: phone photos are 2-12 MB
    max_pixels: int = 50_000_000      # 50 megapixels, read from the header before decoding
    # libwebp decodes through full-size buffers of its own, about 15 bytes a pixel (760 MB at 50
    # megapixels, over the bound); at 25 megapixels it stays within it
    max_webp_pixels: int = 25_000_000
    max_aspect: float = 20.0          # longer side / shorter side: a strip cannot hold a digit


DECODE_BOUND_MB = 600  # the most one decode may add to the process's memory, within LIMITS


LIMITS = Limits()

_warnings_lock = threading.Lock()
_warnings_quiet = False


def quiet_pillow_warnings() -> None:
    """Filter, once, the warnings Pillow's own modules raise while reading a file: its bomb warning
    fires above its own 89-megapixel mark, and our lower limit (``Limits.max_pixels``, checked from
    the header) has refused such images already; a corrupt EXIF block or truncated metadata is
    reported as a note by :func:`read_picture` instead. Only warnings from ``PIL.*`` are filtered:
    a ``UserWarning`` from anyone else's code still shows."""
    global _warnings_quiet
    with _warnings_lock:
        if not _warnings_quiet:
            warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning, module=r"PIL\.")
            warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")   # corrupt EXIF, tags
            _warnings_quiet = True


@dataclass
class Picture:
    """What :func:`read_picture` returns."""

    image: Image.Image                  # "L", "RGB" or "RGBA", upright, longer side at most work_side
    format: str | None                  # "PNG", "JPEG", ... (None for a PIL image or array given directly)
    size: tuple[int, int]               # (width, height) as stored (the header's)
    notes: list[str] = field(default_factory=list)   # what was done beyond the usual (shrunk, EXIF ignored)


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
           work_side: int | None = WORK_SIDE) -> Image.Image:
    """Any :data:`ImageSource` -> a loaded PIL image (first frame only), or :class:`ImageError`.

    Order matters for safety: byte count, then the header's width and height, and only then the
    pixels. ``work_side`` lets JPEG decode at a reduced scale when the image is far larger.
    """
    name = source_name(source, name)
    quiet_pillow_warnings()
    if isinstance(source, Image.Image):
        check_dimensions(*source.size, name, limits)
        try:
            source.load()  # an Image.open()-ed file is read only now
        except Exception as err:  # as below
            raise ImageError(f"{name}: truncated or corrupt image ({one_line(err)})") from None
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
        img = Image.open(io.BytesIO(data), formats=tuple(FORMATS))   # lazy: reads the header only
    except Image.DecompressionBombError as err:  # beyond Pillow's own guard, checked before ours could be
        found = re.search(r"\((\d+) pixels\)", str(err))
        claimed = int(found.group(1)) if found else None
        size = f"{claimed / 1e6:,.0f} megapixels" if claimed else "more pixels than Pillow allows"
        limit = (f"the {limits.max_pixels / 1e6:.0f}-megapixel limit" if claimed and claimed > limits.max_pixels
                 else "Pillow's safety limit")
        raise ImageError(f"{name}: the header claims {size}, more than {limit}; refused before decoding "
                         "(a decompression bomb?)") from None
    except Exception as err:  # each plugin fails its own way (UnidentifiedImageError, SyntaxError, ...)
        kind = "not an image" if isinstance(err, Image.UnidentifiedImageError) else "corrupt image header"
        raise ImageError(f"{name}: {kind} (expected {FORMAT_NAMES})") from None
    check_dimensions(*img.size, name, limits)
    if img.format == "WEBP" and img.size[0] * img.size[1] > limits.max_webp_pixels:
        w, h = img.size
        raise ImageError(f"{name}: a {w}x{h} WebP ({w * h / 1e6:.0f} megapixels) is more than the "
                         f"{limits.max_webp_pixels / 1e6:.0f}-megapixel limit for WebP, whose decoder needs "
                         "about 15 bytes a pixel; shrink it, or send it as PNG or JPEG")
    img.info["header_size"] = img.size  # before draft() may decode it smaller
    if work_side and img.format in ("JPEG", "MPO") and max(img.size) > 2 * work_side:
        img.draft(img.mode, (work_side, work_side))  # decode at 1/2, 1/4 or 1/8 scale: much faster
    if img.format == "TIFF":
        quiet_libtiff()
    try:
        img.load()  # first frame only, for GIF, TIFF and MPO
    except Exception as err:  # truncated data raises OSError, broken streams SyntaxError, ...
        raise ImageError(f"{name}: truncated or corrupt {img.format} image ({one_line(err)})") from None
    return img


def read_picture(source: ImageSource, name: str | None = None, limits: Limits = LIMITS,
                 work_side: int | None = WORK_SIDE) -> Picture:
    """:func:`decode`, then turned upright by its EXIF tag and made 8-bit, at most ``work_side``
    across. The caller's own PIL image is never modified."""
    img = decode(source, name, limits, work_side)
    picture = Picture(img, img.format, img.info.get("header_size", img.size))
    try:  # phones store photos sideways plus an orientation tag
        if img is source:  # the caller's own PIL image: never modify it
            img = ImageOps.exif_transpose(img)
        else:  # decoded here: turn it in place, saving a copy of every pixel (0.3 ms at 400x400)
            ImageOps.exif_transpose(img, in_place=True)
    except Exception:  # a broken EXIF block: keep the pixels as stored
        picture.notes.append("unreadable EXIF orientation ignored")
    picture.image = working_image(img, work_side)   # a new, smaller image: the decoded one is not copied
    if max(picture.size) > max(picture.image.size):
        w, h = picture.image.size
        picture.notes.append(f"shrunk from {picture.size[0]}x{picture.size[1]} to {w}x{h}")
    return picture


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


# --- libtiff's own printing -----------------------------------------------------------------
_libtiff_lock = threading.Lock()
_libtiff_quiet: bool | None = None     # None: not tried yet


def quiet_libtiff() -> bool:
    """Stop libtiff printing its error messages to stderr; True if it could be done.

    Pillow reads compressed TIFFs through libtiff, which reports a damaged file by printing to
    stderr ("tempfile.tif: Using code not yet in table.", thousands of lines while fuzzing) on top
    of the error Pillow raises, which :func:`decode` already turns into one line. Pillow itself
    switches libtiff's *warning* printer off before every TIFF it decodes; this does the same for
    the *error* printer, once, under a lock, by setting libtiff's handlers to NULL through the
    library Pillow loaded (so for every libtiff user in this process). Where libtiff's functions
    cannot be found (Pillow without libtiff, Windows), nothing changes and False is returned.
    Redirecting file descriptor 2 instead would silence every thread's stderr and is not done.
    """
    global _libtiff_quiet
    with _libtiff_lock:
        if _libtiff_quiet is None:
            _libtiff_quiet = _null_libtiff_error_handlers()
        return _libtiff_quiet


def _null_libtiff_error_handlers() -> bool:
    try:
        from PIL import _imaging

        pillow = ctypes.CDLL(_imaging.__file__)    # the handle finds the libtiff it was linked with
        setters = [pillow.TIFFSetErrorHandler, pillow.TIFFSetErrorHandlerExt]
    except (ImportError, OSError, AttributeError):
        return False
    for setter in setters:
        setter.restype, setter.argtypes = ctypes.c_void_p, [ctypes.c_void_p]
        setter(None)
    return True
