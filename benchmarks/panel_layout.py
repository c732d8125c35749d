"""The predict panel's card sizes in every state and window width (issue 14: a steady panel).

    python benchmarks/panel_layout.py                 # about 3 minutes on 2 cores
    python benchmarks/panel_layout.py --baseline 4243167   # and the page before issue 27, in the same run
    python benchmarks/panel_layout.py --out /tmp/panel_layout.json

The same measurement as ``tests/browser/test_predict_panel_browser.py`` (both call
``tests/browser/panel_states.py``): JupyterLab in headless Chromium, its file browser open, a
notebook holding only the panel (``predict_panel()``, as notebook 05 builds it). The panel is put
through each state (empty, an answer, unsure, not a digit, an error, look inside) and at each
window width (900, 1200, 1400, 1600 px) every card's box is read: x and y relative to the cards'
row, width and height in CSS pixels, and whether anything in it is cut off. A steady panel has one
set of boxes per width, whatever the state.

Then ``make app``'s page (Solara) as a student uses it (issue 27): on a phone (375x812, touch) and
a laptop (1366x768) an example, an upload, a drawing and "look inside" (``tests/browser/phone_states.py``,
the same driver as ``test_app_browser.py``). After each, the answer card's box on the screen (is it
wholly on it, without scrolling?), the pad's box with the pad clear and after one and two strokes,
and the panel's x before and after look inside. The same page from ``--baseline`` (a commit, put
in a temporary folder with ``git archive`` and served from there) is measured in the same run, so
the figures compare before and after on one machine under one load.

Prints tables and writes ``benchmarks/results/panel_layout.json`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import io
import json
import os
import platform
import runpy
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "panel_layout.json"
DRIVERS = REPO / "tests" / "browser"                  # lab.py and panel_states.py: the tests' own drivers

PANEL_CELL = "from lenet_utils.widgets import predict_panel\n\npanel = predict_panel()\npanel"


def driver(name: str):
    """``tests/browser/<name>.py`` as the module ``name`` (panel_states imports lab by that name)."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, DRIVERS / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def git(*args: str, cwd: Path = REPO) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=True).stdout.decode().strip()


def checkout(commit: str, into: Path) -> Path:
    """``commit``'s files (``git archive``) in ``into``: the baseline's page and lenet_utils."""
    data = subprocess.run(["git", "archive", commit], cwd=REPO, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    return into


def app_layout(root: Path) -> dict:
    """The page served from ``root`` (its app/ and lenet_utils), measured on a phone and a laptop."""
    from playwright.sync_api import expect, sync_playwright

    lab_, phone = driver("lab"), driver("phone_states")
    servers = runpy.run_path(str(root / "app" / "servers.py"), run_name="lenet_app_servers")
    base = Path(tempfile.mkdtemp(prefix="app-layout-"))
    server = servers["start"]("solara", base, env={"LENET_CLASS_DB": str(base / "class.sqlite"),
                                                   "PYTHONPATH": str(root)})
    out = {}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=lab_.chromium_path(), headless=True)
            for name, context, touch in (("375x812", phone.PHONE, True), ("1366x768", phone.LAPTOP, False)):
                ctx = browser.new_context(**context)
                page = ctx.new_page()
                page.set_default_timeout(phone.WAIT_MS)
                page.goto(server.url, timeout=180_000)
                expect(page.locator(".lenet-panel")).to_be_visible(timeout=180_000)
                states = phone.walk(page, base, touch)
                strokes = phone.pad_strokes(page, touch)
                out[name] = {
                    "answer_card": {s: {**b["answer"], "on_screen": phone.on_screen(b["answer"])}
                                    for s, b in states.items()},
                    "panel_x": {s: b["panel"]["x"] for s, b in states.items()},
                    "pad": {s: {"pad": [b["pad"]["width"], b["pad"]["height"]],
                                "canvas": [b["canvas"]["width"], b["canvas"]["height"]],
                                "clear_button_whole": phone.on_screen(b["clear"]) and b["clear"]["y"] + b["clear"][
                                    "height"] <= b["pad_card"]["y"] + b["pad_card"]["height"]}
                            for s, b in strokes.items()},
                }
                ctx.close()
            browser.close()
    finally:
        servers["stop"](server)
    return out


def run(out: Path, baseline: str | None = None) -> dict:
    import nbformat
    from playwright.sync_api import sync_playwright

    lab_, states = driver("lab"), driver("panel_states")
    chromium_path, open_notebook, run_all_cells = lab_.chromium_path, lab_.open_notebook, lab_.run_all_cells
    CARDS, STATES, WIDTHS = states.CARDS, states.STATES, states.WIDTHS

    base = Path(tempfile.mkdtemp(prefix="panel-layout-"))
    source = base / "src"
    source.mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(PANEL_CELL)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, source / "panel.ipynb")
    started = time.monotonic()
    lab = lab_.start_jupyterlab(base / "lab", source=source)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium_path(), headless=True)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(120_000)
            open_notebook(page, lab, "panel.ipynb")
            states.open_file_browser(page)
            run_all_cells(page)
            panel = page.locator(".lenet-panel")
            panel.scroll_into_view_if_needed()
            sizes = states.measure(page, panel, base)
            browser.close()
    finally:
        lab_.stop_jupyterlab(lab)
    steady = {str(w): all(sizes[w][s] == sizes[w][STATES[0]] for s in STATES) for w in WIDTHS}
    results = {
        "what": "predict panel card boxes (CSS px) per window width and state, JupyterLab with the file browser open",
        "cards": list(CARDS), "states": list(STATES), "widths": list(WIDTHS),
        "sizes": {str(w): sizes[w] for w in WIDTHS},
        "steady_per_width": steady,
        "clipped_anywhere": any(b["clipped"] for w in WIDTHS for s in STATES for b in sizes[w][s].values()),
        "one_row": {str(w): len({sizes[w][STATES[0]][c]["y"] for c in CARDS}) == 1 for w in WIDTHS},
    }
    results["app"] = {"this": app_layout(REPO)}
    if baseline:
        results["app"]["baseline"] = app_layout(checkout(baseline, Path(tempfile.mkdtemp(prefix="baseline-"))))
        results["app"]["baseline_commit"] = git("rev-parse", "--short", baseline)
    results.update({
        "seconds": round(time.monotonic() - started, 1),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "commit": git("rev-parse", "--short", "HEAD") + ("+changes" if git("status", "--porcelain", "--",
                                                                           "lenet_utils", "app") else ""),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "load_average": [round(x, 2) for x in os.getloadavg()]},
    })
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1) + "\n")
    return results


def table(results: dict) -> str:
    head = "".join(f"{c + ' (x, y, w, h)':<26}" for c in results["cards"])
    lines = [f"{'width':>6}  {'steady':<7}{'one row':<8}{head}"]
    for w in results["widths"]:
        boxes = results["sizes"][str(w)][results["states"][0]]
        cells = "".join(f"{str((b['x'], b['y'], b['width'], b['height'])):<26}" for b in boxes.values())
        steady, one_row = results["steady_per_width"][str(w)], results["one_row"][str(w)]
        lines.append(f"{w:>6}  {str(steady):<7}{str(one_row):<8}{cells}")
    lines.append(f"anything cut off: {results['clipped_anywhere']}")
    for who, app in results["app"].items():
        if not isinstance(app, dict):
            continue
        lines.append(f"\nmake app, {who}{' (' + results['app']['baseline_commit'] + ')' if who == 'baseline' else ''}:")
        for screen, m in app.items():
            cards = ", ".join(f"{s} y={b['y']}{'' if b['on_screen'] else ' (off screen)'}"
                              for s, b in m["answer_card"].items())
            lines.append(f"  {screen}: answer card (h={m['answer_card']['start']['height']}) {cards}")
            lines.append(f"  {screen}: pad " + ", ".join(f"{s} {b['pad'][0]}x{b['pad'][1]}"
                                                         f"{'' if b['clear_button_whole'] else ' (Clear cut off)'}"
                                                         for s, b in m["pad"].items()))
            lines.append(f"  {screen}: panel x " + ", ".join(f"{s} {x}" for s, x in m["panel_x"].items()))
    lines.append(f"{results['seconds']} s, load average {results['machine']['load_average']}, "
                 f"commit {results['commit']}, {results['date']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"where the JSON goes (default {RESULTS})")
    parser.add_argument("--baseline", default=None, metavar="COMMIT",
                        help="also measure make app's page as it was at COMMIT (e.g. 4243167, before issue 27)")
    args = parser.parse_args(argv)
    print(table(run(args.out, args.baseline)))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
