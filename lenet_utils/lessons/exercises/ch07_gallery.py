"""Exercise checkers for notebook 07, the class's own handwriting.

The class's digits are the notebook's (the class database, or the simulated class): the checkers take
the gallery the notebook loaded and measure on it; nothing about the class is typed in here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...classroom.gallery import Gallery
from ...messages import one_line
from ._answers import as_number, unanswered
from ._core import Feedback, Hints, option_for, prediction_feedback, verdict

__all__ = ["check_predict_class_gap", "check_split_by_writer"]


# --- predict before you run: how much worse on the class's handwriting? --------------------------
GAP_OPTIONS = {"a": "within 1 point of MNIST's", "b": "1 to 5 points lower", "c": "5 to 20 points lower",
               "d": "more than 20 points lower"}
GAP_RANGES = {"a": (-1.0, 0.01), "b": (0.01, 0.05), "c": (0.05, 0.20), "d": (0.20, 1.01)}


def check_predict_class_gap(prediction: Any, gallery: Any, mnist_accuracy: Any) -> Feedback:
    """Predict before you run: how far below its MNIST test accuracy does the shipped model read the
    class's digits? ``prediction``: one of "a"-"d" (GAP_OPTIONS); ``gallery``: the class's digits as the
    notebook loaded them; ``mnist_accuracy``: the shipped model's MNIST test accuracy, as measured."""
    mnist = as_number(mnist_accuracy)
    if not isinstance(gallery, Gallery) or mnist is None or not 0 <= mnist <= 1:
        return Feedback(False, "Pass the measurements too: `check_predict_class_gap(prediction, g, mnist_acc)`, "
                               "with the gallery `g` and the MNIST accuracy (a fraction) computed above.")
    if len(gallery) == 0:
        return Feedback(False, "The gallery is empty: share some digits first (or run the demo cell above).")
    gap = mnist - gallery.accuracy()
    return prediction_feedback(
        prediction, GAP_OPTIONS, option_for(gap, GAP_RANGES),
        f"{gallery.accuracy():.2%} on the class's {len(gallery)} digits against {mnist:.2%} on MNIST's test "
        f"set, {gap * 100:.1f} points lower",
        "MNIST's test set was written by the same kind of writers, scanned and normalised the same way, as "
        "its training set; a new group of writers and a new way of capturing the digits is a shift the "
        "network never saw. (On " + f"{len(gallery)} digits one digit is {100 / len(gallery):.1f} points.)")


# --- exercise: a split by writer ---------------------------------------------------------------
WRITER_HINTS = Hints("check_split_by_writer", (
    "Splitting the digits at random (as section 2 does) puts every student on both sides. What should be "
    "shuffled and cut in two instead?",
    "Take the sorted set of nicknames, shuffle it with a seeded generator, give the first half of the "
    "students to training; then keep every digit whose nickname is in that half (and the rest for testing) "
    "with `g.take(indices)`.",
    "`names = sorted(set(g.nicknames))`; `rng = np.random.default_rng(seed)`; "
    "`train_names = set(rng.permutation(names)[: len(names) // 2])`; "
    "`inside = np.array([n in train_names for n in g.nicknames], dtype=bool)`; "
    "`return g.take(np.flatnonzero(inside)), g.take(np.flatnonzero(~inside))`.",
))


def _toy_gallery() -> Gallery:
    """Seven writers sharing 3 to 12 digits each: a split of digits, not writers, shows here."""
    counts = [3, 12, 5, 9, 4, 10, 7]
    names = [f"writer{i}" for i, c in enumerate(counts) for _ in range(c)]
    n = len(names)
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, n)
    return Gallery(ids=np.arange(100, 100 + n), pixels=np.zeros((n, 28, 28), np.uint8), labels=labels,
                   predicted=labels.copy(), confidence=np.ones(n), p_true=np.ones(n), nicknames=names)


def check_split_by_writer(answer: Any, gallery: Any = None) -> Feedback:
    """Exercise: ``answer(g) -> (train, test)``, two galleries with every digit of ``g`` in exactly one,
    and no student on both sides, about half of the students on each. Checked on ``gallery`` (the
    notebook's ``g``) and on a toy class of seven writers of their own."""
    hint = WRITER_HINTS
    if answer is None:
        return unanswered(hint)
    if not callable(answer):
        return Feedback(False, f"Give a function (g -> (train, test)), not a {type(answer).__name__}: define "
                               "it with `def` and set `answer` to its name, without calling it.")
    cases = [_toy_gallery()] + ([gallery] if isinstance(gallery, Gallery) and len(gallery) else [])
    for g in cases:
        what = "the toy class of 7 writers" if g is cases[0] else f"your gallery of {len(g)} digits"
        try:
            out = answer(g)
        except Exception as err:  # the learner's code: a hint, never a traceback
            return hint.failed(f"On {what} your function raised {type(err).__name__} ({one_line(err)}). ")
        if not (isinstance(out, (tuple, list)) and len(out) == 2 and all(isinstance(s, Gallery) for s in out)):
            return hint.failed(f"On {what} it returned {type(out).__name__}: return two galleries, "
                               "(train, test), e.g. from `g.take(...)`. ")
        train, test = out
        ids = np.concatenate([train.ids, test.ids])
        if len(ids) != len(g) or set(ids.tolist()) != set(g.ids.tolist()):
            return hint.failed(f"On {what} the two sides hold {len(train)} + {len(test)} digits; every one "
                               f"of the {len(g)} digits must be on exactly one side. ")
        both = set(train.nicknames) & set(test.nicknames)
        if both:
            return hint.failed(f"On {what} {len(both)} student(s) are on both sides (e.g. {sorted(both)[0]}): "
                               "the test would see handwriting the network trained on. ")
        writers = len(set(g.nicknames))
        if abs(len(set(train.nicknames)) - writers / 2) > 1:
            return hint.failed(f"On {what}, {len(set(train.nicknames))} of {writers} students train: put "
                               "about half of the students on each side. ")
    return verdict(True, "no student is on both sides, so the held-out digits are handwriting the network "
                         "never saw, as next year's class will be.", hint)

