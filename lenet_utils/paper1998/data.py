"""The 1998 input: MNIST's 28x28 digits centred in a 32x32 field, background -0.1 and ink 1.175,
and the paper's random planar affine distortions (translation, scaling, squeezing, shearing).

LeCun et al. (1998, section III-A): "the values of the input pixels are normalized so that the
background level (white) corresponds to a value of -0.1 and the foreground (black) corresponds to
1.175. This makes the mean input roughly 0, and the variance roughly 1." MNIST's pixels run from 0
(paper) to 255 (ink), so ``-0.1 + 1.275 * p / 255``. The 28x28 digit is padded by 2 pixels of
background on each side, so that the ends of strokes can sit in the middle of C1's receptive fields.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

__all__ = ["BACKGROUND", "INK", "Distortion", "to_paper_pixels"]

BACKGROUND, INK = -0.1, 1.175


def to_paper_pixels(pixels: torch.Tensor) -> torch.Tensor:
    """uint8 ``(N, 28, 28)`` (0 paper .. 255 ink) -> float ``(N, 1, 32, 32)`` in [-0.1, 1.175]."""
    if pixels.dtype != torch.uint8 or pixels.dim() != 3 or tuple(pixels.shape[1:]) != (28, 28):
        raise ValueError(f"expected uint8 MNIST pixels of shape (N, 28, 28), got {pixels.dtype} "
                         f"{tuple(pixels.shape)}")
    x = pixels.float().unsqueeze(1) * ((INK - BACKGROUND) / 255.0) + BACKGROUND   # (N, 1, 28, 28)
    return F.pad(x, (2, 2, 2, 2), value=BACKGROUND)                                  # (N, 1, 32, 32)


@dataclass(frozen=True)
class Distortion:
    """Random planar affine distortions, drawn afresh for every image each time it is shown.

    The paper (section III-C, Fig. 7) names the four kinds and shows examples but gives no ranges;
    these are our choice, sized so that the distorted digits look like Fig. 7's: a shift of up to
    2 pixels, a zoom of +-10%, a squeeze (one axis x (1 + q), the other / (1 + q)) with |q| <= 0.1,
    and a shear of up to 0.15 (about 8.5 degrees). The paper made 540,000 distorted copies once;
    drawing new ones each pass shows the network more different images for the same time."""

    max_shift: float = 2.0
    max_zoom: float = 0.10
    max_squeeze: float = 0.10
    max_shear: float = 0.15

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        b, _, h, w = x.shape                                                   # (B, 1, 32, 32)
        r = torch.rand(b, 5, generator=generator) * 2 - 1                      # uniform in [-1, 1)
        zoom = 1 + r[:, 0] * self.max_zoom
        squeeze = 1 + r[:, 1] * self.max_squeeze
        sx, sy = zoom * squeeze, zoom / squeeze                                # scale per axis
        shear = r[:, 2] * self.max_shear
        tx, ty = r[:, 3] * self.max_shift * 2 / w, r[:, 4] * self.max_shift * 2 / h   # pixels -> [-1, 1]
        # output -> input coordinates: the inverse of "scale, then shear x by y"
        theta = torch.zeros(b, 2, 3)
        theta[:, 0, 0], theta[:, 0, 1], theta[:, 0, 2] = 1 / sx, -shear / sy, tx
        theta[:, 1, 1], theta[:, 1, 2] = 1 / sy, ty
        grid = F.affine_grid(theta.to(x.dtype), list(x.shape), align_corners=False)
        # sample around the background so uncovered corners stay paper
        return F.grid_sample(x - BACKGROUND, grid, align_corners=False) + BACKGROUND
