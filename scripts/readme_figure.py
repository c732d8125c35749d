"""Regenerate ``docs/images/inside_lenet.png``, the README's picture of what the course is about.

One of the project's example photos (``data/examples/``) goes through the package as a learner's
upload would: made to look like MNIST (``predict_image``), then through the shipped LeNet-5. The
figure shows the photo, the 28x28 input the network sees, conv1's six feature maps (after pooling
and ReLU, 14x14 each) and the ten probabilities. Nothing is drawn by hand.

    python scripts/readme_figure.py                 # writes docs/images/inside_lenet.png
    python scripts/readme_figure.py --out /tmp/x.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")                       # a file, no window

import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
import torch  # noqa: E402
from PIL import Image, ImageOps  # noqa: E402

from lenet_utils.checkpoints import load_pretrained  # noqa: E402
from lenet_utils.predict import example_images, predict_image  # noqa: E402
from lenet_utils.summary import layer_outputs  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "docs" / "images" / "inside_lenet.png"
EXAMPLE = "4_phone_photo"                   # a photo: the case a naive resize gets wrong


def draw(example: Path) -> plt.Figure:
    model = load_pretrained().eval()
    answer = predict_image(example, model)
    assert answer.ok, answer.error
    with torch.no_grad():                   # (1, 1, 28, 28) -> each layer's output, in order
        outputs = {name: out for name, _, out in layer_outputs(model, answer.image.unsqueeze(0))}
    maps = outputs["relu1"][0]              # (6, 14, 14): conv1 -> average pool -> ReLU

    fig = plt.figure(figsize=(9.6, 2.5), dpi=100, layout="constrained")
    grid = fig.add_gridspec(2, 7, width_ratios=[2, 2, 1, 1, 1, 0.3, 3.2])
    photo = ImageOps.exif_transpose(Image.open(example))
    photo.thumbnail((240, 240))
    ax = fig.add_subplot(grid[:, 0])
    ax.imshow(photo)
    ax.set_title("a phone photo", fontsize=10)
    ax = fig.add_subplot(grid[:, 1])
    ax.imshow(answer.image[0].numpy(), cmap="gray")
    ax.set_title("28×28, as MNIST", fontsize=10)
    for i in range(6):
        ax = fig.add_subplot(grid[i // 3, 2 + i % 3])
        ax.imshow(maps[i].numpy(), cmap="viridis")
        if i == 1:
            ax.set_title("conv1: 6 feature maps", fontsize=10)
    for ax in fig.axes:
        ax.set_xticks([])
        ax.set_yticks([])
    ax = fig.add_subplot(grid[:, 6])
    colours = ["tab:orange" if d == answer.label else "tab:blue" for d in range(10)]
    ax.barh(range(10), answer.probabilities, color=colours)
    ax.set_yticks(range(10))
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("probability")
    ax.set_title(f"LeNet-5 says {answer.label} ({answer.confidence:.1%})", fontsize=10)
    return fig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"the PNG to write (default {OUT})")
    args = parser.parse_args()
    example = next(p for p in example_images() if p.stem == EXAMPLE)
    fig = draw(example)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, metadata={"Software": None})     # no version stamp: the same figure, the same bytes
    print(f"written: {args.out} ({args.out.stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
