"""What every test that starts a real hub needs, checked in one place.

A missing proxy, a missing or stale students' runtime, or the wrong user is a FAILURE with the
command that fixes it, never a skip (the developers' guide: a test that needs a hub fails in CI
when the hub cannot run).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PROXY = REPO / "hub" / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy"


def require_hub(who: str, *, as_root: bool = True, nbgrader: bool = False) -> None:
    """Fail (never skip) unless a hub can start here for ``who`` ("the attack suite", ...).

    ``as_root``: the test needs one Unix account per student (root, as CI runs); without it, a
    test that also covers the shared-account path runs on, and only root needs the runtime.
    ``nbgrader``: the students' runtime must hold nbgrader (the term's tests).
    """
    root = os.geteuid() == 0
    if as_root and not root:
        pytest.fail(f"{who} runs as root (one account per student, as CI does)", pytrace=False)
    if not PROXY.is_file():
        pytest.fail(f"configurable-http-proxy is missing at {PROXY}: run `make hub-proxy` "
                    "(npm ci --prefix hub/proxy). Hub tests never skip.", pytrace=False)
    if not root:
        return
    sys.path.insert(0, str(REPO / "hub"))
    import runtime

    problem = runtime.check(runtime.DEFAULT)
    if problem:
        pytest.fail(problem, pytrace=False)
    if nbgrader and not (runtime.DEFAULT / "venv" / "bin" / "nbgrader").is_file():
        pytest.fail(f"nbgrader is missing from the students' runtime {runtime.DEFAULT}: run `make hub-runtime`",
                    pytrace=False)
