"""Notebook 02's stepping convolution: the hand arithmetic equals F.conv2d, and the widget draws it."""

import io

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from lenet_utils.widgets.conv_stepper import ConvStepper, conv_step, conv_stepper


def by_hand(image, kernel, bias, padding):
    side = image.shape[-1] + 2 * padding - kernel.shape[-1] + 1
    return torch.tensor([[conv_step(image, kernel, r, c, bias, padding).output for c in range(side)]
                         for r in range(side)])


@pytest.mark.parametrize("padding", [0, 1, 2])
def test_every_position_equals_conv2d_exactly_on_whole_numbers(padding):
    """Whole numbers add up exactly in any order, so here the hand sum and conv2d's are equal."""
    g = torch.Generator().manual_seed(padding)
    image = torch.randint(-9, 10, (12, 12), generator=g).float()
    kernel = torch.randint(-3, 4, (5, 5), generator=g).float()
    expected = F.conv2d(image[None, None], kernel[None, None], torch.tensor([2.0]), padding=padding)[0, 0]
    assert torch.equal(by_hand(image, kernel, 2.0, padding), expected)


def test_on_a_real_digit_and_kernel_it_matches_conv2d_to_float_rounding():
    g = torch.Generator().manual_seed(0)
    image, kernel = torch.randn(28, 28, generator=g), torch.randn(5, 5, generator=g)
    expected = F.conv2d(image[None, None], kernel[None, None], torch.tensor([0.3]), padding=2)[0, 0]
    assert torch.allclose(by_hand(image, kernel, 0.3, 2), expected, atol=1e-5)


def test_one_step_shows_its_parts():
    image = torch.arange(36.0).reshape(6, 6)
    kernel = torch.ones(3, 3)
    step = conv_step(image, kernel, 1, 2, bias=0.5)
    assert torch.equal(step.patch, image[1:4, 2:5]) and torch.equal(step.products, image[1:4, 2:5])
    assert step.total == image[1:4, 2:5].sum().item() and step.output == step.total + 0.5
    padded = conv_step(image, kernel, 0, 0, padding=1)       # the top-left corner sees the zero border
    assert padded.patch[0].tolist() == [0, 0, 0] and padded.patch[1].tolist() == [0, 0, 1]
    with pytest.raises(IndexError, match="outside the 4x4 output"):
        conv_step(image, kernel, 4, 0)


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def red_box(png: bytes, scale: int) -> tuple[int, int]:
    """The (row, col) in image pixels where the red frame starts."""
    red = np.all(pixels(png) == (220, 30, 30), axis=2)
    rows, cols = np.nonzero(red)
    return rows.min() // scale, cols.min() // scale


@pytest.fixture
def stepper():
    g = torch.Generator().manual_seed(1)
    weight, bias = torch.randn(6, 1, 5, 5, generator=g), torch.randn(6, generator=g)
    w = ConvStepper(torch.rand(1, 28, 28, generator=g), weight, bias)
    yield w
    w.close()


def test_the_widget_builds_with_a_play_button_driving_the_slider(stepper):
    assert stepper.padding == 2 and stepper.side == 28
    assert stepper.slider.max == stepper.play.max == 28 * 28 - 1
    assert pixels(stepper.input_view.value).shape == (32 * 7, 32 * 7, 3)     # the padded digit, blown up
    assert pixels(stepper.output_view.value).shape == (28 * 8, 28 * 8, 3)
    assert "output[0, 0]" in stepper.total.value and "ConvStepper(" in repr(stepper)


def test_a_saved_notebook_keeps_a_still_picture_beside_the_widget(stepper):
    stepper.slider.value = 28 * 5 + 6
    data = stepper._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data and data["text/plain"].startswith("ConvStepper(")
    still = pixels(data["image/png"])
    assert still.shape == (224, 224 + 24 + 224, 3)
    assert np.array_equal(still[:, :224], pixels(stepper.input_view.value))      # the digit and its window
    assert np.array_equal(still[:, 248:], pixels(stepper.output_view.value))     # the map, filled so far


def test_moving_the_slider_moves_the_patch_and_fills_the_map(stepper):
    before = stepper.input_view.value
    assert red_box(before, 7) == (0, 0) and stepper.filled().sum() == 1
    stepper.slider.value = 28 * 9 + 13                       # row 9, column 13
    assert stepper.position == (9, 13)
    assert stepper.input_view.value != before and red_box(stepper.input_view.value, 7) == (9, 13)
    assert red_box(stepper.output_view.value, 8) == (9, 13)
    assert stepper.filled().sum() == 28 * 9 + 14 and stepper.filled()[9, 13] and not stepper.filled()[9, 14]
    step = stepper.step()
    expected = F.conv2d(stepper.image[None, None], stepper.weight[0][None, None], stepper.bias[:1], padding=2)
    assert step.output == pytest.approx(expected[0, 0, 9, 13].item(), abs=1e-5)
    assert f"= <b>{step.output:+.3f}</b> = output[9, 13]" in stepper.total.value
    assert f"{step.products[2, 2].item():.2f}" in stepper.sums.value
    not_yet = pixels(stepper.output_view.value)[27 * 8 + 4, 27 * 8 + 4]   # the last pixel: not reached yet
    assert tuple(not_yet) == (235, 235, 235)


def test_another_kernel_redraws_the_output_map(stepper):
    stepper.slider.value = 400
    before, sums = stepper.output_view.value, stepper.sums.value
    stepper.channel.value = 3
    assert stepper.output_view.value != before and stepper.sums.value != sums
    assert stepper.step().output == pytest.approx(stepper.output_map[stepper.position], abs=1e-6)


def test_the_default_is_a_real_digit_and_the_shipped_conv1():
    from lenet_utils.checkpoints import load_pretrained
    from lenet_utils.data import load_mnist

    w = conv_stepper()
    try:
        assert torch.equal(w.weight, load_pretrained().conv1.weight.detach()[:, 0])
        assert torch.equal(w.image, load_mnist("test").images[0][0]) and w.label == "test image 0, a 7"
        assert w.side == 28 and len(w.channel.options) == 6
    finally:
        w.close()
