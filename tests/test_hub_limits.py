"""hub/limits.py, hub/accounts.py and hub/launch.py's checks, without a hub.

cgroup v2 is tested against a fake hierarchy in a temporary folder that behaves like the kernel's in
the ways the code depends on: a group's interface files for a controller exist only when its parent
enabled that controller in ``cgroup.subtree_control``, and a controller can be enabled only when the
parent has it. cgroup v1 is tested for real by tests/test_hub.py and tests/test_hub_security.py.
"""

from __future__ import annotations

import errno
import importlib
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "hub"))


class FakeV2:
    """A cgroup v2 tree in a folder: mkdir makes a group whose interface files follow its parent's
    subtree_control; writing '+ctl' to subtree_control is checked against the group's controllers."""

    def __init__(self, root: Path, controllers=("cpuset", "cpu", "io", "memory", "pids")):
        self.root = root
        (root / "cgroup.controllers").write_text(" ".join(controllers) + "\n")
        (root / "cgroup.subtree_control").write_text("")
        (root / "cgroup.procs").write_text("1\n")

    def controllers(self, group: Path) -> set[str]:
        return set((group / "cgroup.controllers").read_text().split())

    def sync(self) -> None:
        """What the kernel does on mkdir/subtree_control writes, applied to the folder afterwards."""
        for d in sorted(p for p in self.root.rglob("*") if p.is_dir()):
            parent_on = set((d.parent / "cgroup.subtree_control").read_text().split())
            if not (d / "cgroup.controllers").exists():
                (d / "cgroup.controllers").write_text(" ".join(sorted(parent_on)))
                (d / "cgroup.subtree_control").write_text("")
                (d / "cgroup.procs").write_text("")
            for ctl, files in (("memory", ("memory.max", "memory.swap.max", "memory.peak")), ("cpu", ("cpu.max",))):
                for f in files:
                    if ctl not in parent_on and (d / f).exists():
                        raise AssertionError(f"{d / f} written although {d.parent} did not enable {ctl}")


@pytest.fixture
def limits_v2(tmp_path, monkeypatch):
    monkeypatch.setenv("LENET_HUB_MEM", "2G")
    monkeypatch.setenv("LENET_HUB_CPUS", "1.5")
    monkeypatch.setenv("LENET_HUB_STATE", str(tmp_path / "state"))
    import limits

    limits = importlib.reload(limits)
    root = tmp_path / "cgroup"
    root.mkdir()
    fake = FakeV2(root)
    monkeypatch.setattr(limits, "CGROUP", root)
    written = []
    real_write = Path.write_text

    def write_text(self, data, *a, **k):  # subtree_control writes are '+ctl ...' and need the controller
        if self.name == "cgroup.subtree_control" and str(self).startswith(str(root)):
            have = set((self.parent / "cgroup.controllers").read_text().split())
            on = set(self.read_text().split()) if self.exists() else set()
            for word in data.split():
                assert word[0] in "+-" and word[1:] in have, f"the kernel refuses {word!r} in {self}"
                on.add(word[1:]) if word[0] == "+" else on.discard(word[1:])
            written.append(self)
            return real_write(self, " ".join(sorted(on)), *a, **k)
        if self.name in ("memory.max", "memory.swap.max", "cpu.max"):
            parent_on = set((self.parent.parent / "cgroup.subtree_control").read_text().split())
            ctl = self.name.split(".")[0]
            assert ctl in parent_on, f"{self} does not exist: {self.parent.parent} did not enable {ctl}"
        return real_write(self, data, *a, **k)

    monkeypatch.setattr(Path, "write_text", write_text)
    real_mkdir = Path.mkdir

    def mkdir(self, *a, **k):
        real_mkdir(self, *a, **k)
        fake.sync()

    monkeypatch.setattr(Path, "mkdir", mkdir)
    yield limits, root, written
    importlib.reload(limits)


def test_cgroup_v2_enables_controllers_and_writes_the_limits(limits_v2):
    limits, root, written = limits_v2
    lim = limits.ProcessLimits.for_student("alice")
    ours = root / f"lenet-hub-{limits.HUB_ID}"
    group = ours / "alice"
    assert lim.procs_files == [group / "cgroup.procs"] and "memory 2G" in lim.enforced
    assert {"memory", "cpu"} <= set((root / "cgroup.subtree_control").read_text().split())
    assert {"memory", "cpu"} <= set((ours / "cgroup.subtree_control").read_text().split())
    assert (group / "memory.max").read_text() == str(2 << 30)
    assert (group / "memory.swap.max").read_text() == "0"
    assert (group / "cpu.max").read_text() == "150000 100000"
    assert written.index(root / "cgroup.subtree_control") < written.index(ours / "cgroup.subtree_control")


def test_cgroup_v2_without_the_memory_controller_says_not_enforced(limits_v2, caplog):
    limits, root, _ = limits_v2
    (root / "cgroup.controllers").write_text("cpu pids\n")
    assert limits.ProcessLimits.for_student("bob").enforced == "nothing"
    assert "NOT enforced" in caplog.text


@pytest.mark.parametrize("name", ["..", "../x", "a/b", "", "Alice", "bob\x00", ".", "x" * 25])
def test_limits_refuse_a_name_that_is_not_one_safe_path_component(limits_v2, name):
    limits, root, _ = limits_v2
    import accounts

    with pytest.raises(accounts.UnsafeName):
        limits.ProcessLimits.for_student(name)
    with pytest.raises(accounts.UnsafeName):
        limits.ProcessLimits.remove_for_student(name)
    assert not any(p.is_dir() for p in root.iterdir())  # no group was made


def test_account_names():
    import accounts

    assert accounts.account_name("alice") == "jupyter-alice"
    assert accounts.account_name("a" * 24) == "jupyter-" + "a" * 24  # 32: as long as useradd allows
    for bad in ("..", "a/b", "Alice", "alice\n", "1abc", "-a", "a" * 25, "a b"):
        with pytest.raises(accounts.UnsafeName, match="not a valid student name"):
            accounts.check_name(bad)


# ---- launch.py without a hub ----------------------------------------------------------------------
@pytest.fixture(autouse=True)
def _umask_restored():
    """launch.prepare() sets the hub process's umask (077) before some of its refusals: restore it, or every
    later test in this pytest process writes files only root can read (the grader's sandbox, for one)."""
    old = os.umask(0o022)
    os.umask(old)
    yield
    os.umask(old)


def _args(tmp_path, *argv):
    import launch

    return launch, launch.parse_args(["--state", str(tmp_path / "state"), *argv])


def test_without_root_a_network_address_needs_the_explicit_opt_in(tmp_path, monkeypatch, capsys):
    launch, args = _args(tmp_path, "--ip", "0.0.0.0", "--ssl-cert", __file__, "--ssl-key", __file__)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(SystemExit):
        launch.prepare(args)
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: --ip 0.0.0.0: without root every student runs as your account")
    assert "--shared-account-ok" in err and err.count("\n") == 0


def test_without_root_the_launcher_says_students_share_one_account(tmp_path, monkeypatch, capsys):
    launch, args = _args(tmp_path, "--port", "0", "--api-port", "1", "--proxy-api-port", "2")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setattr(launch, "port_taken", lambda ip, port: False)
    monkeypatch.setenv("HUB_ADMIN_PASSWORD", "lecturers-own-password")
    env = launch.prepare(args)
    err = capsys.readouterr().err
    assert "every student's server runs as YOUR account" in err and "can read and change each other's files" in err
    assert "no private /tmp, no disk limit" in err
    assert env["LENET_HUB_MODE"] == "shared-account" and "HUB_ADMIN_PASSWORD" not in env


def test_a_tls_key_others_can_read_is_refused(tmp_path, capsys):
    key = tmp_path / "key.pem"
    key.write_text("x")
    key.chmod(0o644)
    launch, args = _args(tmp_path, "--ip", "0.0.0.0", "--ssl-cert", __file__, "--ssl-key", str(key))
    with pytest.raises(SystemExit):
        launch.prepare(args)
    err = capsys.readouterr().err.strip()
    assert "can be read by others" in err and "chmod 600" in err and err.count("\n") == 0


def test_the_roster_is_checked_line_by_line(tmp_path, capsys):
    import launch

    roster = tmp_path / "roster.csv"
    roster.write_text("name,display,password\nalice,Alice A.,\nBob,Bob B.,bobs-password\n")
    rows = launch.read_roster(roster)
    assert [r["name"] for r in rows] == ["alice", "bob"] and rows[1]["password"] == "bobs-password"
    for bad, why in (("../x,X\n", "line 1: '../x' is not a valid student name"),
                     ("carol\ncarol\n", "line 2: 'carol' is listed twice"),
                     ("dave,D,short\n", "line 1: dave's password is shorter than 8")):
        roster.write_text(bad)
        with pytest.raises(SystemExit):
            launch.read_roster(roster)
        assert why in capsys.readouterr().err


def test_the_readmes_class_figures_with_accounts_come_from_the_result_file():
    """hub/README.md quotes the 8-student run with one account per student; its figures are these."""
    import json

    r = json.loads((REPO / "benchmarks" / "results" / "classroom_hub_accounts.json").read_text())
    readme = (REPO / "hub" / "README.md").read_text()
    assert r["students"] == 8 and r["failures"] == 0 and r["mode"] == "hub" and r["commit"] and r["date"]
    for figure in (f"efficiency {r['efficiency']:.2f}", f"{r['alone_s']:.0f} s alone",
                   f"{r['class_s']:.0f} s with all 8 at once", f"{r['class_pss_mb_per_student']} MB per student (PSS)",
                   f"{r['student_cgroup_peak_mb']['median']:.0f} MB median",
                   f"load average {r['load_start']:.1f} at the start and {r['load_end']:.1f} at the end"):
        assert figure in readme, figure


# ---- hub/sandbox.py: own /tmp, size-limited homes -----------------------------------------------
def _sandbox(monkeypatch, **env):
    import importlib

    for k, v in env.items():
        monkeypatch.setenv(k, v)
    sys.modules.pop("sandbox", None)
    return importlib.import_module("sandbox")


def test_a_bad_tmp_or_disk_size_is_one_line(monkeypatch):
    for var in ("LENET_HUB_TMP", "LENET_HUB_DISK"):
        with pytest.raises(SystemExit, match=rf"^error: {var}='lots' is not a size; use e.g. 512M or 2G"):
            _sandbox(monkeypatch, **{var: "lots"})
        monkeypatch.delenv(var)
    sys.modules.pop("sandbox", None)


def test_an_image_is_named_only_from_an_account_name(monkeypatch):
    sandbox = _sandbox(monkeypatch)
    assert sandbox.home_image("jupyter-alice").name == "jupyter-alice.img"
    for bad in ("..", "a/b", "../../etc/x", "", "A"):
        with pytest.raises(ValueError, match="is not an account name"):
            sandbox.home_image(bad)


def _needs_root():
    if os.geteuid() != 0:  # as the hub attack suite: root, as CI runs; a FAILURE elsewhere, never a skip
        pytest.fail("mount namespaces and loop devices need root", pytrace=False)


def test_a_private_tmp_in_a_forked_child_is_its_own_and_full_at_its_size(monkeypatch, tmp_path):
    """As the spawner's preexec does: in a forked child, own mount namespace, a tmpfs of 8 MiB on
    /tmp: writing stops with ENOSPC there, and the machine's /tmp never sees the file."""
    _needs_root()
    sandbox = _sandbox(monkeypatch)
    assert sandbox.available() is None
    marker = f"lenet-sandbox-{os.getpid()}"
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report, never return into pytest
        code = 1
        try:
            sandbox.PrivateTmp(8 << 20).enter_in_child()
            written = 0
            try:
                with open(f"/tmp/{marker}", "wb") as f:
                    while True:
                        written += f.write(b"x" * 65536)
                        f.flush()
            except OSError as e:
                os.write(w, f"{written} {e.errno} {os.listdir('/tmp') == [marker]}".encode())
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    _, status = os.waitpid(pid, 0)
    written, err, alone = os.read(r, 200).decode().split()
    assert status == 0 and int(err) == errno.ENOSPC and alone == "True"
    assert 7 << 20 <= int(written) <= 8 << 20
    assert not Path("/tmp", marker).exists()


def test_a_home_is_its_own_file_system_of_the_given_size(monkeypatch, tmp_path):
    _needs_root()
    sandbox = _sandbox(monkeypatch, LENET_HUB_DISK="32M", LENET_HUB_IMAGES=str(tmp_path / "images"))
    home = tmp_path / "home"
    home.mkdir()
    try:
        said = sandbox.mount_home("lt0000-zed", home, 4321, 4321)
        assert "its own file system of 32M" in said and os.path.ismount(home)
        assert (home.stat().st_uid, oct(home.stat().st_mode)[-3:]) == (4321, "700")
        assert list(home.iterdir()) == []                       # no lost+found for the student to wonder at
        assert oct((tmp_path / "images").stat().st_mode)[-3:] == "700"
        with pytest.raises(OSError) as e, open(home / "fill", "wb") as f:
            while True:
                f.write(b"x" * (1 << 20))
                f.flush()
        assert e.value.errno == errno.ENOSPC
        assert (home / "fill").stat().st_size <= 32 << 20
        assert "already mounted" in sandbox.mount_home("lt0000-zed", home, 4321, 4321)
    finally:
        sandbox.remove_home("lt0000-zed", home)
    assert not os.path.ismount(home) and not (tmp_path / "images" / "lt0000-zed.img").exists()


def test_a_home_made_before_disk_limits_is_left_as_it_is(monkeypatch, tmp_path):
    sandbox = _sandbox(monkeypatch, LENET_HUB_DISK="32M", LENET_HUB_IMAGES=str(tmp_path / "images"))
    home = tmp_path / "home"
    (home / "notebooks").mkdir(parents=True)
    (home / "notebooks" / "mine.ipynb").write_text("{}")
    said = sandbox.mount_home("lt0000-zed", home, 4321, 4321)
    assert "left unlimited" in said and not os.path.ismount(home)
    assert (home / "notebooks" / "mine.ipynb").read_text() == "{}"


def test_a_bad_tmp_or_disk_option_is_one_line(tmp_path, capsys):
    for option in ("--tmp", "--disk"):
        launch, args = _args(tmp_path, option, "lots")
        with pytest.raises(SystemExit):
            launch.prepare(args)
        err = capsys.readouterr().err.strip()
        assert err == f"error: {option} 'lots' is not a size; use e.g. 512M or 2G ('' = none)"


def test_the_readmes_disk_figures_come_from_the_result_file():
    """hub/README.md's figures for a student's own /tmp and home are benchmarks/hub_sandbox.py's."""
    import json

    r = json.loads((REPO / "benchmarks" / "results" / "hub_sandbox.json").read_text())
    readme = " ".join((REPO / "hub" / "README.md").read_text().split())
    assert r["commit"] and r["date"] and r["home"]["stopped_by"] == "No space left on device"
    assert r["tmp"]["group_grew_mib"] >= 0.9 * r["tmp"]["written_mib"]      # charged to the writer
    assert r["tmp"]["group_after_exit_mib"] < 0.1 * r["tmp"]["written_mib"]  # and gone with it
    for figure in (f"grew the writer's group by {r['tmp']['group_grew_mib']} MiB",
                   f"{r['tmp']['group_after_exit_mib']} MiB was left after its last process exited",
                   f"load average {r['load_start']:.1f}",
                   f"Making a {r['home']['image_mib']} MiB home at a student's first start took "
                   f"{r['home']['make_and_mount_s']:.2f} s and {r['home']['disk_after_mkfs_mib']} MiB "
                   "of the machine's disk"):
        assert figure in readme, figure


def test_the_readmes_out_of_memory_under_load_figures_come_from_the_result_file():
    """Issue 31: the out-of-memory test with a class's load beside it, 10 times in a row."""
    import json

    r = json.loads((REPO / "benchmarks" / "results" / "hub_oom_under_load.json").read_text())
    readme = " ".join((REPO / "hub" / "README.md").read_text().split())
    assert r["commit"] and r["date"] and r["runs_total"] == len(r["runs"]) == 10
    assert r["passed"] == sum(run["passed"] for run in r["runs"])
    for run in r["runs"]:  # the classmates trained through each kill
        assert all(b > a for a, b in zip(run["classmates_steps_at_kill"], run["classmates_steps_after_bob_answered"]))
    kills = [run["load_at_kill"][0] for run in r["runs"]]
    assert (min(kills), max(kills)) == (r["load_at_kill_1min_min"], r["load_at_kill_1min_max"])
    figure = (f"Run 10 times in a row, each with a hub of its own, it passed {r['passed']} of {r['runs_total']}, "
              f"load average {min(kills):.1f} to {max(kills):.1f} at the kill")
    assert figure in readme, figure


def test_the_runtimes_venv_is_rebuilt_when_the_servers_packages_change(monkeypatch):
    """A runtime built before nbgrader joined the students' servers must not pass as current: the packages
    installed into the venv are part of its stamp, as the pins are."""
    runtime = importlib.import_module("runtime")   # hub/runtime.py
    mnist = Path("/nonexistent")
    before = runtime.wanted_stamp(mnist)["pins"]
    monkeypatch.setattr(runtime, "SERVER_PACKAGES", tuple(p for p in runtime.SERVER_PACKAGES if p != "nbgrader"))
    assert runtime.wanted_stamp(mnist)["pins"] != before


def test_every_folder_of_the_repository_with_a_solutions_notebook_is_closed_to_students(tmp_path, capsys):
    """`make test` leaves executed solutions in build/notebooks-run: a hub started after it must
    close that folder too, not only notebooks/ and assignments/."""
    import subprocess

    repo = tmp_path / "repo"
    for folder in ("notebooks", "assignments/source/03", "build/notebooks-run", "docs", ".venv/share"):
        (repo / folder).mkdir(parents=True)
        (repo / folder).chmod(0o755)
    (repo / "notebooks" / "03_training.solutions.ipynb").write_text("{}")
    (repo / "build" / "notebooks-run" / "03_training.solutions.ipynb").write_text("{}")
    (repo / ".venv" / "share" / "x.solutions.ipynb").write_text("{}")   # a package's, not ours
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / ".git").chmod(0o755)
    import launch

    changed = launch.protect_solutions(repo)
    assert {p.relative_to(repo).as_posix() for p in changed} == {"notebooks", "assignments", ".git",
                                                                "build/notebooks-run"}
    for p in changed:
        assert p.stat().st_mode & 0o007 == 0
    assert (repo / "docs").stat().st_mode & 0o007 == 0o005                # the rest stays readable
    assert "build/notebooks-run holds solutions" in capsys.readouterr().out
