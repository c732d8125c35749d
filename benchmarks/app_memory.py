"""Memory per concurrent visitor of the standalone predict page: Solara against Voila (issue 15).

    python benchmarks/app_memory.py                  # both tools, 10 visitors each (3-6 minutes on 2 cores)
    python benchmarks/app_memory.py --tools solara --visitors 3 --out /tmp/x.json

Each tool serves the same panel (``app/page.py``: upload, example, drawing pad, the answer with
its confidence, the ten probabilities, share) on 127.0.0.1 and a free port, through
``app/servers.py``: Voila the notebook ``app/voila_page.ipynb`` (a kernel per visitor), Solara
``app/predict_page.py`` (one process, a panel per visitor). Headless Chromium opens the visitors
one after another and keeps them all open; each clicks "try an example" and waits for the answer
and its ten bars. The memory of the server and every process it started is taken with psutil:

* PSS (proportional set size: a page shared by k processes counts 1/k in each, so torch's
  libraries, shared by Voila's kernels, count once in all) and USS (pages no other process has);
* with no visitor yet, after the first visitor's answer, after the last one's (settled 3 s); for
  Voila "no visitor" already holds one kernel, started by ``servers.start``'s check that the
  page answers, so only the per-visitor figure compares like with like;
* per extra visitor = (with N - with 1) / (N - 1), visitors per GB = 1024 / that. USS is what a
  visitor adds to the machine (torch's libraries are mapped once, whoever maps them); PSS also
  moves when other processes on the machine map the same libraries, so on a busy machine it is
  the noisier of the two.

The browser may only talk to 127.0.0.1: any other request is aborted, counted and listed, and
any local request answered with an error (a missing offline asset) is counted too, so an offline
page is proved, not assumed. (Voila's page asks a CDN for Font Awesome's CSS: its icons are
missing offline; nothing else is.) Solara serves its JavaScript offline from ``solara-assets``
(``pip install -e ".[app]"``) and ``app/solara_offline.py`` (what solara-assets lacks, from
npm); without them the Solara page cannot render here and the run says so.

Prints a table and writes ``benchmarks/results/app_memory.json`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import runpy
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "app_memory.json"
MB = 1024 * 1024
SETTLE = 3.0          # s after the last answer before memory is read (kernels finish their replies)
ANSWER_MS = 180_000   # a cold Voila kernel imports torch on 2 busy cores


def load_servers() -> SimpleNamespace:
    """``app/servers.py`` (start/stop either server), run from its file: ``app/`` is not a package."""
    return SimpleNamespace(**runpy.run_path(str(REPO / "app" / "servers.py"), run_name="lenet_app_servers"))


def tree_memory(pid: int) -> dict:
    """PSS, USS and RSS (MB) of process ``pid`` and all its descendants, and how many there are."""
    import psutil

    root = psutil.Process(pid)
    total = {"pss_mb": 0.0, "uss_mb": 0.0, "rss_mb": 0.0, "processes": 0}
    for p in [root, *root.children(recursive=True)]:
        try:
            m = p.memory_full_info()
        except psutil.Error:
            continue                                     # ended between listing and reading
        total["pss_mb"] += m.pss / MB
        total["uss_mb"] += m.uss / MB
        total["rss_mb"] += m.rss / MB
        total["processes"] += 1
    return {k: round(v, 1) if isinstance(v, float) else v for k, v in total.items()}


class Visitors:
    """Browser contexts that may only reach the server; counts what they tried elsewhere or missed."""

    def __init__(self, browser, url: str):
        self.browser, self.url = browser, url
        self.blocked: list[str] = []                     # requests to any other host (aborted)
        self.failed: list[str] = []                      # local requests answered >= 400
        self.pages = []

    def _route(self, route) -> None:
        if route.request.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")):
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def _response(self, response) -> None:
        if response.status >= 400:
            self.failed.append(f"{response.status} {response.url}")

    def visit(self) -> dict:
        """One more visitor: open the page, try an example, wait for the answer and its ten bars."""
        context = self.browser.new_context(viewport={"width": 375, "height": 800})
        context.route("**/*", self._route)
        page = context.new_page()
        page.on("response", self._response)
        page.set_default_timeout(ANSWER_MS)
        start = time.monotonic()
        page.goto(self.url, timeout=ANSWER_MS)
        page.locator(".lenet-panel").wait_for()
        shown = time.monotonic()
        page.locator(".lenet-example").click()
        answer = page.locator(".lenet-answer[data-label]:not([data-label=''])")
        answer.wait_for()
        bars = page.locator(".lenet-bar-col").count()
        self.pages.append(page)
        message = page.locator(".lenet-message")
        return {"label": answer.get_attribute("data-label"), "bars": bars,
                "message": message.first.inner_text()[:80] if message.count() else "",
                "page_s": round(shown - start, 1), "answer_s": round(time.monotonic() - shown, 1)}

    def close(self) -> None:
        for page in self.pages:
            page.context.close()


def version(tool: str) -> str:
    try:
        return importlib.metadata.version(tool)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def measure(servers, tool: str, browser, visitors: int, log_dir: Path) -> dict:
    env = {"LENET_CLASS_DB": str(log_dir / f"{tool}.sqlite"),
           "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false"}        # no calls home from an offline room
    server = servers.start(tool, log_dir, env=env)
    row = {"tool": tool, "version": version(tool)}
    if tool == "solara":
        row["solara_assets"] = version("solara-assets")
    crowd = Visitors(browser, server.url)
    try:
        time.sleep(SETTLE)
        row["memory"] = {"0": tree_memory(server.process.pid)}
        answers = [crowd.visit()]
        time.sleep(SETTLE)
        row["memory"]["1"] = tree_memory(server.process.pid)
        answers += [crowd.visit() for _ in range(visitors - 1)]
        time.sleep(SETTLE)
        row["memory"][str(visitors)] = tree_memory(server.process.pid)
    except Exception as err:                               # the page never rendered: say why, keep the log
        row["error"] = f"{type(err).__name__}: {str(err).splitlines()[0][:200]}"
        row["log_tail"] = server.log.read_text(errors="replace")[-1500:]
        answers = []
    finally:
        crowd.close()
        servers.stop(server)
    row.update(answers=answers, blocked_requests=crowd.blocked[:20], blocked_count=len(crowd.blocked),
               failed_requests=crowd.failed[:20], failed_count=len(crowd.failed))
    mem = row["memory"] if "error" not in row else None
    if mem:
        one, many = mem["1"], mem[str(visitors)]
        for kind in ("pss", "uss"):
            row[f"first_visitor_{kind}_mb"] = round(one[f"{kind}_mb"] - mem["0"][f"{kind}_mb"], 1)
            row[f"per_extra_visitor_{kind}_mb"] = round((many[f"{kind}_mb"] - one[f"{kind}_mb"]) / (visitors - 1), 1)
            row[f"visitors_per_gb_{kind}"] = round(1024 / max(row[f"per_extra_visitor_{kind}_mb"], 0.1), 1)
    return row


def main() -> int:
    from playwright.sync_api import sync_playwright

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tools", default="solara,voila", help="comma-separated: solara, voila")
    ap.add_argument("--visitors", type=int, default=10)
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    if args.visitors < 2:
        ap.error("--visitors must be at least 2 (per extra visitor needs a first and a second)")
    servers = load_servers()
    chromium = os.environ.get("LENET_CHROMIUM", "/usr/bin/chromium")
    load_start = os.getloadavg()[0]
    rows = []
    print(f"load average {load_start:.2f} on {os.cpu_count()} cores; {args.visitors} visitors per tool", flush=True)
    with tempfile.TemporaryDirectory(prefix="app-memory-") as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True)
        for tool in args.tools.split(","):
            r = measure(servers, tool, browser, args.visitors, Path(tmp))
            rows.append(r)
            if "error" in r:
                print(f"{tool:7s} FAILED: {r['error']} (blocked {r['blocked_count']}, failed {r['failed_count']}: "
                      f"{r['failed_requests'][:3]})", flush=True)
                continue
            m = r["memory"]
            print(f"{tool:7s} {r['version']:8s} PSS: none {m['0']['pss_mb']:6.0f} MB, "
                  f"1 visitor {m['1']['pss_mb']:6.0f} MB, "
                  f"{args.visitors} visitors {m[str(args.visitors)]['pss_mb']:6.0f} MB; per extra visitor "
                  f"{r['per_extra_visitor_pss_mb']:.1f} MB PSS, {r['per_extra_visitor_uss_mb']:.1f} MB USS; "
                  f"~{r['visitors_per_gb_uss']:.0f} visitors per GB (USS); requests blocked {r['blocked_count']}, "
                  f"failed {r['failed_count']}", flush=True)
        browser.close()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=Path(__file__).resolve().parents[1],
                            capture_output=True, text=True).stdout.strip()
    report = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "commit": commit, "visitors": args.visitors,
              "cores": os.cpu_count(), "load_start": round(load_start, 2), "load_end": round(os.getloadavg()[0], 2),
              "tools": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written: {args.out}")
    for r in rows:
        for url in sorted(set(r["blocked_requests"])):
            print(f"{r['tool']}: the page asked another host for {url} (aborted)")
    ok = all("error" not in r and r["failed_count"] == 0 and all(a["bars"] == 10 for a in r["answers"]) for r in rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
