"""Notebook 07's exercise checkers: a split by writer, and the prediction of the class's gap.

The gallery is a small simulated class stored in a temporary class database, as notebook 07 does
when no class has shared yet.
"""

import numpy as np
import pytest

from lenet_utils import load_pretrained
from lenet_utils.classroom import gallery as G
from lenet_utils.classroom.store import ClassDB
from lenet_utils.lessons import exercises as ex
from lenet_utils.lessons.exercises import ch07_gallery as ch07
from lenet_utils.lessons.exercises import check_predict_class_gap, check_split_by_writer, hint, reset_hints
from lenet_utils.synthetic.simulated_class import fill_demo_db, simulate_class


@pytest.fixture(autouse=True)
def _fresh_hints():
    reset_hints()
    yield
    reset_hints()


@pytest.fixture(scope="module")
def g(tmp_path_factory):
    db = ClassDB(tmp_path_factory.mktemp("class") / "demo.sqlite")
    fill_demo_db(db, simulate_class(writers=6, seed=1), load_pretrained())
    return G.load_gallery(db)


def split_by_writer(g, seed=0):
    """The solutions notebook's answer."""
    names = sorted(set(g.nicknames))
    rng = np.random.default_rng(seed)
    train_names = set(rng.permutation(names)[: len(names) // 2])
    inside = np.array([n in train_names for n in g.nicknames], dtype=bool)
    return g.take(np.flatnonzero(inside)), g.take(np.flatnonzero(~inside))


def test_a_split_by_writer_passes(g):
    assert len(g) == 60 and len(set(g.nicknames)) == 6
    assert check_split_by_writer(split_by_writer, g)
    assert check_split_by_writer(split_by_writer)           # on the toy class alone


@pytest.mark.parametrize("wrong, says", [
    (lambda g: g.split(test_fraction=0.5, seed=0), "on both sides"),             # digits split, not writers
    (lambda g: (g, g), "exactly one side"),                                      # every digit twice
    (lambda g: (g.take(np.arange(0)), g), "about half of the students"),         # nobody trains
    (lambda g: split_by_writer(g)[0], "return two galleries"),
    (lambda g: 1 / 0, "ZeroDivisionError"),
])
def test_wrong_splits_get_the_reason(g, wrong, says):
    feedback = check_split_by_writer(wrong, g)
    assert not feedback and says in feedback.message, feedback.message


def test_not_a_function_and_unanswered(g):
    assert "Give a function" in check_split_by_writer(split_by_writer(g), g).message   # called, not passed
    assert "still None" in check_split_by_writer(None).message


def test_the_hints_are_tiered_and_the_code_hint_is_the_solution(g):
    assert [check_split_by_writer(lambda g: (g, g), g).level for _ in range(4)] == [1, 2, 3, 3]
    code = hint(check_split_by_writer, 3).message
    assert "rng.permutation(names)" in code and "g.take(np.flatnonzero(~inside))" in code
    assert "`" not in ch07.WRITER_HINTS.levels[0]


def test_class_gap_prediction_is_judged_by_the_measurement(g):
    gap = 0.99 - g.accuracy()
    truth = next(k for k, (lo, hi) in ch07.GAP_RANGES.items() if lo <= gap < hi)
    assert check_predict_class_gap(truth, g, 0.99)
    wrong = next(k for k in ch07.GAP_OPTIONS if k != truth)
    feedback = check_predict_class_gap(wrong, g, 0.99)
    assert not feedback and f"{g.accuracy():.2%}" in feedback.message and f'"{truth}"' in feedback.message


@pytest.mark.parametrize("mnist_acc, truth", [(1.0, None), (0.5, "a")])
def test_class_gap_options_cover_every_gap(g, mnist_acc, truth):
    """A gap of any size, even a class that reads BETTER than MNIST, falls in exactly one option."""
    gap = mnist_acc - g.accuracy()
    assert sum(lo <= gap < hi for lo, hi in ch07.GAP_RANGES.values()) == 1
    if truth:
        assert check_predict_class_gap(truth, g, mnist_acc)


def test_class_gap_needs_the_measurements(g):
    assert "Pass the measurements" in check_predict_class_gap("b", None, 0.99).message
    assert "Pass the measurements" in check_predict_class_gap("b", g, "99%").message
    assert "BEFORE" in check_predict_class_gap(None, g, 0.99).message


def test_the_module_exports_its_checkers():
    assert set(ch07.__all__) == {"check_split_by_writer", "check_predict_class_gap"}
    assert all(getattr(ex, name) is getattr(ch07, name) for name in ch07.__all__)
