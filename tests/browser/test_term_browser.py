"""A student submits an assignment from JupyterLab in Chromium, on the class hub: the lecturer has
released lesson 03 (``hub/launch.py release-assignment 03``); dana logs in through the hub's login
page, opens Nbgrader > Assignment List, fetches lesson03, submits it; the lecturer sees her
submission (``hub/launch.py submissions 03``). This also shows nbgrader's JupyterLab extension loads
and works on this JupyterLab 4. A missing proxy, browser, runtime or assignment is a FAILURE.

Runs as root (one account per student), with an exchange of its own.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from lab import log_in_through_the_hub
from playwright.sync_api import expect

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))
sys.path.insert(0, str(REPO / "hub"))
import term_e2e  # noqa: E402
from hub_load import Student, admit, start_hub, stop_hub  # noqa: E402
from hub_prereqs import require_hub  # noqa: E402


@pytest.fixture
def hub_with_assignment(tmp_path, mnist_ready):
    require_hub("the term's browser test", nbgrader=True)
    exchange = term_e2e.exchange_for_a_run()
    try:
        hub = start_hub(tmp_path / "state", env={"LENET_HUB_EXCHANGE": str(exchange)})
    except RuntimeError as err:
        shutil.rmtree(exchange.parent, ignore_errors=True)
        pytest.fail(str(err), pytrace=False)
    try:
        r = term_e2e.lecturer(hub, "release-assignment", "03")
        assert r.returncode == 0, r.stderr
        lecturer, _ = admit(hub, [])
        dana = Student(hub, "dana")
        dana.sign_up()
        lecturer.approve("dana")
        yield hub, dana
    finally:
        stop_hub(hub, everything=True)
        shutil.rmtree(exchange.parent, ignore_errors=True)


def test_a_student_fetches_and_submits_from_jupyterlab_and_the_lecturer_sees_it(chromium, hub_with_assignment):
    hub, dana = hub_with_assignment
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(120_000)
    page = context.new_page()
    try:
        log_in_through_the_hub(page, hub.url, "dana", dana.password)
        # the lab opens on lesson 01 first; then nbgrader's menu, as a student finds it
        expect(page.locator(".lm-TabBar-tab", has_text="01_mnist_data.ipynb")).to_be_visible(timeout=120_000)
        page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
        page.locator(".lm-Menu-itemLabel", has_text="Assignment List").click()
        page.locator(".lm-TabBar-tab", has_text="Assignments").click()
        released = page.locator("#released_assignments_list")
        expect(released).to_contain_text("lesson03", timeout=120_000)
        released.get_by_role("button", name="Fetch").click()
        fetched = page.locator("#fetched_assignments_list")
        expect(fetched).to_contain_text("lesson03", timeout=120_000)
        fetched.get_by_role("button", name="Submit").click()
        submitted = page.locator("#submitted_assignments_list")
        expect(submitted).to_contain_text("lesson03", timeout=120_000)
        assert (hub.home("dana") / "notebooks" / "lesson03" / "03_training.ipynb").is_file()
        # the lecturer sees it
        r = subprocess.run([sys.executable, str(REPO / "hub" / "launch.py"), "submissions", "03", "--state",
                            str(hub.state)], cwd=REPO, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        assert "1 student(s), 1 submission(s)" in r.stdout and f"{hub.prefix}dana" in r.stdout, r.stdout
    except Exception:
        page.screenshot(path=str(hub.state / "term-browser-failure.png"), full_page=True)
        print(f"screenshot: {hub.state / 'term-browser-failure.png'}\nhub log:\n{hub.log_tail()}")
        raise
    finally:
        context.close()
