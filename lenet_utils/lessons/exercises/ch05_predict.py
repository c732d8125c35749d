"""Exercise checkers for notebook 05, making a real image look like MNIST.

Each exercise asks for a small function, one stage of the pipeline, and the checker runs it on
cases built here and compares with what the stage must achieve (the property, not one formula).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ...images.preprocess import CONFIG, centre_of_mass
from ...messages import one_line
from ._answers import unanswered
from ._core import Feedback, Hints, option_for, prediction_feedback, verdict

__all__ = ["check_box_size", "check_is_dark_on_light", "check_centre_shift", "check_predict_naive_uploads"]

# Tiered hints (see _core): a nudge first, the code last; each failed check shows the next level.
BOX_HINTS = Hints("check_box_size", (
    "A 1 must stay thin and a 0 round: what must be the same for both sides?",
    "Both sides are multiplied by the same factor, chosen so that the LONGER side comes out at "
    "20; round each result to a whole number of pixels, and never below 1.",
    "`scale = 20 / max(width, height)`, then `max(1, round(width * scale))` and the same for the height.",
))
DARK_HINTS = Hints("check_is_dark_on_light", (
    "The average brightness misleads (a dim photo of white paper is dark grey). Where in a picture "
    "can you be sure to find paper?",
    "Decide which grey level is the PAPER first: paper fills the edges of the picture. "
    "Then ask whether the ink is darker or lighter than that paper.",
    "`border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])`, `paper = np.median(border)`; "
    "dark ink on light paper when `paper - grey.min()` is larger than `grey.max() - paper`.",
))
CENTRE_HINTS = Hints("check_centre_shift", (
    "MNIST centred each digit's MASS, not its box: where is this patch's centre of mass?",
    "Find the patch's centre of mass (cy, cx) with pixel values as weights: "
    "sum(value * row index) / sum(value), likewise for columns. Then choose the whole-pixel "
    "offset that moves that point to (14, 14).",
    "`rows, cols = np.indices(patch.shape)`, `mass = patch.astype(float)`, "
    "`cy = (rows * mass).sum() / mass.sum()` (cx likewise); the offset is `round(14 - cy), round(14 - cx)`.",
))

BOX, CANVAS = CONFIG.box, CONFIG.canvas     # MNIST's digit box (20) and image side (28)


def _call(fn: Callable, *args) -> tuple[Any, Feedback | None]:
    """Run the learner's function; a crash becomes a hint, never a traceback."""
    try:
        return fn(*args), None
    except Exception as err:  # any error in the learner's code is feedback
        shown = ", ".join(f"array of shape {a.shape}" if isinstance(a, np.ndarray) else repr(a) for a in args)
        return None, Feedback(False, f"Your function raised {type(err).__name__} ({one_line(err)}) when "
                                     f"called with {shown}.")


def _not_function(answer: Any, form: str) -> Feedback | None:
    if not callable(answer):
        return Feedback(False, f"Give a function ({form}), not a {type(answer).__name__}: "
                               "define it with `def` and set `answer` to its name, without calling it.")
    return None


# --- exercise 1: the 20-pixel box --------------------------------------------------------------
BOX_CASES = [(100, 50), (30, 120), (7, 7), (400, 30), (41, 39), (20, 80), (3, 9), (500, 10)]  # the last: a dash


def check_box_size(answer: Any, variant: int = 0) -> Feedback:
    """Exercise 1: ``answer(width, height) -> (new_width, new_height)``: the longer side becomes 20
    pixels and the aspect ratio is kept, as MNIST scaled its digits. ``variant`` > 0 checks 16 other
    sizes drawn from that seed (the graded assignment's hidden test)."""
    hint = BOX_HINTS
    if answer is None:
        return unanswered(hint)
    wrong = _not_function(answer, "width, height -> (new width, new height)")
    if wrong is not None:
        return wrong
    cases = BOX_CASES
    if variant:
        cases = [tuple(int(v) for v in pair) for pair in np.random.default_rng(variant).integers(1, 800, (16, 2))]
    for w, h in cases:
        out, crash = _call(answer, w, h)
        if crash is not None:
            return crash
        if not (isinstance(out, (tuple, list)) and len(out) == 2
                and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in out)):
            return hint.failed(f"For ({w}, {h}) it returned {out!r}: return two whole numbers, "
                               "(new_width, new_height). ")
        nw, nh = int(out[0]), int(out[1])
        if min(nw, nh) < 1:
            return Feedback(False, f"For a {w}x{h} crop it gave {nw}x{nh}: no side may shrink to 0 pixels, "
                                   "even for a very thin digit like a 1.")
        # the longer side stays the longer one; a near-square crop may round to 20 x 20 (a tie)
        if max(nw, nh) != BOX or (w > h and nw < nh) or (h > w and nh < nw):
            return hint.failed(f"For a {w}x{h} crop it gave {nw}x{nh}: the longer side must become "
                               f"exactly {BOX}, and stay the longer one. ")
        exact = (w * BOX / max(w, h), h * BOX / max(w, h))
        if abs(nw - exact[0]) > 1 or abs(nh - exact[1]) > 1:
            return hint.failed(f"For a {w}x{h} crop it gave {nw}x{nh}: the shape is distorted. "
                               "Use one scale factor for both sides. ")
    return verdict(True, "the longer side is 20 px and the shape is kept, so a 1 stays thin and a 0 stays "
                         "round. MNIST then left a 4-pixel margin around this box.", hint)


# --- exercise 2: which way round is the ink? ---------------------------------------------------
def _sheet(paper: float, ink: float, size: tuple[int, int] = (60, 80), shade: float = 0.0,
           seed: int = 0) -> np.ndarray:
    """A grey picture of a ring (a '0') in ``ink`` on ``paper``, optionally lit unevenly."""
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w]
    r = np.hypot((yy - h * 0.5) / (h * 0.3), (xx - w * 0.45) / (w * 0.22))
    ring = (np.abs(r - 1.0) < 0.22).astype(np.float64)
    img = paper * (1 - ring) + ink * ring
    img = img * (1 - shade * xx / w)
    img += np.random.default_rng(seed).normal(0, 3, img.shape)
    return np.clip(img, 0, 255).round().astype(np.uint8)


DARK_ON_LIGHT_CASES = [  # (image, is it dark ink on light paper?, what it is)
    (_sheet(235, 30), True, "black pen on white paper"),
    (_sheet(20, 240, seed=1), False, "white chalk on a blackboard (MNIST's way round)"),
    (_sheet(110, 25, seed=2), True, "a photo taken in dim light: grey paper, black ink"),
    (_sheet(150, 250, seed=3), False, "bright ink on mid-grey"),
    (_sheet(240, 60, shade=0.5, seed=4), True, "white paper in a shadow, dark ink"),
]


def check_is_dark_on_light(answer: Any) -> Feedback:
    """Exercise 2: ``answer(grey) -> bool``: is this greyscale picture dark ink on light paper (so it
    must be inverted to look like MNIST)?"""
    hint = DARK_HINTS
    if answer is None:
        return unanswered(hint)
    wrong = _not_function(answer, "a (H, W) uint8 array -> True or False")
    if wrong is not None:
        return wrong
    for img, truth, what in DARK_ON_LIGHT_CASES:
        out, crash = _call(answer, img.copy())
        if crash is not None:
            return crash
        if not isinstance(out, (bool, np.bool_)):
            return Feedback(False, f"It returned {out!r}; return True or False.")
        if bool(out) != truth:
            extra = (" Comparing the mean with 127 fails here: in dim light the paper itself is dark."
                     if "dim light" in what else "")
            return hint.failed(f"Wrong for {what}.{extra} ")
    return verdict(True, "the paper, not the average brightness, decides. A mean-brightness rule fails on "
                         "a dim photo, where white paper comes out grey.", hint)


# --- exercise 3: centring by mass --------------------------------------------------------------
def _seven() -> np.ndarray:
    p = np.zeros((20, 16), np.uint8)
    p[0:2, :] = 255            # a heavy top bar pulls the centre of mass up
    for r in range(2, 20):     # a diagonal stem
        c = int(14 - r * 0.6)
        p[r, max(c - 1, 0):c + 2] = 255
    return p


def _blob_in_corner() -> np.ndarray:
    p = np.zeros((12, 12), np.uint8)
    p[8:12, 8:12] = 255        # nearly all the mass in one corner of its box
    p[0, 0] = 40
    return p


CENTRE_CASES = [np.full((20, 20), 255, np.uint8), _seven(), _blob_in_corner(), np.full((20, 6), 255, np.uint8)]


def check_centre_shift(answer: Any) -> Feedback:
    """Exercise 3: ``answer(patch) -> (top, left)``: where to paste a scaled digit ``patch`` (at most
    20x20) into a 28x28 black image so its centre of mass lands on pixel (14, 14), like MNIST's."""
    hint = CENTRE_HINTS
    if answer is None:
        return unanswered(hint)
    wrong = _not_function(answer, "a (h, w) uint8 array -> (top, left)")
    if wrong is not None:
        return wrong
    for patch in CENTRE_CASES:
        out, crash = _call(answer, patch.copy())
        if crash is not None:
            return crash
        if not (isinstance(out, (tuple, list)) and len(out) == 2
                and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in out)):
            return Feedback(False, f"It returned {out!r}: return two whole numbers (top, left), the row and "
                                   "column of the 28x28 image where the patch's top-left pixel goes.")
        top, left = int(out[0]), int(out[1])
        h, w = patch.shape
        if not (0 <= top <= CANVAS - h and 0 <= left <= CANVAS - w):
            return Feedback(False, f"({top}, {left}) puts a {h}x{w} patch partly outside the 28x28 image.")
        cy, cx = centre_of_mass(patch)
        off = max(abs(top + cy - CANVAS / 2), abs(left + cx - CANVAS / 2))
        if off > 0.5 + 1e-9:
            geometric = (top, left) == ((CANVAS - h) // 2, (CANVAS - w) // 2) or \
                (top, left) == (round((CANVAS - h) / 2), round((CANVAS - w) / 2))
            why = (" That centres the patch's BOX; MNIST centred its MASS (a 7's heavy bar pulls it up)."
                   if geometric else "")
            return hint.failed(f"For a {h}x{w} patch the centre of mass lands {off:.1f} px from (14, 14).{why} ")
    return verdict(True, "every centre of mass now sits within half a pixel of (14, 14), as in MNIST, "
                         "so the network finds each digit where it learned to look.", hint)


# --- predict before you run: the naive resize on 240 uploads -----------------------------------
NAIVE_OPTIONS = {"a": "90% or more (a little below MNIST)", "b": "50% to 90%", "c": "15% to 50%",
                 "d": "under 15% (about what answering at random scores, 10%)"}
NAIVE_RANGES = {"a": (0.9, 1.01), "b": (0.5, 0.9), "c": (0.15, 0.5), "d": (0.0, 0.15)}


def check_predict_naive_uploads(prediction: Any, scores: Any) -> Feedback:
    """Predict before you run: the shipped model's accuracy on uploads squashed naively to 28x28.
    ``prediction``: one of "a"-"d" (NAIVE_OPTIONS); ``scores``: what ``score_uploads`` measured."""
    total = scores.get("all") if isinstance(scores, dict) else None
    if total is None or not hasattr(total, "naive"):
        return Feedback(False, "Pass the measurement as the second argument: the `scores` that "
                               "`score_uploads(...)` returned (run its cell first).")
    return prediction_feedback(
        prediction, NAIVE_OPTIONS, option_for(total.naive, NAIVE_RANGES),
        f"{total.naive:.2%} naive (the same digits through the pipeline: {total.pipeline:.2%})",
        "Ten digit classes make random answers right 1 time in 10; the squashed uploads look alike to the "
        "network (a faint smudge on grey), so it gives most of them the same few answers, and scores "
        "whatever share of the digits those answers happen to be.")
