"""The course in a student's folder (hub/handout.py): the first hand-out without solutions, updates
merged in on later starts by nbgitpuller's rules, released solutions read-only.

These are the merge function's tests, on folders; tests/test_term_hub.py runs the same story on a
running hub with accounts (two students, one of whom edited the lesson before it changed).
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "hub"))
import handout  # noqa: E402

DAY = "2026-12-07"


def notebook(text: str) -> bytes:
    return json.dumps({"cells": [{"cell_type": "markdown", "metadata": {}, "source": [text]}],
                       "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()


@pytest.fixture
def course(tmp_path):
    c = tmp_path / "course"
    c.mkdir()
    for name in ("01_mnist_data", "03_training"):
        (c / f"{name}.ipynb").write_bytes(notebook(f"{name} v1"))
        (c / f"{name}.solutions.ipynb").write_bytes(notebook(f"{name} SOLUTION"))
    (c / "nbval_sanitize.cfg").write_text("[x]\n")
    (c / ".ipynb_checkpoints").mkdir()
    (c / ".ipynb_checkpoints" / "01_mnist_data-checkpoint.ipynb").write_text("{}")
    return c


def home_of(tmp_path, name):
    h = tmp_path / name
    h.mkdir()
    return h


def test_first_hand_out_has_the_lessons_and_no_solutions(course, tmp_path):
    home = home_of(tmp_path, "alice")
    out = handout.merge(course, home, day=DAY)
    got = sorted(p.name for p in (home / "notebooks").iterdir())
    assert got == ["01_mnist_data.ipynb", "03_training.ipynb", "nbval_sanitize.cfg"]
    assert sorted(out.added) == got and not out.news
    manifest = json.loads((home / handout.MANIFEST).read_text())
    assert manifest["files"]["03_training.ipynb"]["sha256"] == handout.sha256(course / "03_training.ipynb")
    assert not any("solutions" in k for k in manifest["files"])
    assert stat.S_IMODE((home / handout.MANIFEST).stat().st_mode) == 0o600
    assert not (home / "notebooks" / handout.UPDATES).exists()  # nothing to tell on a first start


def test_a_lesson_changed_after_two_students_started_one_of_whom_edited_it(course, tmp_path):
    alice, bob = home_of(tmp_path, "alice"), home_of(tmp_path, "bob")
    handout.merge(course, alice, day=DAY)
    handout.merge(course, bob, day=DAY)
    edited = notebook("03 v1 with alice's answers")
    (alice / "notebooks" / "03_training.ipynb").write_bytes(edited)
    (course / "03_training.ipynb").write_bytes(notebook("03_training v2 (typo fixed, new exercise)"))

    out_a = handout.merge(course, alice, day=DAY)
    out_b = handout.merge(course, bob, day=DAY)

    # alice edited it: her file is kept byte for byte, the new version is beside it, she is told
    assert (alice / "notebooks" / "03_training.ipynb").read_bytes() == edited
    beside = alice / "notebooks" / "03_training.updated-2026-12-07.ipynb"
    assert beside.read_bytes() == (course / "03_training.ipynb").read_bytes()
    assert out_a.kept == {"03_training.ipynb": beside.name} and out_a.updated == []
    note = (alice / "notebooks" / handout.UPDATES).read_text()
    assert "03_training.ipynb" in note and beside.name in note and "kept" in note
    # bob had not touched it: replaced by the new version, nothing beside it
    assert (bob / "notebooks" / "03_training.ipynb").read_bytes() == (course / "03_training.ipynb").read_bytes()
    assert out_b.updated == ["03_training.ipynb"] and out_b.kept == {}
    assert not list((bob / "notebooks").glob("*.updated-*"))
    # lesson 01 changed for nobody: untouched
    assert out_a.added == out_b.added == []

    # the next start with nothing new changes nothing and puts no second copy beside alice's
    again = handout.merge(course, alice, day="2026-12-08")
    assert not again.news and not again.added
    assert len(list((alice / "notebooks").glob("03_training.updated-*"))) == 1


def test_a_second_change_to_an_edited_lesson_is_put_beside_again(course, tmp_path):
    home = home_of(tmp_path, "alice")
    handout.merge(course, home, day=DAY)
    (home / "notebooks" / "03_training.ipynb").write_bytes(notebook("mine"))
    (course / "03_training.ipynb").write_bytes(notebook("v2"))
    handout.merge(course, home, day=DAY)
    (course / "03_training.ipynb").write_bytes(notebook("v3"))
    out = handout.merge(course, home, day=DAY)
    assert out.kept == {"03_training.ipynb": "03_training.updated-2026-12-07-2.ipynb"}
    assert (home / "notebooks" / "03_training.updated-2026-12-07.ipynb").read_bytes() == notebook("v2")
    assert (home / "notebooks" / out.kept["03_training.ipynb"]).read_bytes() == notebook("v3")
    assert (home / "notebooks" / "03_training.ipynb").read_bytes() == notebook("mine")
    note = (home / "notebooks" / handout.UPDATES).read_text()
    assert note.index("-2.ipynb") < note.index("2026-12-07.ipynb`")  # newest first


def test_a_deleted_lesson_comes_back_fresh(course, tmp_path):
    """nbgitpuller's case 4: deleting a file and starting again gives a fresh copy."""
    home = home_of(tmp_path, "alice")
    handout.merge(course, home, day=DAY)
    (home / "notebooks" / "01_mnist_data.ipynb").unlink()
    out = handout.merge(course, home, day=DAY)
    assert out.restored == ["01_mnist_data.ipynb"]
    assert (home / "notebooks" / "01_mnist_data.ipynb").read_bytes() == (course / "01_mnist_data.ipynb").read_bytes()


def test_a_new_course_file_never_replaces_a_students_file_of_that_name(course, tmp_path):
    home = home_of(tmp_path, "alice")
    handout.merge(course, home, day=DAY)
    (home / "notebooks" / "04_evaluation.ipynb").write_bytes(notebook("alice's own notes"))
    (course / "04_evaluation.ipynb").write_bytes(notebook("04 v1"))
    (course / "05_predict_panel.ipynb").write_bytes(notebook("05 v1"))
    out = handout.merge(course, home, day=DAY)
    assert (home / "notebooks" / "04_evaluation.ipynb").read_bytes() == notebook("alice's own notes")
    assert out.kept == {"04_evaluation.ipynb": "04_evaluation.updated-2026-12-07.ipynb"}
    assert out.added == ["05_predict_panel.ipynb"]


def test_a_file_removed_from_the_course_goes_only_when_the_student_never_changed_it(course, tmp_path):
    alice, bob = home_of(tmp_path, "alice"), home_of(tmp_path, "bob")
    handout.merge(course, alice, day=DAY)
    handout.merge(course, bob, day=DAY)
    (alice / "notebooks" / "01_mnist_data.ipynb").write_bytes(notebook("alice's work"))
    (course / "01_mnist_data.ipynb").unlink()
    assert handout.merge(course, alice, day=DAY).removed == []
    assert (alice / "notebooks" / "01_mnist_data.ipynb").read_bytes() == notebook("alice's work")
    assert handout.merge(course, bob, day=DAY).removed == ["01_mnist_data.ipynb"]
    assert not (bob / "notebooks" / "01_mnist_data.ipynb").exists()


def test_a_link_planted_by_the_student_is_never_written_through(course, tmp_path):
    home = home_of(tmp_path, "mallory")
    handout.merge(course, home, day=DAY)
    victim = tmp_path / "victim.txt"
    victim.write_text("not yours")
    lesson = home / "notebooks" / "03_training.ipynb"
    lesson.unlink()
    lesson.symlink_to(victim)
    (course / "03_training.ipynb").write_bytes(notebook("v2"))
    out = handout.merge(course, home, day=DAY)
    assert victim.read_text() == "not yours"
    assert lesson.is_symlink()  # the student's link is theirs, kept; the new lesson beside it
    assert out.kept == {"03_training.ipynb": "03_training.updated-2026-12-07.ipynb"}


def test_a_crash_mid_update_leaves_the_old_file_whole(course, tmp_path, monkeypatch):
    home = home_of(tmp_path, "alice")
    handout.merge(course, home, day=DAY)
    before = (home / "notebooks" / "03_training.ipynb").read_bytes()
    (course / "03_training.ipynb").write_bytes(notebook("v2"))

    def crash(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(handout.os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        handout.merge(course, home, day=DAY)
    monkeypatch.undo()
    assert (home / "notebooks" / "03_training.ipynb").read_bytes() == before
    assert not [p for p in (home / "notebooks").iterdir() if "lenet-tmp" in p.name]
    # and the next start finishes the job: the file was unchanged by the student, so it is updated
    assert handout.merge(course, home, day=DAY).updated == ["03_training.ipynb"]


def test_the_hand_out_runs_from_its_source_text_alone(course, tmp_path):
    """The hub runs it as ``python -I -c <source>`` as the student (the repository need not be readable)."""
    home = home_of(tmp_path, "alice")
    r = subprocess.run(handout.command(sys.executable, course, home), capture_output=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr.decode()
    out = handout.result_from(r.stdout)
    assert sorted(out.added) == ["01_mnist_data.ipynb", "03_training.ipynb", "nbval_sanitize.cfg"]


# ---- released solutions ---------------------------------------------------------------------------
def test_released_lessons_are_read_from_the_state(tmp_path):
    assert handout.released(tmp_path) == []
    (tmp_path / "released.json").write_text(json.dumps({"lessons": ["03", "01"]}))
    assert handout.released(tmp_path) == ["01", "03"]
    (tmp_path / "released.json").write_text("{not json")
    assert handout.released(tmp_path) == []


def test_solutions_are_installed_read_only_in_a_folder_the_student_cannot_write(course, tmp_path):
    home = home_of(tmp_path, "alice")
    handout.merge(course, home, day=DAY)
    files = handout.solution_files(course, ["03"])
    assert [f.name for f in files] == ["03_training.solutions.ipynb"]
    got = handout.install_solutions(home / "notebooks", files)
    assert got == ["solutions/03_training.solutions.ipynb"]
    folder = home / "notebooks" / "solutions"
    st = folder.lstat()
    assert stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid() and stat.S_IMODE(st.st_mode) == 0o755
    f = folder / "03_training.solutions.ipynb"
    assert stat.S_IMODE(f.stat().st_mode) == 0o444 and f.read_bytes() == files[0].read_bytes()
    assert handout.install_solutions(home / "notebooks", files) == got  # again: replaced, still 0444


def test_a_solutions_link_planted_by_the_student_is_moved_aside_not_followed(course, tmp_path):
    home = home_of(tmp_path, "mallory")
    handout.merge(course, home, day=DAY)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (home / "notebooks" / "solutions").symlink_to(elsewhere, target_is_directory=True)
    handout.install_solutions(home / "notebooks", handout.solution_files(course, ["03"]))
    assert list(elsewhere.iterdir()) == []
    assert not (home / "notebooks" / "solutions").is_symlink()
    assert [p.name for p in (home / "notebooks").glob("solutions.yours-*")]
