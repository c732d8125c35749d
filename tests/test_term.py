"""hub/term.py's pieces that need no hub: the exchange's folders and modes, lesson names, due dates.
The whole week on a running hub: tests/test_term_e2e.py."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "hub"))
import term  # noqa: E402


def mode(p: Path) -> int:
    return stat.S_IMODE(p.lstat().st_mode)


def test_the_exchange_has_nbgraders_modes_and_a_sticky_inbound_whatever_the_umask(tmp_path):
    if os.geteuid() != 0:
        pytest.fail("the exchange is made by the hub as root; run as root, as CI does", pytrace=False)
    old = os.umask(0o077)  # the hub's own umask
    try:
        course = term.ensure_exchange(tmp_path / "srv" / "nbgrader" / "exchange")
    finally:
        os.umask(old)
    root = course.parent
    assert mode(root) == 0o1777 and mode(course) == 0o755
    assert mode(course / "outbound") == 0o755 and mode(course / "inbound") == 0o3733
    assert mode(course / "feedback") == 0o711
    assert mode(tmp_path / "srv") == 0o755 and mode(tmp_path / "srv" / "nbgrader") == 0o755
    assert all(p.lstat().st_uid == 0 for p in (root, course, course / "inbound"))


def test_a_link_where_the_course_folder_should_be_is_replaced_not_followed(tmp_path):
    if os.geteuid() != 0:
        pytest.fail("run as root, as CI does", pytrace=False)
    root = tmp_path / "exchange"
    root.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (root / "lenet").symlink_to(elsewhere, target_is_directory=True)
    course = term.ensure_exchange(root)
    assert not course.is_symlink() and course.is_dir() and list(elsewhere.iterdir()) == []


def test_an_unknown_lesson_names_the_lessons_that_have_assignments(tmp_path):
    (tmp_path / "lesson03").mkdir()
    (tmp_path / "lesson05").mkdir()
    assert term.assignment_for("03", tmp_path) == "lesson03"
    with pytest.raises(term.TermError, match=r"no assignment for lesson '99'.*03, 05"):
        term.assignment_for("99", tmp_path)


def test_due_dates_are_read_with_their_zone_and_a_bad_one_is_one_line():
    assert term.parse_due("2026-12-14T23:59+01:00").isoformat() == "2026-12-14T22:59:00+00:00"
    assert term.parse_due("2026-12-14T23:59").tzinfo is not None  # the machine's zone
    with pytest.raises(term.TermError, match="not a date and time: write it as 2026-12-14T23:59"):
        term.parse_due("next friday")
