"""Fixtures for real-browser tests: a JupyterLab server over a temporary copy of ``notebooks/``
and headless Chromium driven by Playwright.

* ``jupyterlab`` (session): ``.url``, ``.token``, ``.root`` (Path of the served copy); the server
  and its kernels are always stopped at teardown.
* ``browser_page`` (alias ``page``): a fresh Chromium page per test, 1400x1000. A missing Chromium
  is a FAILURE that says to run ``make browser``, never a skip.
* helpers in ``lab.py``: ``open_notebook(page, lab, name)``, ``run_all_cells(page)``,
  ``wait_until_idle(page)``, ``cell_errors(page)``, ``execute_in_kernel(page, code)``.

When a test fails, a screenshot of its page is written next to the served notebooks and its path
printed in the failure report.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from lab import JupyterLab, chromium_path, start_jupyterlab, stop_jupyterlab
from playwright.sync_api import expect

VIEWPORT = {"width": 1400, "height": 1000}
# expect() waits 5 s by default, whatever page.set_default_timeout says: too short for a prediction
# on two cores that a class (or the rest of `make test`) keeps busy. A real failure still fails.
expect.set_options(timeout=60_000)


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:  # every test in this folder drives the browser
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"_report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def jupyterlab(tmp_path_factory) -> JupyterLab:
    base = tmp_path_factory.mktemp("jupyterlab")
    try:
        lab = start_jupyterlab(base)
    except RuntimeError as err:
        pytest.fail(str(err), pytrace=False)
    try:
        yield lab
    finally:
        stop_jupyterlab(lab)


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium for the session (Playwright's sync API)."""
    path = chromium_path()
    if not os.path.isfile(path) or not os.access(path, os.X_OK):
        pytest.fail(f"Chromium not found at {path}: run `make browser` (installs Debian's chromium) "
                    "or set LENET_CHROMIUM to a Chromium binary. Browser tests never skip.", pytrace=False)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright for Python is missing: run `make setup` (it is in the dev extra).", pytrace=False)
    with sync_playwright() as pw:
        try:
            browser = pw.chromium.launch(executable_path=path, headless=True)
        except Exception as err:  # Playwright raises its own Error with a long log
            pytest.fail(f"Chromium at {path} did not start: {str(err).splitlines()[0]}", pytrace=False)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser_page(chromium, jupyterlab, request):
    context = chromium.new_context(viewport=VIEWPORT)
    context.set_default_timeout(60_000)
    page = context.new_page()
    page.console_errors = []  # browser-side errors, for assertions and failure reports
    page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
    page.on("pageerror", lambda err: page.console_errors.append(str(err)))
    try:
        yield page
    finally:
        report = getattr(request.node, "_report_call", None)
        if report is not None and report.failed:
            shot = jupyterlab.root.parent / f"{request.node.name}.png"
            try:
                page.screenshot(path=str(shot), full_page=True)
                report.sections.append(("browser", f"screenshot: {shot}\nconsole errors: {page.console_errors}"))
            except Exception:  # a dead page cannot be photographed; the failure stands
                pass
        context.close()


@pytest.fixture
def page(browser_page):
    return browser_page
