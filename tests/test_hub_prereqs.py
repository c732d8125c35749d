"""tests/hub_prereqs.py: a hub test that cannot run FAILS with the fixing command, never skips."""

from __future__ import annotations

import os
import sys

import hub_prereqs
import pytest

sys.path.insert(0, str(hub_prereqs.REPO / "hub"))
import runtime  # noqa: E402  (hub/runtime.py)


def test_a_missing_proxy_fails_with_the_command_that_installs_it(monkeypatch, tmp_path):
    monkeypatch.setattr(hub_prereqs, "PROXY", tmp_path / "configurable-http-proxy")
    with pytest.raises(pytest.fail.Exception, match="make hub-proxy"):
        hub_prereqs.require_hub("this test", as_root=False)


def test_a_test_that_needs_accounts_fails_when_not_root(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(pytest.fail.Exception, match="runs as root"):
        hub_prereqs.require_hub("the attack suite")


def test_a_stale_runtime_fails_with_its_problem(monkeypatch, tmp_path):
    proxy = tmp_path / "configurable-http-proxy"
    proxy.write_text("")
    monkeypatch.setattr(hub_prereqs, "PROXY", proxy)
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(runtime, "check", lambda where: f"the students' runtime {where} is out of date")
    with pytest.raises(pytest.fail.Exception, match="out of date"):
        hub_prereqs.require_hub("this test")
