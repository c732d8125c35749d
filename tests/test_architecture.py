"""The package's shape: docs/architecture.md is what the code says, imports go down the layers, privates stay home."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("architecture", REPO / "scripts" / "architecture.py")
arch = importlib.util.module_from_spec(spec)
spec.loader.exec_module(arch)

# A folder may import its own layer and the layers below (fast/ sits beside the core: they import each other).
RANK = {".": 0, "fast": 0, "images": 1, "predict": 2, "classroom": 3, "lessons": 3, "synthetic": 4,
        "term": 4, "widgets": 5, "cli": 5}


def package_modules():
    return sorted(arch.PACKAGE.rglob("*.py"))


def test_the_page_is_generated_from_the_code_and_up_to_date():
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "architecture.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_check_fails_when_a_module_changes_its_job(tmp_path, monkeypatch):
    page = tmp_path / "architecture.md"
    page.write_text(arch.render().replace("| `model.py` |", "| `model.py` | a job the code no longer says |", 1))
    monkeypatch.setattr(arch, "PAGE", page)
    assert arch.main(["--check"]) == 1
    page.write_text(arch.render())
    assert arch.main(["--check"]) == 0


def test_every_module_has_a_row_with_its_first_docstring_line():
    page = (REPO / "docs" / "architecture.md").read_text()
    for path in package_modules():
        line = arch.first_line(path)
        assert line and f"| {line.replace('|', '/')} |" in page, path


def test_every_folder_is_a_layer_on_the_page():
    folders = {p.name for p in arch.PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").is_file()}
    nested = {"exercises", "experiments"}                     # lessons/' own sub-packages
    assert {p.name for p in (arch.PACKAGE / "lessons").iterdir() if (p / "__init__.py").is_file()} == nested
    assert folders == set(RANK) - {"."}


def test_imports_go_down_the_layers():
    upward = []
    for path in package_modules():
        src_module = arch.module_name(path)
        src = arch.folder_of(src_module)
        for target in arch.imported(path):
            dst = arch.folder_of(target)
            if RANK[dst] > RANK[src] and src_module != "lenet_utils.__main__":
                upward.append(f"{src_module} imports {target}")
    assert not upward, upward


def test_no_private_name_is_imported_across_folders():
    crossing = []
    for path in package_modules():
        src = arch.folder_of(arch.module_name(path))
        for target, names in arch.imports(path):
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            if private and arch.folder_of(target) != src:
                crossing.append(f"{arch.module_name(path)} imports {private} from {target}")
    assert not crossing, crossing


def test_the_checks_see_an_upward_and_a_private_import(tmp_path, monkeypatch):
    """The two checks above can fail: a fake package with one of each is caught."""
    fake = tmp_path / "lenet_utils"
    (fake / "images").mkdir(parents=True)
    (fake / "widgets").mkdir()
    (fake / "__init__.py").write_text('"""root."""\n')
    (fake / "images" / "__init__.py").write_text('"""images."""\n')
    (fake / "widgets" / "__init__.py").write_text('"""widgets."""\n')
    (fake / "widgets" / "panel.py").write_text('"""panel."""\n')
    (fake / "images" / "bad.py").write_text('"""bad."""\nfrom ..widgets.panel import _secret\n')
    monkeypatch.setattr(arch, "PACKAGE", fake)
    monkeypatch.setattr(arch, "REPO", tmp_path)
    [(target, names)] = arch.imports(fake / "images" / "bad.py")
    assert target == "lenet_utils.widgets.panel" and names == ["_secret"]
    assert RANK[arch.folder_of(target)] > RANK[arch.folder_of("lenet_utils.images.bad")]
