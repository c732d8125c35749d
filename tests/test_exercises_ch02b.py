"""Notebook 02b's exercise checkers: right answers pass, wrong ones get a hint that does not give it away."""

import numpy as np
import pytest

from lenet_utils.lessons.exercises import (
    check_avgpool_backward,
    check_conv_backward,
    check_corner_pixel_uses,
    check_logit_grad_sum,
)


def test_logit_grad_sum():
    assert check_logit_grad_sum(0) and check_logit_grad_sum(np.float64(0.0))
    assert "one-hot vector is subtracted" in check_logit_grad_sum(1).message
    assert "one-hot part alone" in check_logit_grad_sum(-1).message
    assert "one number" in check_logit_grad_sum("zero").message
    assert not check_logit_grad_sum(0.5)


def test_corner_pixel_uses():
    assert check_corner_pixel_uses(9)
    assert "middle of the image" in check_corner_pixel_uses(25).message
    assert "1x1 kernel" in check_corner_pixel_uses(1).message
    assert not check_corner_pixel_uses(4) and "9" not in check_corner_pixel_uses(4).message
    assert "whole number" in check_corner_pixel_uses(9.5).message


@pytest.mark.parametrize("check", [check_logit_grad_sum, check_corner_pixel_uses, check_conv_backward,
                                   check_avgpool_backward])
def test_unanswered_says_how_to_answer(check):
    assert "still None" in check(None).message


# --- exercise 3: the loop version of convolution's backward, and the bugs a learner makes ---------------
def conv_backward_loops(d_out, x_padded, w):
    """The right answer, written as the notebook's solution writes it."""
    d_x, d_w, d_b = np.zeros_like(x_padded), np.zeros_like(w), np.zeros(w.shape[0])
    batch, filters, out_h, out_w = d_out.shape
    _, channels, k, _ = w.shape
    for b in range(batch):
        for f in range(filters):
            for h in range(out_h):
                for v in range(out_w):
                    d_b[f] += d_out[b, f, h, v]
                    for c in range(channels):
                        for i in range(k):
                            for j in range(k):
                                d_w[f, c, i, j] += d_out[b, f, h, v] * x_padded[b, c, h + i, v + j]
                                d_x[b, c, h + i, v + j] += d_out[b, f, h, v] * w[f, c, i, j]
    return d_x, d_w, d_b


def make_buggy(bug):
    def answer(d_out, x_padded, w):
        d_x, d_w, d_b = conv_backward_loops(d_out, x_padded, w)
        if bug == "x at the output's position":   # the notebook's bug: x_padded[b, c, h, v]
            d_w = np.zeros_like(w)
            for b in range(d_out.shape[0]):
                for f in range(d_out.shape[1]):
                    for h in range(d_out.shape[2]):
                        for v in range(d_out.shape[3]):
                            d_w[f] += d_out[b, f, h, v] * x_padded[b, :, h, v][:, None, None]
        elif bug == "kernel flipped":
            d_x, _, _ = conv_backward_loops(d_out, x_padded, w[:, :, ::-1, ::-1])
        elif bug == "bias not summed over the batch":
            d_b = d_out[0].sum(axis=(1, 2))
        return d_x, d_w, d_b
    return answer


def test_conv_backward_right():
    assert check_conv_backward(conv_backward_loops)


@pytest.mark.parametrize("bug, names", [("x at the output's position", "d_K is wrong"),
                                        ("kernel flipped", "d_x_padded is wrong"),
                                        ("bias not summed over the batch", "d_b is wrong")])
def test_conv_backward_names_the_wrong_gradient(bug, names):
    feedback = check_conv_backward(make_buggy(bug))
    assert not feedback and names in feedback.message


def test_conv_backward_wrong_forms():
    assert "function itself" in check_conv_backward(np.zeros(3)).message
    assert "three arrays" in check_conv_backward(lambda d, x, w: (x, w)).message
    assert "ZeroDivisionError" in check_conv_backward(lambda d, x, w: 1 / 0).message
    assert "shape" in check_conv_backward(lambda d, x, w: (x, w, np.zeros(99))).message


# --- exercise 4: average pooling's backward --------------------------------------------------------------
def avgpool_backward_right(d_out, x_shape):
    d_x = np.zeros(x_shape)
    out_h, out_w = d_out.shape[2:]
    d_x[:, :, :2 * out_h, :2 * out_w] = np.repeat(np.repeat(d_out, 2, axis=2), 2, axis=3) / 4
    return d_x


def avgpool_backward_even_only(d_out, x_shape):
    return np.repeat(np.repeat(d_out, 2, axis=2), 2, axis=3).reshape(x_shape) / 4


def avgpool_backward_as_max(d_out, x_shape):
    d_x = np.zeros(x_shape)
    out_h, out_w = d_out.shape[2:]
    d_x[:, :, 0:2 * out_h:2, 0:2 * out_w:2] = d_out
    return d_x


def test_avgpool_backward_right():
    assert check_avgpool_backward(avgpool_backward_right)


@pytest.mark.parametrize("answer, says", [
    (lambda d, shape: 4 * avgpool_backward_right(d, shape), "4 times too large"),
    (avgpool_backward_as_max, "max pooling"),
    (avgpool_backward_even_only, "odd side"),
    (lambda d, shape: d, "must have that shape"),
    (lambda d, shape: -avgpool_backward_right(d, shape), "Spread each d_out"),
    (np.ones(3), "function itself"),
])
def test_avgpool_backward_wrong(answer, says):
    feedback = check_avgpool_backward(answer)
    assert not feedback and says in feedback.message


def test_the_checkers_need_no_pytorch():
    """Like by_hand, the module imports NumPy only (the notebook's checks could run in a browser)."""
    import ast
    from pathlib import Path

    import lenet_utils.lessons.exercises.ch02b_backprop as module

    tree = ast.parse(Path(module.__file__).read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level == 0}
    assert imported <= {"numpy", "__future__", "typing"}, imported
