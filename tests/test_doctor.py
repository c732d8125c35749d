"""``doctor()`` and ``python -m lenet_utils doctor``: every check reports, and every problem has a fix."""

import importlib.metadata as md
import re
import subprocess
import sys
from pathlib import Path

import pytest

import lenet_utils.cli.doctor as doc
from lenet_utils.cli import main
from lenet_utils.cli.doctor import FAIL, OK, WARN, Check, DoctorReport, doctor

EXPECTED = ["python", "torch", "torchvision", "ipywidgets", "jupyterlab", "ipykernel", "anywidget", "device", "threads",
            "widget front end", "anywidget front end", "MNIST", "shipped model"]


@pytest.fixture
def no_shipped_model_problem(monkeypatch):
    """The shipped checkpoint is another module's business; keep its state out of these tests."""
    monkeypatch.setattr(doc, "_pretrained", lambda: Check("shipped model", OK, "stub for this test"))


@pytest.fixture
def empty_data_root(tmp_path, monkeypatch):
    monkeypatch.setenv("LENET_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("LENET_MNIST_DIR", raising=False)
    return tmp_path / "data"


def test_the_report_covers_what_the_course_needs():
    report = doctor()
    assert [c.name for c in report.checks] == EXPECTED
    for c in report.checks:
        assert c.status in (OK, WARN, FAIL) and c.detail
        assert (c.status == OK) == (c.fix == ""), f"{c.name}: a problem without a fix, or a fix without one"
    assert report["torch"].status == OK and report["torch"].detail.startswith(__import__("torch").__version__)
    assert report["ipywidgets"].detail == md.version("ipywidgets")
    assert report["jupyterlab"].detail == md.version("jupyterlab")
    assert report["widget front end"].status == OK  # make setup installs jupyterlab_widgets
    assert report["device"].detail.split()[0] in ("cpu", "cuda", "mps")


def test_text_and_html_show_each_problem_with_its_fix():
    report = DoctorReport([Check("torch", OK, "2.14"), Check("MNIST", FAIL, "missing <here>", "set LENET_MNIST_DIR")])
    text = str(report)
    assert re.search(r"^ok +torch +2\.14$", text, re.M) and re.search(r"^problem +MNIST +missing <here>$", text, re.M)
    assert re.search(r"^ +fix: set LENET_MNIST_DIR$", text, re.M)   # on its own line, under what was found
    assert text.endswith("1 problem(s) to fix") and not report.ok
    page = report._repr_html_()
    assert "missing &lt;here&gt;" in page and "set LENET_MNIST_DIR" in page and "1 problem(s)" in page
    warned = DoctorReport([Check("MNIST", WARN, "not yet", "it downloads")])
    assert warned.ok and "all good" in str(warned) and "1 warning(s)" in str(warned)
    assert report.problems == [report["MNIST"]]
    with pytest.raises(KeyError, match="no check named 'gpu'"):
        report["gpu"]


def test_a_missing_package_is_a_problem_with_the_install_command(monkeypatch):
    real = md.version

    def version(dist):
        if dist == "ipywidgets":
            raise md.PackageNotFoundError(dist)
        return real(dist)

    monkeypatch.setattr(doc.md, "version", version)
    check = {c.name: c for c in doc._packages()}["ipywidgets"]
    assert check.status == FAIL and "not installed" in check.detail and "layer lab" in check.detail
    assert "pip install 'ipywidgets>=8.0'" in check.fix


def test_an_old_package_is_a_problem(monkeypatch):
    real = md.version
    monkeypatch.setattr(doc.md, "version", lambda d: "3.6.8" if d == "jupyterlab" else real(d))
    check = {c.name: c for c in doc._packages()}["jupyterlab"]
    assert check.status == FAIL and "3.6.8 is too old" in check.detail and "jupyterlab>=4.0" in check.fix


def test_a_missing_widget_front_end_says_widgets_would_show_as_text(monkeypatch):
    monkeypatch.setattr(doc, "_find_labextension", lambda name: None)
    checks = doc._widget_frontends()
    assert [c.status for c in checks] == [FAIL, FAIL]
    assert "show as text" in checks[0].detail and "pip install jupyterlab_widgets" in checks[0].fix
    assert "restart" in checks[0].fix


def test_mismatched_widget_halves_are_a_problem(monkeypatch):
    real = md.version
    monkeypatch.setattr(doc.md, "version", lambda d: "1.1.7" if d == "jupyterlab_widgets" else real(d))
    check = doc._widget_frontends()[0]
    assert check.status == FAIL and "needs jupyterlab_widgets 3.x" in check.detail


def test_on_colab_the_widget_check_explains_the_custom_widget_manager(monkeypatch):
    monkeypatch.setenv("COLAB_RELEASE_TAG", "release-colab-test")
    check = doc._widget_frontends()[0]
    assert check.status == WARN and "enable_custom_widget_manager" in check.fix
    assert {c.name: c for c in doc._packages()}["jupyterlab"].status == OK


def test_mnist_missing_is_a_warning_that_names_the_offline_variable(empty_data_root):
    check = doc._mnist()
    assert check.status == WARN and "not downloaded yet" in check.detail
    assert "LENET_MNIST_DIR" in check.fix and "python -m lenet_utils data" in check.fix


def test_mnist_offline_folder_problems_name_the_files(empty_data_root, tmp_path, monkeypatch):
    monkeypatch.setenv("LENET_MNIST_DIR", str(tmp_path / "nowhere"))
    check = doc._mnist()
    assert check.status == FAIL and "is not a folder" in check.detail and "LENET_MNIST_DIR" in check.fix
    partial = tmp_path / "partial"
    partial.mkdir()
    (partial / "train-images-idx3-ubyte.gz").write_bytes(b"x")
    monkeypatch.setenv("LENET_MNIST_DIR", str(partial))
    check = doc._mnist()
    assert check.status == FAIL and "lacks train-labels-idx1-ubyte" in check.detail
    assert "train-images-idx3-ubyte," not in check.detail  # the file that is there is not listed as missing


def test_mnist_offline_folder_complete_is_ok(empty_data_root, fake_mnist, monkeypatch):
    source, _, _ = fake_mnist
    monkeypatch.setenv("LENET_MNIST_DIR", str(source))
    check = doc._mnist()
    assert check.status == OK and "offline copy" in check.detail


def test_a_data_root_that_cannot_hold_files_is_a_problem(tmp_path, monkeypatch):
    blocker = tmp_path / "data"
    blocker.write_text("a file where the data folder should be")  # fails for root too, unlike chmod
    monkeypatch.setenv("LENET_DATA_DIR", str(blocker / "lenet"))
    monkeypatch.delenv("LENET_MNIST_DIR", raising=False)
    check = doc._mnist()
    assert check.status == FAIL and f"cannot create files in {blocker}" in check.detail
    assert "LENET_DATA_DIR" in check.fix


@pytest.mark.mnist
def test_mnist_ready_is_ok(mnist_ready):
    assert doc._mnist().status == OK


def test_a_check_that_crashes_is_reported_not_raised(monkeypatch, no_shipped_model_problem):
    def broken():
        raise RuntimeError("boom")

    monkeypatch.setattr(doc, "_device", broken)
    report = doctor()
    assert report["device"].status == FAIL and "check itself failed (RuntimeError: boom)" in report["device"].detail
    assert [c.name for c in report.checks] == EXPECTED  # every other check still ran


def test_version_tuples():
    assert doc._version_tuple("8.1.9") == (8, 1, 9)
    assert doc._version_tuple("2.14.1+cu130") == (2, 14, 1)
    assert doc._version_tuple("4.0.0rc1") == (4, 0, 0)
    assert doc._version_tuple("1.0rc1") == (1, 0)
    assert doc._version_tuple("dev") == (0,)


def test_cli_exit_status_follows_the_report(monkeypatch, capsys):
    monkeypatch.setattr(doc, "doctor", lambda: DoctorReport([Check("torch", OK, "fine")]))
    assert main(["doctor"]) == 0
    assert "all good" in capsys.readouterr().out
    monkeypatch.setattr(doc, "doctor", lambda: DoctorReport([Check("MNIST", FAIL, "gone", "set LENET_MNIST_DIR")]))
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert re.search(r"^problem +MNIST +gone$", out, re.M) and "fix: set LENET_MNIST_DIR" in out


def test_python_m_lenet_utils_doctor_runs_in_a_fresh_process():
    repo = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, "-m", "lenet_utils", "doctor"], capture_output=True, text=True,
                          cwd=repo, timeout=180)
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr
    for name in ("python", "torch", "torchvision", "ipywidgets", "jupyterlab", "device", "widget front end", "MNIST"):
        assert f" {name} " in proc.stdout
    last = proc.stdout.strip().splitlines()[-1]
    assert ("all good" in last) == (proc.returncode == 0)


def test_threads_check_says_what_the_package_does_on_a_busy_machine(monkeypatch):
    from lenet_utils.fast import threads as T

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(T, "usable_cpus", lambda: 2)
    monkeypatch.setattr(T, "_IMPORT_THREADS", __import__("torch").get_num_threads())
    monkeypatch.setattr(T, "machine_load", lambda: (3.9, 3.9))
    check = doctor()["threads"]
    assert check.status == WARN and check.detail.startswith("1 thread: 2 CPUs, load 3.9")
    assert "use 1 of 2 CPUs" in check.detail and check.fix
    monkeypatch.setattr(T, "machine_load", lambda: (0.1, 0.0))
    check = doctor()["threads"]
    assert check.status == OK and check.detail == "2 threads: 2 CPUs, load 0.1"


@pytest.mark.parametrize("torch_version, vision, ok", [
    ("2.14.1+cu130", "0.29.1+cu130", True),
    ("2.14.1", "0.29.0", True),
    ("2.14.1+cu130", "0.28.0+cu130", False),     # torchvision built for torch 2.13
    ("2.14.1+cpu", "0.29.1+cu130", False),       # the same versions from two different builds
])
def test_torchvision_must_be_the_pair_built_for_this_torch(monkeypatch, torch_version, vision, ok):
    monkeypatch.setattr(doc, "_builds", lambda: (torch_version, vision))
    check = doc._torchvision()
    assert (check.status == OK) is ok, check
    if not ok:
        assert f"{vision} does not match torch {torch_version}" in check.detail and "pip install" in check.fix


def test_the_versions_are_the_builds_own_and_torchvision_is_not_imported():
    import torch
    import torchvision

    assert doc._builds() == (torch.__version__, torchvision.__version__)
    done = subprocess.run([sys.executable, "-c", "import sys, lenet_utils.cli.doctor as d; d._torchvision(); "
                           "print('torchvision' in sys.modules)"], capture_output=True, text=True, timeout=300)
    assert done.stdout.strip() == "False", done.stderr[-2000:]


def test_the_full_check_loads_torchvisions_compiled_ops_in_a_child_process():
    check = doc._torchvision(full=True)
    assert check.status == OK and "its compiled ops load" in check.detail, check


def test_the_torch_pair_in_the_fix_is_read_from_constraints_txt():
    """constraints.txt is the one place the pair is pinned: doctor's fix quotes it, it does not repeat it."""
    from lenet_utils.paths import repo_root

    pins = [line for line in (repo_root() / "constraints.txt").read_text().splitlines()
            if line.startswith(("torch==", "torchvision=="))]
    assert len(pins) == 2 and " ".join(pins) in doc._torch_pair_fix()
    assert not re.search(r"torch(vision)?==\d", Path(doc.__file__).read_text())
    makefile = (repo_root() / "Makefile").read_text()
    assert not re.search(r"torch(vision)?==\d", makefile)
