"""The MNIST recipe: from a photo, scan or drawing of one digit to the ``(1, 28, 28)`` input LeNet-5 knows.

Lesson: notebook 05 ("Your own digit"). MNIST's digits were not photographs: NIST scanned
black-on-white forms, and LeCun et al. then size-normalised each digit to fit a 20x20 box
(keeping its aspect ratio, anti-aliased, which made the grey levels) and centred it in 28x28 by
its centre of mass. A network trained on that only works on inputs made the same way, so
:func:`preprocess` repeats the procedure on any image:

    stage        what it holds                                              made by
    oriented     decoded safely, upright by its EXIF tag, shrunk            decoding.read_picture
    on_white     transparency composited onto white paper                   preprocess
    grey         one channel, 0 = black ... 255 = white; a sheet on a       paper.find_sheet
                 darker desk cut out
    inverted     light ink on dark paper, as in MNIST (dark-on-light input  paper.find_paper
                 is flipped)
    background   uneven lighting flattened, paper set to 0, ink stretched   paper.remove_background
                 to full strength
    cropped      the ink's bounding box                                     preprocess
    scaled       longer side 20 px, aspect ratio kept, anti-aliased         scale_to_box
    centred      pasted into 28x28, its centre of mass on pixel (14, 14)    place_by_mass

The last three are MNIST's own geometry, and live here. Every stage's image is returned
(``Preprocessed.stages``) so the course can show them. No model, no files written, no state
kept between calls.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np
import torch
from PIL import Image

from ..data import normalize
from .decoding import LIMITS, WORK_SIDE, ImageError, ImageSource, Limits, decode, read_picture, source_name
from .paper import PAPER, PaperConfig, find_paper, find_sheet, remove_background
from .pixels import working_image

__all__ = ["CONFIG", "STAGES", "ImageError", "Limits", "NoDigitFound", "PreprocessConfig", "Preprocessed",
           "Stages", "centre_of_mass", "naive_input", "place_by_mass", "preprocess", "scale_to_box"]


@dataclass(frozen=True)
class PreprocessConfig:
    """The procedure's settings. The defaults reproduce MNIST's normalisation."""

    canvas: int = 28                  # output side, as MNIST
    box: int = 20                     # the digit's longer side is scaled to this (MNIST: 20)
    work_side: int = WORK_SIDE        # larger images are shrunk to this first
    resample: int = Image.LANCZOS     # anti-aliasing filter for the 20 px scaling
    min_contrast: int = 32            # ink must differ from paper by this much (of 255), or "no digit found"
    paper: PaperConfig = PAPER        # how ink is told from paper (lenet_utils.images.paper)


CONFIG = PreprocessConfig()

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


class NoDigitFound(ImageError):
    """A readable image with nothing on it that could be a digit (blank, or too faint).
    ``stages`` holds what was seen before giving up, for a panel to show."""

    def __init__(self, message: str, stages: Mapping[str, np.ndarray] | None = None) -> None:
        super().__init__(message)
        self.stages: Mapping[str, np.ndarray] = stages if stages is not None else {}


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


# --- MNIST's geometry ---------------------------------------------------------------------
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


def _on_canvas(window: np.ndarray, box: tuple[int, int, int, int] | None, shape: tuple[int, int]) -> np.ndarray:
    """``window`` pasted at ``box`` (left, top, right, bottom) into a black picture of ``shape``."""
    out = np.zeros(shape, np.uint8)
    if box is not None:
        x0, y0, x1, y1 = box
        out[y0:y1, x0:x1] = window
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
    picture = read_picture(source, name, limits, config.work_side)
    img, notes = picture.image, picture.notes
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
    sheet = find_sheet(grey, config.paper)
    if sheet is not None and sheet[2] > sheet[0] and sheet[3] > sheet[1]:
        x0, y0, x1, y1 = sheet
        grey = grey.crop(sheet) if isinstance(grey, Image.Image) else grey[y0:y1, x0:x1]
        notes.append(f"a sheet on a darker surface: cut out ({x0}, {y0}) to ({x1}, {y1})")
    else:
        sheet = None
    stages["grey"] = grey

    paper = find_paper(grey, config.paper)
    stages["inverted"] = (lambda: 255 - np.asarray(grey)) if paper.inverted else grey

    window, box, contrast = remove_background(grey, paper, config.paper)
    shape = (grey.size[1], grey.size[0]) if isinstance(grey, Image.Image) else grey.shape
    stages["background"] = lambda: _on_canvas(window, paper.box, shape)
    if box is None or contrast < config.min_contrast:
        raise NoDigitFound(f"{name}: no digit found (the image is blank or too faint: ink differs from "
                           f"the paper by {max(contrast, 0)} of 255 grey levels)", stages)

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
    return Preprocessed(x, pixels, stages, paper.inverted, box, picture.size, picture.format, notes)


def naive_input(source: ImageSource, name: str | None = None, limits: Limits = LIMITS,
                canvas: int = CONFIG.canvas) -> torch.Tensor:
    """What minimal demo apps do, for comparison: greyscale, invert when the picture is mostly
    light, squash the whole picture to 28x28. No cropping, no centring, no aspect ratio.
    Returns the ``(1, 28, 28)`` network input."""
    img = working_image(decode(source, name, limits), CONFIG.work_side)   # bounded memory; 1024 px is plenty
    grey = np.asarray(img.convert("L").resize((canvas, canvas), Image.LANCZOS))
    if grey.mean() > 127:  # dark ink on light paper
        grey = 255 - grey
    return normalize(torch.from_numpy(grey.copy()).unsqueeze(0))[0]
