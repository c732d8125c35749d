"""One student through the class's JupyterHub in a real browser: the hub's login page in headless
Chromium, the student's own server spawned by the hub, 05_predict_panel opened and run in
JupyterLab, and a prediction from "Try an example". A missing proxy or browser is a FAILURE."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
from lab import LAB_SETTINGS, cell_errors, log_in_through_the_hub, run_all_cells, wait_kernel_idle
from playwright.sync_api import expect

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))
from hub_load import Student, admit, start_hub, stop_hub  # noqa: E402
from hub_prereqs import require_hub  # noqa: E402

from lenet_utils.predict import example_images, example_label  # noqa: E402


@pytest.fixture
def hub_with_student(tmp_path, mnist_ready):
    require_hub("the hub's login test", as_root=False)
    # Lab settings (every cell kept in the DOM) in a folder carol's account can read: her home is made
    # by her first spawn, as her own, the test's tmp_path is root's alone, and /tmp is her own tmpfs
    # (hub/sandbox.py), so a folder on the machine's disk that every account may pass.
    parent = Path("/var/lib/lenet-hub")
    parent.mkdir(parents=True, exist_ok=True)
    parent.chmod(0o755)
    settings = Path(tempfile.mkdtemp(prefix="test-lab-settings-", dir=parent))
    for rel, value in LAB_SETTINGS.items():
        (settings / rel).parent.mkdir(parents=True, exist_ok=True)
        (settings / rel).write_text(json.dumps(value))
    for folder, _, files in os.walk(settings):
        os.chmod(folder, 0o755)
        for f in files:
            os.chmod(os.path.join(folder, f), 0o644)
    try:
        # expose JupyterLab's app object to the page, as tests/browser/lab.py's helpers expect
        hub = start_hub(tmp_path / "state", extra=("--singleuser-arg=--LabApp.expose_app_in_browser=True",
                                                   f"--singleuser-arg=--LabApp.user_settings_dir={settings}"))
    except RuntimeError as err:
        shutil.rmtree(settings, ignore_errors=True)
        pytest.fail(str(err), pytrace=False)
    try:
        lecturer, _ = admit(hub, [])
        carol = Student(hub, "carol")
        carol.sign_up()
        lecturer.approve("carol")
        yield hub, carol
    finally:
        stop_hub(hub, everything=True)
        shutil.rmtree(settings, ignore_errors=True)


def test_a_student_logs_in_opens_the_panel_and_gets_a_prediction(chromium, hub_with_student):
    hub, carol = hub_with_student
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(120_000)
    page = context.new_page()
    try:
        log_in_through_the_hub(page, hub.url, "carol", carol.password)
        page.goto(hub.url + "user/carol/lab/tree/05_predict_panel.ipynb?reset")
        page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget && "
                               "window.jupyterapp.shell.currentWidget.context && window.jupyterapp.shell"
                               ".currentWidget.context.path.endsWith('05_predict_panel.ipynb')", timeout=120_000)
        wait_kernel_idle(page)
        run_all_cells(page)
        assert cell_errors(page) == []
        panel = page.locator(".lenet-panel")
        expect(panel).to_have_count(1)
        panel.scroll_into_view_if_needed()
        first = example_images()[0]
        panel.locator(".lenet-example").click()
        expect(panel.locator(".lenet-message")).to_contain_text(f"{first.name}: {example_label(first)} with",
                                                                timeout=60_000)
        expect(panel.locator(".lenet-answer")).to_have_attribute("data-label", str(example_label(first)))
        # it ran in carol's own copy, on the hub
        assert (hub.home("carol") / "notebooks" / "05_predict_panel.ipynb").is_file()
    except Exception:
        page.screenshot(path=str(hub.state / "hub-browser-failure.png"), full_page=True)
        print(f"screenshot: {hub.state / 'hub-browser-failure.png'}\nhub log:\n{hub.log_tail()}")
        raise
    finally:
        context.close()
