"""hub/z2jh/start-student.sh, the start command of a student's pod, run here on temporary folders.

The script runs in the pod before the server: these tests run it with ``sh`` against this
repository as the course (LENET_COURSE_DIR) and a temporary folder as the student's home (HOME),
with a stand-in server command, and check the first start, a second start, a start after a pod died
mid-copy, and a broken image. What needs a cluster: that the pod's volume is a real persistent
volume (tests/test_z2jh_pod.py checks the manifest mounts one at the home).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "hub" / "z2jh" / "start-student.sh"
COURSE_NOTEBOOKS = sorted(p.name for p in (REPO / "notebooks").iterdir()
                          if p.name not in {".ipynb_checkpoints", "__pycache__"})


def start(home: Path, course: Path = REPO, path_prefix: Path | None = None) -> subprocess.CompletedProcess:
    env = {"HOME": str(home), "LENET_COURSE_DIR": str(course), "PATH": os.environ["PATH"]}
    if path_prefix:
        env["PATH"] = f"{path_prefix}:{env['PATH']}"
    # the stand-in "server": prints where it runs and its arguments (the script execs it)
    return subprocess.run(["sh", str(SCRIPT), "sh", "-c", 'echo "server started in $HOME with $*"', "x", "--a"],
                          env=env, capture_output=True, text=True, timeout=60)


def test_first_start_copies_the_course_links_mnist_installs_the_note_and_starts(tmp_path):
    run = start(tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"server started in {tmp_path} with --a"
    assert sorted(p.name for p in (tmp_path / "notebooks").iterdir()) == COURSE_NOTEBOOKS
    assert not (tmp_path / ".notebooks-copying").exists()
    mnist = tmp_path / "lenet-data" / "MNIST"
    assert mnist.is_symlink() and os.readlink(mnist) == f"{REPO}/data/MNIST"
    note = tmp_path / ".ipython" / "profile_default" / "startup" / "00-lenet-kernel-note.py"
    assert note.read_text() == (REPO / "hub" / "kernel_note.py").read_text()
    assert [p.name for p in note.parent.iterdir()] == [note.name]   # no temporary file left to run


def test_a_second_start_keeps_the_students_work(tmp_path):
    assert start(tmp_path).returncode == 0
    first = sorted(p.name for p in (tmp_path / "notebooks").iterdir())[0]
    (tmp_path / "notebooks" / first).write_text("the student's own edit")
    (tmp_path / "notebooks" / "mine.ipynb").write_text("{}")
    deleted = sorted(p.name for p in (tmp_path / "notebooks").iterdir())[1]
    (tmp_path / "notebooks" / deleted).unlink()
    run = start(tmp_path)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "notebooks" / first).read_text() == "the student's own edit"
    assert (tmp_path / "notebooks" / "mine.ipynb").exists() and not (tmp_path / "notebooks" / deleted).exists()
    assert not (tmp_path / "notebooks" / "notebooks").exists()        # never copied into itself


def test_a_pod_that_dies_mid_copy_leaves_no_half_course_and_the_next_start_finishes(tmp_path):
    # a cp that copies part of the course and then dies, like a pod killed mid-copy
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "cp").write_text('#!/bin/sh\nmkdir -p "$3"\n'
                             f'/bin/cp "{REPO}/notebooks/{COURSE_NOTEBOOKS[0]}" "$3/"\nkill -9 $$\n')
    (fake / "cp").chmod(0o755)
    home = tmp_path / "home"
    home.mkdir()
    run = start(home, path_prefix=fake)
    assert run.returncode != 0 and "server started" not in run.stdout   # the server never started
    assert not (home / "notebooks").exists()                           # no half course in its place
    assert [p.name for p in (home / ".notebooks-copying").iterdir()] == [COURSE_NOTEBOOKS[0]]
    run = start(home)                                                  # the pod starts again
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in (home / "notebooks").iterdir()) == COURSE_NOTEBOOKS
    assert not (home / ".notebooks-copying").exists()


def test_an_image_without_the_course_says_so_in_one_line(tmp_path):
    run = start(tmp_path / "home", course=tmp_path / "no-course")
    assert run.returncode == 1 and "server started" not in run.stdout
    assert run.stderr.strip().count("\n") == 0
    assert "no course at" in run.stderr and "--target-repo-dir /srv/course" in run.stderr
