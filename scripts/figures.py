"""Render every figure the docs and the notebooks quote from the benchmark results that measured it.

    python scripts/figures.py            # exit 1 and list each figure that differs from its result
    python scripts/figures.py --write    # re-render README.md, docs/*.md, ... and the notebooks' first cells

A figure in a document sits between two HTML comments, invisible once rendered:
``<!-- fig:time_to_99 -->8.7 s<!-- /fig -->``. Its name is a row of FIGURES below: the result file
(``benchmarks/results/*.json``, each with its date, commit and load average), the keys to the value
inside it, and how it is written. After a rerun, ``--write`` puts the new values into every document;
tests/test_figures.py fails while a document differs from what the results say.

A new figure is one row of FIGURES and a marker where the text quotes it. The in-class minutes are
estimates, not measurements: they live in IN_CLASS, one place, and the text says "estimate" next to them.
Each lesson's first markdown cell gets one line, "Runs in N s · In class M min" (LESSON_LINE), which
``--write`` puts in place of the cell's old "**Time:**" paragraph the first time.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"

# The documents whose figures are rendered (and guarded by tests/test_figures.py).
DOCUMENTS = ["README.md", "docs/teaching.md", "docs/architecture.md", "docs/appendix/layer_lab.md",
             "docs/appendix/live_plot.md", "docs/appendix/speed_layer.md", "docs/appendix/threads.md",
             "docs/appendix/upload_safety.md", "hub/README.md", "app/README.md", "benchmarks/README.md",
             "data/README.md", "data/examples/README.md"]

# Every lesson, in course order: the README's table, the timings, the notebooks' first lines.
LESSONS = ["01_mnist_data", "02_architecture", "02b_backprop", "03_training", "03b_generalisation",
           "04_evaluation", "04b_lenet1998", "05_predict_panel", "06_layer_lab", "07_class_gallery"]

# Estimates, not measurements: minutes a class spends on each lesson (docs/teaching.md, "Timings", says so).
IN_CLASS = {"01_mnist_data": "20 min", "02_architecture": "30 min", "02b_backprop": "35 min",
            "03_training": "30 min", "03b_generalisation": "30 min", "04_evaluation": "25 min",
            "04b_lenet1998": "30 min", "05_predict_panel": "25 min", "06_layer_lab": "30-45 min",
            "07_class_gallery": "30-40 min"}

NOT_TIMED = "not yet timed"          # a lesson the last make bench did not run


@dataclass(frozen=True)
class Figure:
    """One quoted number: ``source`` (a file in benchmarks/results), ``path`` (keys, "/"-separated, into
    it), ``fmt`` (a format string or a function of the value; ``path`` "" gives it the whole file), ``missing``
    (the text while the value is not in the file yet; None: a missing value is an error)."""

    source: str
    path: str = ""
    fmt: str | Callable[[dict], str] = "{}"
    missing: str | None = None
    fallback: str | None = None     # another figure's name, used while this one is not in its file


def _minutes_seconds(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s"


def _date(value: str) -> str:
    """'2026-11-24T16:25:24+00:00' or '2026-12-02 18:43' -> '24 November 2026'."""
    import datetime as dt

    day = dt.date.fromisoformat(value[:10])
    return f"{day.day} {day:%B %Y}"


def _mb_to_gb(mb: float) -> str:
    return f"{mb / 1000:.2f} GB"


def _lessons_total(seconds: dict[str, float]) -> str:
    """The lessons' execution times added up, and how many of the lessons that covers."""
    timed = [s for stem, s in seconds.items() if stem.removesuffix(".ipynb") in LESSONS]
    text = _minutes_seconds(sum(timed))
    return text if len(timed) == len(LESSONS) else f"{text} for the {len(timed)} of {len(LESSONS)} lessons timed"


def _in_class_total() -> str:
    """The in-class estimates added up, in hours (an estimate too)."""
    low = high = 0
    for minutes in IN_CLASS.values():
        parts = [int(x) for x in minutes.removesuffix(" min").split("-")]
        low, high = low + parts[0], high + parts[-1]
    return f"{low / 60:.1f}-{high / 60:.1f} hours" if low != high else f"{low / 60:.1f} hours"


def _seconds_or_not_reached(value: float | None) -> str:
    """A time to 99%: None when too few seeds got there for a median (run.py counts them as never)."""
    return "not reached by half the seeds" if value is None else f"{value:.1f} s"


def _cpu_s_per_student(doc: dict) -> str:
    return f"{doc['cpus'] * doc['class_s'] / doc['students']:.0f} CPU-s"


def _kernel_cpu_s(doc: dict) -> str:
    """The kernels' own CPU-seconds per student (their rusage, classroom.py's probe), median, and per notebook."""
    if not doc.get("cpu_s_per_student"):
        return "not measured"
    per = " + ".join(f"{v:.0f}" for v in doc["cpu_s_per_notebook_median"].values())
    return f"{doc['cpu_s_per_student']['median']:.0f} CPU-s ({per})"


def _students_per_core(doc: dict) -> str:
    return f"{doc['students'] / doc['cpus']:.0f}"


def _kernel_mb(doc: dict) -> str:
    return f"{doc['class_pss_mb_per_student']} MB"


FIGURES: dict[str, Figure] = {
    # make bench (benchmarks/run.py): latest.json
    "bench.date": Figure("latest.json", "machine/date", _date),
    "bench.load": Figure("latest.json", "machine/load_average_start/0", "{:.1f}"),
    "bench.cpus": Figure("latest.json", "machine/logical_cpus", "{}"),
    "bench.torch": Figure("latest.json", "machine/torch", "{}"),
    "time_to_99": Figure("latest.json", "time_to_99_s_median", lambda v: _seconds_or_not_reached(v)),
    "time_to_99.reached": Figure("latest.json", "details/time_to_99/recipes/default",
                                 lambda r: f"{r['seeds_reaching_target']} of {len(r['runs'])}"),
    "time_to_99.final": Figure("latest.json", "details/time_to_99/recipes/default/final_test_acc",
                               lambda r: f"{100 * r['min']:.2f}-{100 * r['max']:.2f}%"),
    # "about 99%": the default recipe's median final test accuracy, to the percent (a promise the results keep)
    "time_to_99.about": Figure("latest.json", "details/time_to_99/recipes/default/final_test_acc/median",
                               lambda v: f"about {100 * v:.0f}%"),
    "time_to_99.seeds": Figure("latest.json", "details/time_to_99/recipes/default/runs", lambda r: f"{len(r)}"),
    "time_to_99.fastest": Figure("latest.json", "details/time_to_99/recipes/default/seconds_to_target/min",
                                 lambda v: _seconds_or_not_reached(v)),
    "epoch_speedup": Figure("latest.json", "epoch_speedup_vs_dataloader", "{:.2f}x"),
    "predict_latency": Figure("latest.json", "predict_latency_ms_median", "{:.1f} ms"),
    "forward_latency": Figure("latest.json", "forward_latency_us_median", "{:.0f} µs"),
    "bench.run": Figure("latest.json", "seconds", _minutes_seconds),
    "bench.load_end": Figure("latest.json", "machine/load_average_end/0", "{:.1f}"),
    "bench.two_threads": Figure("latest.json", "details/techniques/speedup_vs_nchw/one_thread",
                                lambda r: f"{1 / r:.2f}x"),
    "notebooks_total": Figure("latest.json", "details/notebooks/seconds", lambda d: _lessons_total(d)),
    # 02b_backprop timed alone: by_hand.json
    "by_hand.notebook_s": Figure("by_hand.json", "notebook/seconds/02b_backprop.ipynb", "{:.0f} s"),
    "by_hand.date": Figure("by_hand.json", "date", _date),
    "by_hand.load": Figure("by_hand.json", "notebook/load_average_start/0", "{:.1f}"),
    # make lab's install: install.json
    "install.venv": Figure("install.json", "", lambda d: d["after"]["venv_du_sh"][:-1] + " GB"),
    "install.venv_before": Figure("install.json", "",
                                  lambda d: d["before"]["venv_du_sh"][:-1] + " GB"),
    "install.setup": Figure("install.json", "",
                            lambda d: _minutes_seconds(d["after"]["setup_seconds"])),
    "install.setup_before": Figure("install.json", "",
                                   lambda d: _minutes_seconds(d["before"]["setup_seconds"])),
    "install.load": Figure("install.json", "",
                           lambda d: f"{min(d['before']['load_start'], d['after']['load_start']):.0f}-"
                                     f"{max(d['before']['load_end'], d['after']['load_start']):.0f}"),
    "install.date": Figure("install.json", "date", _date),
    "install.cuda": Figure("install.json", "cuda_libraries_bytes_note",
                           lambda note: re.search(r"is ([\d.]+ GB)", note).group(1)),
    # one machine, 8 students in kernels (make bench's second step): classroom.json
    "class.students": Figure("classroom.json", "students", "{}"),
    "class.cpus": Figure("classroom.json", "cpus", "{}"),
    "class.date": Figure("classroom.json", "date", _date),
    "class.load": Figure("classroom.json", "load_start", "{:.1f}"),
    "class.alone": Figure("classroom.json", "alone_s", "{:.0f} s"),
    "class.wall": Figure("classroom.json", "class_s", "{:.0f} s"),
    "class.minutes": Figure("classroom.json", "", lambda d: f"{d['class_s'] / 60:.1f} minutes"),
    "class.efficiency": Figure("classroom.json", "efficiency", "{:.2f}"),
    "class.pss_per_student": Figure("classroom.json", "class_pss_mb_per_student", "{} MB"),
    "class.marginal_per_student": Figure("classroom.json", "marginal_mb_per_student", "{} MB"),
    "class.kernel_uss_peak": Figure("classroom.json", "kernel_uss_peak_mb", "{} MB"),
    "class.cpu_s_per_student": Figure("classroom.json", "", _cpu_s_per_student),
    "class.kernel_cpu_s": Figure("classroom.json", "", _kernel_cpu_s),
    "class.accuracy": Figure("classroom.json", "min_test_acc", "{:.2%}"),
    "class.failures": Figure("classroom.json", "failures", "{}"),
    # the same class on the code before threads and shared MNIST: classroom_before.json
    "before.date": Figure("classroom_before.json", "date", _date),
    "before.load": Figure("classroom_before.json", "load_start", "{:.1f}"),
    "before.alone": Figure("classroom_before.json", "alone_s", "{:.0f} s"),
    "before.wall": Figure("classroom_before.json", "class_s", "{:.0f} s"),
    "before.failures": Figure("classroom_before.json", "failures", "{}"),
    "before.efficiency": Figure("classroom_before.json", "efficiency", "{:.2f}"),
    "before.marginal_per_student": Figure("classroom_before.json", "marginal_mb_per_student", "{:,} MB"),
    "before.kernel_uss_peak": Figure("classroom_before.json", "kernel_uss_peak_mb", "{:,} MB"),
    # the same class through make hub: classroom_hub.json
    "hub.idle": Figure("classroom_hub.json", "idle_in_use_mb", _mb_to_gb),
    "hub.students": Figure("classroom_hub.json", "students", "{}"),
    "hub.cpus": Figure("classroom_hub.json", "cpus", "{}"),
    "hub.date": Figure("classroom_hub.json", "date", _date),
    "hub.load": Figure("classroom_hub.json", "load_start", "{:.1f}"),
    "hub.alone": Figure("classroom_hub.json", "alone_s", "{:.0f} s"),
    "hub.wall": Figure("classroom_hub.json", "class_s", "{:.0f} s"),
    "hub.wall_range": Figure("classroom_hub.json", "",
                             lambda d: "{:.0f}-{:.0f} s".format(min(s["wall_s"] for s in d["per_student"]),
                                                                max(s["wall_s"] for s in d["per_student"]))),
    "hub.efficiency": Figure("classroom_hub.json", "efficiency", "{:.2f}"),
    "hub.cgroup_median": Figure("classroom_hub.json", "student_cgroup_peak_mb/median", "{:.0f} MB"),
    "hub.cgroup_max": Figure("classroom_hub.json", "student_cgroup_peak_mb/max", "{:.0f} MB"),
    "hub.cgroup_max_gb": Figure("classroom_hub.json", "",
                                lambda d: _mb_to_gb(d["student_cgroup_peak_mb"]["max"])),
    "hub.pss_per_student": Figure("classroom_hub.json", "class_pss_mb_per_student", "{} MB"),
    "hub.cpu_s_per_student": Figure("classroom_hub.json", "", _cpu_s_per_student),
    "hub.kernel_cpu_s": Figure("classroom_hub.json", "", _kernel_cpu_s),
    "hub.students_per_core": Figure("classroom_hub.json", "", _students_per_core),
    "hub.accuracy": Figure("classroom_hub.json", "min_test_acc", "{:.2%}"),
    "hub.failures": Figure("classroom_hub.json", "failures", "{}"),
    # the same class through make hub with one account per student: classroom_hub_accounts.json
    # (its time and PSS figures are checked in hub/README.md by tests/test_hub_limits.py)
    "accounts.date": Figure("classroom_hub_accounts.json", "date", lambda v: v[:10]),
    "accounts.commit": Figure("classroom_hub_accounts.json", "commit", "{}"),
    "accounts.accuracy": Figure("classroom_hub_accounts.json", "min_test_acc", "{:.2%}"),
    "accounts.cgroup_max": Figure("classroom_hub_accounts.json", "student_cgroup_peak_mb/max", "{:.0f} MB"),
    "hub.alone_precise": Figure("classroom_hub.json", "alone_s", "{:.1f} s"),
    # the phone app: app_memory.json
    "app.date": Figure("app_memory.json", "date", _date),
    "app.load": Figure("app_memory.json", "",
                       lambda d: f"{d['load_start']:.1f} to {d['load_end']:.1f}"),
    "app.visitors": Figure("app_memory.json", "visitors", "{}"),
}

VARIANTS = "data/variants/results.json"     # scripts/train_variants.py
FIGURES.update({
    "variants.total": Figure(VARIANTS, "meta/total_seconds", _minutes_seconds),
    "variants.load": Figure(VARIANTS, "meta/load_average", "{:.1f}"),
    "variants.date": Figure(VARIANTS, "meta/date", _date),
    "variants.runs": Figure(VARIANTS, "", lambda d: f"{len(d['results']) * len(d['seeds'])}"),
    "variants.steps": Figure(VARIANTS, "steps", "{}"),
    "variants.reference_s": Figure(VARIANTS, "results/0/seconds", lambda s: f"{sum(s) / len(s):.1f} s"),
})

SIZING = "hub/z2jh/sizing.json"     # make hub's and the z2jh config's per-student guarantees and limits
FIGURES.update({
    "sizing.memory_guarantee": Figure(SIZING, "memory_guarantee", lambda v: v.removesuffix("G") + " GB"),
    "sizing.memory_limit": Figure(SIZING, "memory_limit", lambda v: v.removesuffix("G") + " GB"),
    "sizing.cpu_guarantee": Figure(SIZING, "cpu_guarantee", "{} CPU"),
    "sizing.cpu_limit": Figure(SIZING, "cpu_limit", "{:g} CPU"),
})

# the phone app, 10 visitors: Solara (one process) against Voila (a kernel per visitor)
FIGURES.update({
    "app.solara_per_visitor": Figure("app_memory.json", "tools/0/per_extra_visitor_pss_mb", "{:.1f} MB"),
    "app.voila_per_visitor": Figure("app_memory.json", "tools/1",
                                    lambda t: "{:.0f}-{:.0f} MB".format(t["per_extra_visitor_uss_mb"],
                                                                        t["per_extra_visitor_pss_mb"])),
    "app.solara_30": Figure("app_memory.json", "tools/0", lambda t: "{:.2f} GB".format(
        (t["memory"]["0"]["pss_mb"] + t["first_visitor_pss_mb"] + 29 * t["per_extra_visitor_pss_mb"]) / 1000)),
    "app.voila_30": Figure("app_memory.json", "tools/1", lambda t: "{:.0f} GB".format(
        (t["memory"]["0"]["pss_mb"] + t["first_visitor_pss_mb"] + 29 * t["per_extra_visitor_pss_mb"]) / 1000)),
    "app.ratio": Figure("app_memory.json", "", lambda d: "{:.0f}".format(
        _tool(d, "solara")["visitors_per_gb_pss"] / _tool(d, "voila")["visitors_per_gb_pss"])),
    "app.queue_worst": Figure("app_memory.json", "tools/0/answers", lambda a: "{:.0f}-{:.0f} s".format(
        30 * min(x["answer_s"] for x in a), 30 * max(x["answer_s"] for x in a))),
    "app.solara_page": Figure("app_memory.json", "tools/0/answers", lambda a: _span([x["page_s"] for x in a])),
    "app.voila_page": Figure("app_memory.json", "tools/1/answers", lambda a: _span([x["page_s"] for x in a])),
    "app.answer_range": Figure("app_memory.json", "tools/0/answers", lambda a: "{:.1f}-{:.1f} s".format(
        min(x["answer_s"] for x in a), max(x["answer_s"] for x in a))),
})

# the notebooks' execution times (make bench), one row per lesson
for _stem in LESSONS:
    FIGURES[f"runs.{_stem}"] = Figure("latest.json", f"details/notebooks/seconds/{_stem}.ipynb", "{:.0f} s",
                                      missing=NOT_TIMED,
                                      fallback="by_hand.notebook_s" if _stem == "02b_backprop" else None)

def _percent_span(shares: list[float]) -> str:
    """[0.0227, 0.0264] -> '2.3-2.6%'."""
    return _span([100 * x for x in shares], "").strip() + "%"


def _ms_before_after(before: str, after: str) -> Callable[[dict], str]:
    """Two variants' median ms per step, 'before → after' (techniques.py's ms_per_step)."""
    return lambda r: f"{r[before]['median']:.1f} → {r[after]['median']:.1f} ms"


def _ratio(over: str, under: str, fmt: str = "{:.2f}x") -> Callable[[dict], str]:
    """One variant's figure over another's, from the same dict (both relative to one baseline)."""
    return lambda r: fmt.format(r[over] / r[under])


# the live training plot's cost (docs/appendix/live_plot.md): live_plot.json
FIGURES.update({
    "live_plot.date": Figure("live_plot.json", "date", _date),
    "live_plot.cores": Figure("live_plot.json", "cores", "{}"),
    "live_plot.load": Figure("live_plot.json", "", lambda d: f"{d['load_start']:.1f} to {d['load_end']:.1f}"),
    "live_plot.commit": Figure("live_plot.json", "commit", "{}", missing="not recorded"),
    "live_plot.target": Figure("live_plot.json", "target_share", "{:.0%}"),
    "live_plot.seconds": Figure("live_plot.json", "seconds_without_plot", lambda v: _span(v)),
    "live_plot.share": Figure("live_plot.json", "drawing_share", _percent_span),
    "live_plot.redraws": Figure("live_plot.json", "redraws", lambda v: "-".join(dict.fromkeys(str(x) for x in v))),
    "live_plot.between": Figure("live_plot.json", "batches_between_redraws",
                                lambda v: "-".join(dict.fromkeys(str(x) for x in v))),
})

# make bench's details (benchmarks/README.md's Results and "What each technique gained"): latest.json
_D = "details/"
_STEP = _D + "techniques/speedup_vs_nchw"
FIGURES.update({
    "bench.commit": Figure("latest.json", "machine/commit", "{}"),
    "bench.steps_per_epoch": Figure("latest.json", _D + "epoch/steps_per_epoch", "{}"),
    "bench.fraction": Figure("latest.json", "train_fraction_of_peak", "{:.2f}"),
    "upload.pipeline": Figure("upload_accuracy.json", "uploads/pipeline", "{:.2%}"),
    "bench.loader_speedup": Figure("latest.json", _D + "epoch/loader_speedup", "{:.2f}x"),
    "bench.fold_speedup": Figure("latest.json", _D + "epoch/fold_speedup", "{:.2f}x"),
    "bench.peak_range": Figure("latest.json", _D + "epoch/peak_gflops",
                               lambda r: f"{r['min']:.0f}-{r['max']:.0f} GFLOP/s"),
    "bench.round_spread": Figure("latest.json", _D + "epoch/speedup_per_round",
                                 lambda r: f"{max(r) / min(r):.1f}x"),
    "bench.step.folded": Figure("latest.json", _D + "techniques/speedup_vs_nchw/folded", "{:.2f}x"),
    "bench.step.folded_ms": Figure("latest.json", _D + "techniques/ms_per_step", _ms_before_after("nchw", "folded")),
    "bench.step.folded_one_thread": Figure("latest.json", _D + "techniques/speedup_vs_nchw",
                                           _ratio("folded_one_thread", "one_thread")),
    "bench.step.channels_last": Figure("latest.json", _D + "techniques/speedup_vs_nchw/channels_last", "{:.2f}x"),
    "bench.step.channels_last_ms": Figure("latest.json", _D + "techniques/ms_per_step",
                                          _ms_before_after("nchw", "channels_last")),
    "bench.step.bf16": Figure("latest.json", _STEP, _ratio("bf16_autocast", "channels_last")),
    "bench.step.batch_256": Figure("latest.json", _STEP, _ratio("folded_batch_256", "folded")),
    "bench.step.batch_512": Figure("latest.json", _STEP, _ratio("folded_batch_512", "folded")),
    "bench.workers_2": Figure("latest.json", _D + "techniques/dataloader_workers_2_speedup", "{:.2f}x"),
    "bench.eval_folded": Figure("latest.json", _D + "eval/relative_to_default",
                                lambda r: f"{1 / r['batch_256_layer_by_layer']:.1f}x"),
    "bench.eval_sizes": Figure("latest.json", _D + "eval/relative_to_default", lambda r: ", ".join(
        f"{k.removeprefix('batch_').replace('10000', 'one batch of 10,000').replace('1024', '1,024')} "
        f"{v:.2f}x" for k, v in r.items() if k != "batch_256" and "layer" not in k)),
    "bench.latency.frozen": Figure("latest.json", _D + "latency/latency_us/forward_single/median", "{:.0f} µs"),
    "bench.latency.model_call": Figure("latest.json", _D + "latency/latency_us/model_call/median", "{:.0f} µs"),
    "bench.latency.onednn_off": Figure("latest.json", _D + "latency/latency_us/onednn_off/median", "{:.0f} µs"),
    "bench.latency.one_thread": Figure("latest.json", _D + "latency/latency_us/one_thread/median", "{:.0f} µs"),
    "bench.predict.photo": Figure("latest.json", _D + "predict/predict_image_ms", "{:.2f} ms"),
    "bench.predict.photo_decode": Figure("latest.json", _D + "predict/decode_ms", "{:.2f} ms"),
    "bench.predict.grey": Figure("latest.json", _D + "predict/grey_predict_image_ms", "{:.2f} ms"),
    "bench.predict.scan": Figure("latest.json", _D + "predict/scan_predict_image_ms", "{:.2f} ms"),
    "time_to_99.fast_reached": Figure("latest.json", _D + "time_to_99/recipes/fast",
                                      lambda r: f"{r['seeds_reaching_target']} of {len(r['runs'])}"),
    "time_to_99.fast_final": Figure("latest.json", _D + "time_to_99/recipes/fast/final_test_acc",
                                    lambda r: f"{100 * r['min']:.2f}-{100 * r['max']:.2f}%"),
})


def _recipe_row(r: dict) -> str:
    """One recipe of the time-to-99% section: seeds reaching 99%, the fastest, the final accuracies, an epoch."""
    fastest = r["seconds_to_target"]["min"]
    acc = r["final_test_acc"]
    return (f"reached 99% on {r['seeds_reaching_target']} of {len(r['runs'])} seeds"
            + (f", the fastest in {fastest:.1f} s" if fastest is not None else "")
            + f"; final test accuracy {100 * acc['min']:.2f}-{100 * acc['max']:.2f}% "
            f"(median {100 * acc['median']:.2f}%); a training epoch {r['epoch_s']:.1f} s at "
            f"{r['train_images_per_s']:,.0f} images/s")


def _bench_details(load: Callable[[str], dict], fig: Callable[[str], str]) -> str:
    """benchmarks/README.md's details table: what each section of the last make bench measured (latest.json)."""
    doc = load("latest.json")
    d = doc["details"]
    ep, lat, pr, tech = d["epoch"], d["latency"]["latency_us"], d["predict"], d["techniques"]
    sec = {k: v["median"] for k, v in ep["seconds_per_epoch"].items()}
    recipes = d["time_to_99"]["recipes"]
    ms = {k: v["median"] for k, v in tech["ms_per_step"].items()}
    kb = lambda n: f"{n / 1000:.0f} KB"      # noqa: E731
    rows = [
        ("seconds per epoch (`epoch.py`, median of "
         f"{ep['repeats']} rounds, {ep['steps_per_epoch']} batches of {ep['batch_size']})",
         f"tutorial `DataLoader` {sec['dataloader']:.2f} s; the same loop over `BatchLoader` "
         f"{sec['batchloader']:.2f} s "
         f"(the loader alone: {ep['loader_speedup']:.2f}x); `fit` layer by layer {sec['layer_by_layer']:.2f} s; "
         f"`fit` with its defaults {sec['fit']:.2f} s (folding: {ep['fold_speedup']:.2f}x)"),
        ("training rate and the matmul peak (`epoch.py`, `peak.py`)",
         f"`fit` trained {ep['train_images_per_s']:,.0f} images/s = {ep['train_gflops']:.1f} GFLOP/s of LeNet-5's "
         f"FLOPs, against a matmul peak of {ep['peak_gflops']['median']:.1f} GFLOP/s in the same rounds "
         f"(per round: {', '.join(f'{x:.3f}' for x in ep['fraction_of_peak_per_round'])}); folded, a training "
         f"image executes {ep['executed_flop_per_image'] / 1e6:.3f} MFLOP, so the cores spent "
         f"{ep['executed_fraction_of_peak']:.3f} of the peak on arithmetic"),
        ("time to 99%, the default recipe (`time_to_99.py`)", _recipe_row(recipes["default"])),
        ("time to 99%, `TrainConfig.fast()`", _recipe_row(recipes["fast"])),
        ("evaluation at other batch sizes (`eval_speed.py`), relative to 256",
         f"{fig('bench.eval_sizes')}; layer by layer (unfolded) "
         f"{d['eval']['relative_to_default']['batch_256_layer_by_layer']:.2f}x in `channels_last`, "
         f"{d['eval']['relative_to_default']['batch_256_layer_by_layer_nchw']:.2f}x in NCHW"),
        ("one 28×28 image (`latency.py`, median block of "
         f"{d['latency']['calls_per_block']} calls)",
         f"the shipped model's `fast.Frozen` copy, folded once at load (the predict panel's path), "
         f"{lat['forward_single']['median']:.0f} µs ({lat['forward_single']['min']:.0f}-"
         f"{lat['forward_single']['max']:.0f} over the {d['latency']['blocks']} blocks); `fast.freeze(model)(x)` "
         f"on a sealed model {lat['freeze_sealed']['median']:.0f} µs, on any other (its weights checked at "
         f"every call) {lat['freeze_checked']['median']:.0f} µs; a plain call with PyTorch's defaults "
         f"{lat['model_call']['median']:.0f} µs, "
         f"oneDNN off {lat['onednn_off']['median']:.0f} µs, one thread {lat['one_thread']['median']:.0f} µs"),
        ("PNG bytes to prediction (`predict_latency.py`, median of "
         f"{pr['runs']} rounds)",
         f"a phone photo as a 400×400 RGB PNG ({kb(pr['png_bytes'])}) {pr['predict_image_ms']:.2f} ms, of which "
         f"decoding {pr['decode_ms']:.2f} ms and the forward pass {pr['forward_ms']:.2f} ms; the same photo as a "
         f"grey PNG ({kb(pr['grey_png_bytes'])}) {pr['grey_predict_image_ms']:.2f} ms; a scanned digit on a "
         f"400×400 canvas ({kb(pr['scan_png_bytes'])}) {pr['scan_predict_image_ms']:.2f} ms"),
        ("a training step per technique (`techniques.py`, batch of 128, median of "
         f"{tech['repeats']} rounds)",
         f"plain NCHW {ms['nchw']:.1f} ms; `channels_last` {ms['channels_last']:.1f} ms; folded (`fit`'s default) "
         f"{ms['folded']:.1f} ms; folded on one thread {ms['folded_one_thread']:.1f} ms; "
         f"folded at batches of 256 {ms['folded_batch_256']:.1f} ms and of 512 {ms['folded_batch_512']:.1f} ms "
         f"per 128 images; bf16 autocast {ms['bf16_autocast']:.1f} ms"),
        ("the lessons, each executed top to bottom (`notebook_times.py`)",
         ", ".join(f"{k.split('_')[0]} {v:.0f} s" for k, v in d["notebooks"]["seconds"].items())),
        ("the same code, round to round (why every comparison is a ratio within one round)",
         f"epoch speed-up per round {', '.join(f'{x:.2f}x' for x in ep['speedup_per_round'])}; matmul peak "
         f"{ep['peak_gflops']['min']:.0f}-{ep['peak_gflops']['max']:.0f} GFLOP/s; an epoch of the default recipe "
         f"(its test pass included), seed by seed, "
         f"{min(sum(r['seconds_per_epoch']) / len(r['seconds_per_epoch']) for r in recipes['default']['runs']):.1f}-"
         f"{max(sum(r['seconds_per_epoch']) / len(r['seconds_per_epoch']) for r in recipes['default']['runs']):.1f} s"),
    ]
    out = ["| section | the last full run measured |", "| --- | --- |"]
    out += [f"| {what} | {measured} |" for what, measured in rows]
    return "\n\n" + "\n".join(out) + "\n\n"


HEAVY = "classroom_hub_heavy.json"
HEAVY_COMMAND = ("python benchmarks/classroom.py --hub --students 8 --notebooks "
                 "02_architecture,04_evaluation,06_layer_lab,07_class_gallery --out benchmarks/results/" + HEAVY)
FIGURES["heavy.cpu_s_per_student"] = Figure(HEAVY, "", _cpu_s_per_student, missing="not measured yet¹")
FIGURES["heavy.kernel_cpu_s"] = Figure(HEAVY, "", _kernel_cpu_s, missing="not measured yet¹")
FIGURES["heavy.cgroup_max"] = Figure(HEAVY, "student_cgroup_peak_mb/max", "{:.0f} MB", missing="not measured yet¹")
FIGURES["heavy.efficiency"] = Figure(HEAVY, "efficiency", "{:.2f}", missing="not measured yet¹")
FIGURES["heavy.provenance"] = Figure(HEAVY, "", lambda d: f"{_date(d['date'])}, load {d['load_start']:.1f}",
                                     missing="not measured yet¹")


def _resources_table(load: Callable[[str], dict], fig: Callable[[str], str]) -> str:
    """The per-student resource table: one place, rendered into the README and docs/teaching.md."""
    rows = [
        ("", "kernels alone, one machine (`classroom.py`)", "server + kernels, `make hub` (`classroom.py --hub`)",
         "the heaviest lessons, `make hub`"),
        ("---", "---", "---", "---"),
        ("notebooks, all students at once", "01, 03, 05", "03, 05", "02, 04, 06, 07"),
        ("students, CPU cores", f"{fig('class.students')} on {fig('class.cpus')}",
         f"{fig('hub.students')} on {fig('hub.cpus')}", "8 on 2"),
        ("CPU-seconds per student (cores x class time / students)", fig("class.cpu_s_per_student"),
         fig("hub.cpu_s_per_student"), fig("heavy.cpu_s_per_student")),
        ("CPU-seconds per student, its kernels' own (median; per notebook)", fig("class.kernel_cpu_s"),
         fig("hub.kernel_cpu_s"), fig("heavy.kernel_cpu_s")),
        ("memory per student at the peak", f"{fig('class.pss_per_student')} (the class's processes, PSS)",
         f"{fig('hub.cgroup_max')} (the student's cgroup, largest; median {fig('hub.cgroup_median')})",
         fig("heavy.cgroup_max")),
        ("class efficiency (students x alone / class)",
         fig("class.efficiency") + ("²" if load("classroom.json").get("note") else ""), fig("hub.efficiency"),
         fig("heavy.efficiency")),
        ("the whole class took", fig("class.wall"), fig("hub.wall"), ""),
        ("what a hub gives each student (`hub/z2jh/sizing.json`, for `make hub` and the z2jh config)", "",
         f"guarantee {fig('sizing.memory_guarantee')} and {fig('sizing.cpu_guarantee')}, "
         f"limit {fig('sizing.memory_limit')} and {fig('sizing.cpu_limit')}", ""),
        ("measured", f"{fig('class.date')}, load {fig('class.load')}", f"{fig('hub.date')}, load {fig('hub.load')}",
         fig("heavy.provenance")),
    ]
    table = "\n".join("| " + " | ".join(r) + " |" for r in rows)
    note = ""
    try:
        load(HEAVY)
    except MissingResult:
        note = f"\n\n¹ `{HEAVY_COMMAND}` measures it (`benchmarks/results/{HEAVY}`)."
    if load("classroom.json").get("note"):
        note += f"\n\n² `classroom.json` says: {load('classroom.json')['note']}."
    return "\n\n" + table + note + "\n\n"


SYSTEM_GB = 1.5      # an estimate: the OS, the hub and the proxy, beside the students (docs/teaching.md says so)
MACHINES = [(2, 8), (8, 32), (32, 128), (64, 256)]     # (cores, GB of memory) a lecturer may rent


def _sizing_table(load: Callable[[str], dict], fig: Callable[[str], str]) -> str:
    """Students at once per machine, from the hub class run (students per core) and the per-student memory
    guarantee of hub/z2jh/sizing.json (which covers the measured peak: tests/test_z2jh_config.py)."""
    hub = load("classroom_hub.json")
    per_core = hub["students"] / hub["cpus"]
    per_student_gb = float(load(SIZING)["memory_guarantee"].removesuffix("G"))
    rows = ["| machine | students at once, by CPU | students at once, by memory | take |",
            "| --- | ---: | ---: | ---: |"]
    for cores, gb in MACHINES:
        by_cpu = int(cores * per_core)
        by_mem = int((gb - SYSTEM_GB) // per_student_gb)
        how = "measured" if cores == hub["cpus"] else "extrapolated"
        rows.append(f"| {cores} cores, {gb} GB | {by_cpu} ({how}) | {by_mem} (extrapolated) "
                    f"| **{min(by_cpu, by_mem)}** |")
    return "\n\n" + "\n".join(rows) + "\n\n"


def _span(values: list[float], unit: str = "s") -> str:
    low, high = min(values), max(values)
    return f"{low:.1f} {unit}" if low == high else f"{low:.1f}-{high:.1f} {unit}"


def _app_table(load: Callable[[str], dict], fig: Callable[[str], str]) -> str:
    """app/README.md's comparison of Solara and Voila, from benchmarks/results/app_memory.json."""
    doc = load("app_memory.json")
    top = str(doc["visitors"])
    rows = [f"| tool | processes with {top} visitors | 1 visitor (PSS) | {top} visitors (PSS) | per extra visitor "
            "(PSS / USS) | visitors per GB (PSS) | page shown | answer |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    how = {"solara": "one process, a panel per visitor", "voila": "a kernel per visitor"}
    for t in doc["tools"]:
        mem = t["memory"]
        rows.append(f"| {t['tool'].capitalize()} {t['version']} ({how.get(t['tool'], '')}) | {mem[top]['processes']} | "
                    f"{mem['1']['pss_mb']:,.0f} MB | {mem[top]['pss_mb']:,.0f} MB | "
                    f"**{t['per_extra_visitor_pss_mb']:.1f} / {t['per_extra_visitor_uss_mb']:.1f} MB** | "
                    f"{t['visitors_per_gb_pss']:,.1f} | {_span([a['page_s'] for a in t['answers']])} | "
                    f"{_span([a['answer_s'] for a in t['answers']])} |")
    return "\n\n" + "\n".join(rows) + "\n\n"


def _tool(doc: dict, name: str) -> dict:
    return next(t for t in doc["tools"] if t["tool"] == name)


def _bench_table(load: Callable[[str], dict], fig: Callable[[str], str]) -> str:
    """benchmarks/README.md's results table: each headline figure of latest.json with its target."""
    doc = load("latest.json")
    rows = [("time to 99% test accuracy (median)", "time_to_99_s_median", "{:.1f} s"),
            ("epoch speed-up vs DataLoader", "epoch_speedup_vs_dataloader", "{:.2f}x"),
            ("single 28x28 forward", "forward_latency_us_median", "{:.0f} µs"),
            ("PNG bytes to prediction", "predict_latency_ms_median", "{:.2f} ms"),
            ("test-set evaluation", "eval_images_per_s", "{:,.0f} img/s"),
            ("training FLOP/s / matmul peak", "train_fraction_of_peak", "{:.3f}"),
            ("notebook series, executed", "notebooks_total_s", "{:.0f} s")]
    out = ["| measurement | key | value | target on 2 CPU cores | |", "|---|---|---:|---:|---|"]
    for what, key, fmt in rows:
        raw = doc.get(key)
        target = doc.get("targets", {}).get(key, {})
        met = "" if not target else ("met" if target.get("met") else "**missed**")
        shown = ("not measured" if key not in doc else "not reached by half the seeds") if raw is None \
            else fmt.format(raw)
        out.append(f"| {what} | `{key}` | {shown} | {target.get('target', '')} | {met} |")
    return "\n\n" + "\n".join(out) + "\n\n"


def _when(doc: dict) -> str:
    """A result file's date and load average, whichever way its benchmark recorded them."""
    runs = doc.get("runs") if isinstance(doc.get("runs"), list) else []
    if isinstance(doc.get("recipes"), dict):                        # recipe_search.json: runs per recipe
        runs = [run for r in doc["recipes"].values() for run in r.get("runs", [])]
    runs = [r for r in runs if isinstance(r, dict)]
    dated = sorted(r["date"] for r in runs if r.get("date"))
    machine = doc.get("machine") if isinstance(doc.get("machine"), dict) else {}       # run.py's files
    date = doc.get("date") or doc.get("updated") or machine.get("date") or (dated[-1] if dated else None)
    text = _date(date) if date else "date not recorded"
    start = doc.get("load_start", (doc.get("load_average_start") or [None])[0])
    end = doc.get("load_end", (doc.get("load_average_end") or [None])[0])
    if start is None and machine:
        start = (machine.get("load_average") or machine.get("load_average_start") or [None])[0]
        end = (machine.get("load_average_end") or [end])[0]
    if start is None and isinstance(doc.get("after"), dict):       # install.json: before and after
        loads = [side[k] for side in (doc["before"], doc["after"]) for k in ("load_start", "load_end")]
        return f"{text}, load {min(loads):.1f}-{max(loads):.1f}"
    runs = [r for r in runs if r.get("load_average_start")]
    if start is None and runs:                                      # paper1998.json: each run its own
        loads = [r["load_average_start"][0] for r in runs]
        return f"{text}, load {min(loads):.1f}-{max(loads):.1f} at the runs' starts"
    if start is None and "load_at_kill_1min_min" in doc:
        return f"{text}, load {doc['load_at_kill_1min_min']:.0f}-{doc['load_at_kill_1min_max']:.0f} at the kills"
    if start is None and end is None:
        return f"{text}, load not recorded"
    if start is None or end is None:
        return f"{text}, load {start if end is None else end:.1f}" + (" at the end" if start is None else "")
    return f"{text}, load {start:.1f} to {end:.1f}"


def _class_found(d: dict) -> str:
    peak = d.get("student_cgroup_peak_mb") or {}
    memory = (f"each student's server + kernels at most {peak['max']:.0f} MB" if peak.get("max")
              else f"{d['class_pss_mb_per_student']} MB per student (PSS)")
    return (f"{d['students']} students on {d['cpus']} cores, notebooks "
            f"{', '.join(n.split('_')[0] for n in d.get('notebooks', [])) or 'of the class'}: "
            f"the class {d['class_s']:.0f} s against {d['alone_s']:.0f} s for one alone (efficiency "
            f"{d['efficiency']:.2f}); {memory}; {d['failures']} failures")


def _app_found(d: dict) -> str:
    return "; ".join(f"{t['tool'].capitalize()} {t['per_extra_visitor_pss_mb']:.1f} MB per extra visitor (PSS)"
                     for t in d["tools"]) + f", {d['visitors']} visitors"


def _predict_many_found(d: dict) -> str:
    return f"{d['files']:,} files: " + "; ".join(
        f"{r['code']} ({r['format']}) peak {r['peak_rss_mb']:,.0f} MB, first answer after {r['first_result_s']:.1f} s"
        for r in d["runs"])


def _paper_found(d: dict) -> str:
    finished = [r for r in d["runs"] if r.get("finished")]
    parts = []
    for name, r in d["summary"].items():
        sd = f" ± {100 * r['sd']:.2f}" if r.get("sd") is not None else ""
        passes = "/".join(map(str, r["passes"]))
        parts.append(f"`{name}` {100 * r['mean']:.2f}%{sd} after {passes} passes (seeds "
                     f"{', '.join(map(str, r['seeds']))})")
    return (f"{len(finished)} of {len(d['runs'])} runs finished; test error " + "; ".join(parts)
            + f" (the paper: {100 * d['paper']['no_distortions']:.2f}% without distortions, "
              f"{100 * d['paper']['distortions']:.2f}% with)")


def _candidate_found(d: dict) -> str:
    """run.py --fast-recipe: the candidate against the default, over the same seeds in one process."""
    t = d["details"]["time_to_99"]
    parts = []
    for label, key in (("the default", "default"), (f"`{d['fast_recipe']['name']}`", "fast")):
        r = t["recipes"][key]
        s = r["seconds_to_target"]
        parts.append(f"{label} reached {t['target']:.0%} on {r['seeds_reaching_target']} of {len(t['seeds'])} seeds, "
                     f"median {_seconds(s['median'])}, worst {_seconds(s['max'])}")
    return "; ".join(parts) + f" (share of the peak {t['recipes']['fast']['train_fraction_of_peak']:.2f})"


def _seconds(value: float | None) -> str:
    return "never" if value is None else f"{value:.1f} s"


def _recipes_found(d: dict) -> str:
    def one(name: str, r: dict) -> str:
        accs = [run["test_acc"] for run in r["runs"]]
        return (f"`{name}` {sum(a >= d['target'] for a in accs)} of {len(accs)} seeds at {d['target']:.0%} "
                f"({100 * min(accs):.2f}-{100 * max(accs):.2f}%, {r['runs'][0]['epochs']:g} epochs)")
    return "; ".join(one(name, r) for name, r in d["recipes"].items() if r["runs"])


# Every result file with the benchmark that writes it: (file, command, what the last run found).
BENCHMARKS: list[tuple[str, str, Callable[[dict], str]]] = [
    ("classroom.json", "`python benchmarks/classroom.py --students 8` (`make bench`'s second step)", _class_found),
    ("classroom_before.json", "the same class on the code before threads and shared MNIST (kept for the "
     "before/after)", lambda d: f"{d['failures']} of {d['students']} students unfinished when it was stopped after "
                                f"{d['class_s']:.0f} s"),
    ("classroom_hub.json", "`python benchmarks/classroom.py --hub --students 8 --out "
     "benchmarks/results/classroom_hub.json`", _class_found),
    (HEAVY, f"`{HEAVY_COMMAND}`", _class_found),
    ("classroom_hub_accounts.json", "`classroom.py --hub` once each student had an account (`hub/README.md`)",
     _class_found),
    ("app_memory.json", "`python benchmarks/app_memory.py` (`app/README.md`)", _app_found),
    ("cli_help.json", "`python benchmarks/cli_help.py`", lambda d: (
        f"the slowest `--help` {d['worst_median_s']:.2f} s (median of {d['runs']} fresh processes; "
        f"target {d['target_s']} s), Python's own start {d['python_startup_median_s']:.2f} s")),
    ("decode_memory.json", "`python benchmarks/decode_memory.py --out benchmarks/results/decode_memory.json`",
     lambda d: (
        f"the worst upload of {d['side']:,} px a side needed {d['worst_mb']:.0f} MB to decode, under the "
        f"{d['bound_mb']} MB bound, over {len(d['rows'])} formats")),
    ("predict_many_memory.json", "`python benchmarks/predict_many_memory.py`", _predict_many_found),
    ("live_plot.json", "`python benchmarks/live_plot.py` (`docs/appendix/live_plot.md`)", lambda d: (
        f"drawing took {_percent_span(d['drawing_share'])} of training time (budget "
        f"{d['target_share']:.0%})")),
    ("by_hand.json", "`python benchmarks/by_hand.py` (notebook 02b)", lambda d: (
        "an epoch of the NumPy network took "
        + " and ".join(f"{r['numpy_vs_torch']:.1f}x" for r in d["ratios"].values())
        + " the time of PyTorch's, layer by layer (`fast=False`), over " + " and ".join(
            k.replace("_epochs", "") for k in d["ratios"]) + " epochs")),
    ("upload_accuracy.json", "`python benchmarks/upload_accuracy.py` (above)", lambda d: (
        f"{d['uploads']['pipeline']:.2%} of {d['uploads']['n']:,} dressed-up test digits read right through "
        f"the pipeline, {d['uploads']['naive']:.2%} by a naive resize")),
    ("not_a_digit.json", "`python benchmarks/not_a_digit.py`", lambda d: (
        f"{d['non_digits']['flagged']:.1%} of non-digits flagged, {d['mnist_test']['correct_flagged']:.2%} "
        f"of right answers on MNIST flagged (targets {d['targets']['flagged']:.0%} and at most "
        f"{d['targets']['correct_flagged']:.0%})")),
    ("paper1998.json", "`python benchmarks/paper1998.py` (notebook 04b)", _paper_found),
    ("recipe_search.json", "`python benchmarks/recipe_search.py RECIPE --seeds 0-9` (issue 28)", _recipes_found),
    ("time_to_99_fast_aug.json", "`python benchmarks/run.py --only time_to_99 --fast-recipe fast_aug --out "
     "benchmarks/results/time_to_99_fast_aug.json` (issue 28)", _candidate_found),
    ("panel_layout.json", "`python benchmarks/panel_layout.py` (a browser)", lambda d: (
        "cards steady at every width: " + ("yes" if all(d["steady_per_width"].values()) else "no")
        + "; clipped anywhere: " + ("yes" if d["clipped_anywhere"] else "no"))),
    ("hub_sandbox.json", "`python benchmarks/hub_sandbox.py` (root; `hub/README.md`)", lambda d: (
        f"a {d['home']['image_mib']} MiB home stopped a writer at {d['home']['writable_before_enospc_mib']} MiB "
        f"('{d['home']['stopped_by']}')")),
    ("hub_oom_under_load.json", "the out-of-memory hub test, repeated under load (its `command`)",
     lambda d: f"{d['passed']} of {d['runs_total']} runs passed"),
    ("term_e2e.json", "`python benchmarks/term_e2e.py`, as root (`docs/teaching.md`)", lambda d: (
        f"a week of the term through a real hub, {sum(d['timings_s'].values()):.0f} s of timed steps")),
    ("install.json", "a fresh clone's `make lab` set-up, timed by hand (its `what`)", lambda d: (
        f"the environment {d['after']['venv_du_sh'][:-1]} GB, set up in "
        f"{_minutes_seconds(d['after']['setup_seconds'])}")),
]


def _benchmarks_table(load: Callable[[str], dict], fig: Callable[[str], str]) -> str:
    """benchmarks/README.md's table of every other benchmark: its command, its result file, what its last run
    found and when (date, load average), from the result files."""
    rows = ["| result file (`results/`) | written by | the last run found | measured |", "| --- | --- | --- | --- |"]
    for source, command, found in BENCHMARKS:
        try:
            doc = load(source)
        except MissingResult:
            rows.append(f"| `{source}` | {command} | not measured yet | |")
            continue
        try:
            text, when = found(doc), _when(doc)
        except (KeyError, IndexError, TypeError) as err:
            raise FigureError(f"{source}: {type(err).__name__} {err} reading what its last run found; rerun its "
                              "benchmark, or update BENCHMARKS in scripts/figures.py") from None
        machine = doc.get("machine")
        commit = doc.get("commit") or (machine.get("commit") if isinstance(machine, dict) else None)
        rows.append(f"| `{source}` | {command} | {text} | {when}{f', commit {commit}' if commit else ''} |")
    return "\n\n" + "\n".join(rows) + "\n\n"


def _term(name: str) -> Callable[[Callable[[str], dict], Callable[[str], str]], str]:
    """benchmarks/term_e2e.py's own table or provenance line, from its result (tests/test_term_docs.py checks it)."""
    def render(load: Callable[[str], dict], fig: Callable[[str], str]) -> str:
        sys.path.insert(0, str(REPO / "benchmarks"))
        try:
            import term_e2e
        finally:
            sys.path.remove(str(REPO / "benchmarks"))
        text = getattr(term_e2e, name)(load("term_e2e.json"))
        return "\n\n" + text + "\n\n" if "\n" in text else text
    return render


TABLES: dict[str, Callable[[Callable[[str], dict], Callable[[str], str]], str]] = {
    "table.resources": _resources_table,
    "table.sizing": _sizing_table,
    "table.app": _app_table,
    "table.bench": _bench_table,
    "table.bench_details": _bench_details,
    "table.benchmarks": _benchmarks_table,
    "table.term": _term("timing_table"),
    "term.provenance": _term("provenance"),
    # the class before / after threads and shared MNIST (a lower bound: the "before" class was stopped)
    "class.vs_before": lambda load, fig: "{:.1f}".format(load("classroom_before.json")["class_s"]
                                                         / load("classroom.json")["class_s"]),
}

MARKER = re.compile(r"<!-- fig:([\w.\-]+) -->(.*?)<!-- /fig -->", re.S)
LESSON_LINE_START = "**Runs in"
LESSON_LINE = ("**Runs in:** <!-- fig:runs.{stem} -->{runs}<!-- /fig --> · **In class:** <!-- fig:inclass.{stem} -->"
               "{minutes}<!-- /fig --> (executed top to bottom on 2 CPU cores by `make bench`; the class time is "
               "an estimate: `docs/teaching.md`, Timings)")


class FigureError(ValueError):
    """A marker names no figure, or a figure's value is not in its result file."""


class MissingResult(FigureError):
    """The result file does not exist yet (its benchmark has not been run)."""


def _load(source: str, cache: dict[str, dict], results: Path) -> dict:
    if source not in cache:
        # a bare name is a file in benchmarks/results; a path (data/..., hub/...) is from the repository root
        path = results / source if "/" not in source else results.parent.parent / source
        if not path.exists():
            raise MissingResult(f"{path} does not exist: run its benchmark (benchmarks/README.md)")
        try:
            cache[source] = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise FigureError(f"{path}: cannot read the result file ({err}); rerun its benchmark") from None
    return cache[source]


def _lookup(doc: object, path: str) -> object:
    for key in path.split("/") if path else []:
        if isinstance(doc, list):
            doc = doc[int(key)]
        elif isinstance(doc, dict):
            doc = doc[key]
        else:
            raise KeyError(key)
    return doc


def value(name: str, results: Path = RESULTS, cache: dict[str, dict] | None = None) -> str:
    """The text a document shows for the figure ``name``, from the result files in ``results``."""
    cache = {} if cache is None else cache
    if name.startswith("inclass.") and name[len("inclass."):] in IN_CLASS:
        return IN_CLASS[name[len("inclass."):]]
    if name in TABLES:
        try:
            return TABLES[name](lambda source: _load(source, cache, results), lambda n: value(n, results, cache))
        except (KeyError, IndexError, TypeError) as err:      # a result file without a key the table reads
            raise FigureError(f"table {name!r}: its result file has no {err}; rerun its benchmark") from None
    if name == "inclass.total":
        return _in_class_total()
    if name not in FIGURES:
        raise FigureError(f"no figure named {name!r}: add a row to FIGURES in scripts/figures.py")
    fig = FIGURES[name]
    try:
        doc = _load(fig.source, cache, results)
    except MissingResult:
        if fig.missing is not None:
            return fig.missing
        raise
    try:
        raw = _lookup(doc, fig.path)
    except (KeyError, IndexError, ValueError):
        if fig.fallback is not None:
            return value(fig.fallback, results, cache)
        if fig.missing is not None:
            return fig.missing
        raise FigureError(f"figure {name!r}: {fig.source} has no {fig.path!r}; rerun its benchmark") from None
    return fig.fmt(raw) if callable(fig.fmt) else fig.fmt.format(raw)


def render_text(text: str, results: Path = RESULTS, cache: dict[str, dict] | None = None) -> str:
    """``text`` with every marked figure replaced by its value from the results."""
    cache = {} if cache is None else cache
    return MARKER.sub(lambda m: f"<!-- fig:{m.group(1)} -->{value(m.group(1), results, cache)}<!-- /fig -->",
                      text)


def lesson_line(stem: str, results: Path = RESULTS, cache: dict[str, dict] | None = None) -> str:
    return render_text(LESSON_LINE.format(stem=stem, runs="", minutes=""), results, cache)


def render_first_cell(source: str, stem: str, results: Path = RESULTS, cache: dict[str, dict] | None = None) -> str:
    """A lesson's first markdown cell with its "Runs in" line rendered: the line replaces an existing one,
    else the old "**Time:**" paragraph (or "Runs in ... In class" paragraph), else goes after the title."""
    line = lesson_line(stem, results, cache)
    paragraphs = source.split("\n\n")
    for i, para in enumerate(paragraphs):
        if para.startswith(LESSON_LINE_START) or re.match(r"\*\*Time:\*\*", para):
            paragraphs[i] = line
            return "\n\n".join(paragraphs)
    for i, para in enumerate(paragraphs):     # a "**Time:**" sentence inside a paragraph (solutions)
        if "**Time:**" in para:
            paragraphs[i] = para.split("**Time:**", 1)[0].rstrip()
            paragraphs.insert(i + 1, line)
            return "\n\n".join(paragraphs)
    paragraphs.insert(1, line)
    return "\n\n".join(paragraphs)


def notebook_paths(stem: str) -> list[Path]:
    return [REPO / "notebooks" / f"{stem}.ipynb", REPO / "notebooks" / f"{stem}.solutions.ipynb"]


def render_notebook(path: Path, stem: str, results: Path = RESULTS, cache: dict[str, dict] | None = None,
                    write: bool = False) -> bool:
    """Render the lesson line into the notebook's first markdown cell; True when it changes (written if
    ``write``). Only that cell is touched: outputs and every other cell stay as committed."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "markdown")
    new = render_first_cell(cell.source, stem, results, cache)
    changed = new != cell.source
    if changed and write:
        cell.source = new
        nbformat.write(nb, path)
    return changed


def render_documents(results: Path = RESULTS, repo: Path = REPO, write: bool = False) -> list[str]:
    """Every document in DOCUMENTS whose marked figures differ from the results (rewritten if ``write``)."""
    cache: dict[str, dict] = {}
    stale = []
    for name in DOCUMENTS:
        path = repo / name
        text = path.read_text()
        new = render_text(text, results, cache)
        if new != text:
            stale.append(name)
            if write:
                path.write_text(new)
    return stale


def marked_notebooks() -> list[tuple[Path, str]]:
    """The notebooks whose first cell already has the lesson line (the ones --write keeps current)."""
    out = []
    for stem in LESSONS:
        for path in notebook_paths(stem):
            if f"<!-- fig:runs.{stem} -->" in path.read_text():
                out.append((path, stem))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="re-render the documents and notebooks")
    parser.add_argument("--notebook", action="append", default=[], metavar="NN",
                        help="also give lesson NN (e.g. 03 or 04b) its 'Runs in' line, and its solutions")
    args = parser.parse_args(argv)
    try:
        stale = render_documents(write=args.write)
        targets = marked_notebooks()
        for prefix in args.notebook:
            stems = [s for s in LESSONS if s.split("_")[0] == prefix]
            if not stems:
                parser.error(f"no lesson {prefix!r}: one of {', '.join(s.split('_')[0] for s in LESSONS)}")
            targets += [(p, stems[0]) for p in notebook_paths(stems[0])]
        cache: dict[str, dict] = {}
        stale += [str(p.relative_to(REPO)) for p, stem in dict.fromkeys(targets)
                  if render_notebook(p, stem, cache=cache, write=args.write)]
    except FigureError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.write:
        print("re-rendered: " + (", ".join(stale) if stale else "nothing changed"))
        if any(s.endswith(".ipynb") for s in stale):
            print("notebooks changed: rebuild the assignments (make assignments) and commit assignments/")
        return 0
    if stale:
        print("figures differ from benchmarks/results in: " + ", ".join(stale)
              + "\nrun: python scripts/figures.py --write", file=sys.stderr)
        return 1
    print("every figure matches benchmarks/results")
    return 0


if __name__ == "__main__":
    sys.exit(main())
