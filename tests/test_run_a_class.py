"""docs/teaching.md opens with the "run a class" checklist: one column per route, the same rows in each, and
the command that joins the phone app to the hub's class gallery names what the code reads."""

from __future__ import annotations

import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TEACHING = (REPO / "docs" / "teaching.md").read_text()


def _checklist() -> list[list[str]]:
    section = TEACHING.split("## Run a class: the checklist", 1)[1].split("\n## ", 1)[0]
    return [[c.strip() for c in line.strip().strip("|").split("|")]
            for line in section.splitlines() if line.startswith("|")]


def test_the_checklist_comes_first_with_a_column_per_route_and_every_row():
    assert TEACHING.index("## Run a class: the checklist") < TEACHING.index("## What the course is")
    header, _, *rows = _checklist()
    assert header[1:] == ["one VM with `make hub`", "Zero to JupyterHub", "Binder", "Colab",
                          "the phone app in a lecture hall"]
    assert [r[0] for r in rows] == ["**machine**", "**cost**", "**set-up**", "**students get in**",
                                    "**the class's digits reach notebook 07**", "**before class**",
                                    "**what fails first with more students**"]
    assert all(len(r) == 6 and all(r) for r in rows), "every route answers every row"


def test_the_app_beside_the_hub_command_names_what_the_code_reads():
    sys.path.insert(0, str(REPO / "hub"))
    import class_db  # hub/class_db.py

    digits = next(r for r in _checklist() if r[0] == "**the class's digits reach notebook 07**")[5]
    service = (REPO / "lenet_utils" / "classroom" / "service.py").read_text()
    store = (REPO / "lenet_utils" / "classroom" / "store.py").read_text()
    for var in re.findall(r"(LENET_CLASS_\w+)=", digits):
        assert f'"{var}"' in service + store, var
    assert f"/services/{class_db.NAME}/" in digits and f"`{class_db.SCOPE}`" in digits
    assert "make app APP_HOST=0.0.0.0" in digits and "tests/test_gallery_service.py" in digits
