"""The 1998 LeNet-5 (``lenet_utils.paper1998``) trained as the paper did, against the paper's figures.

    python benchmarks/paper1998.py --seeds 0 1 2                # SDLM, 20 passes, no distortions
    python benchmarks/paper1998.py --seeds 0 --distort           # with random affine distortions
    python benchmarks/paper1998.py --seeds 0 --optimizer adam    # a modern optimizer, for contrast
    python benchmarks/paper1998.py --summary                     # mean +- s.d. per recipe, from the file
    python benchmarks/paper1998.py --ship                        # the best faithful run -> pretrained/
    python benchmarks/paper1998.py --seeds 0 --minutes 40        # stop before a pass would end after 40 min
    python benchmarks/paper1998.py --step-speed                  # ms a single-image step, with/without oneDNN
    python benchmarks/paper1998.py --diagnose                    # why summed batches diverge (minutes)

Every run writes its row to benchmarks/results/paper1998.json after every pass (the file is shared
by concurrent runs: rows are merged under a lock), so a run cut short still leaves its curve.
A row: the recipe, the seed, per pass the test error, the error on 10,000 training images (the
two curves of the paper's Fig. 5), eta, the range of SDLM's per-parameter rates and the seconds the
pass took; and the date, the commit and the load average at its start and end. A run stopped by
--minutes is kept with ``finished: false`` and ``stopped`` saying why. The weights of each run go to
--weights (outside the repository by default) after every pass; --ship copies the best finished
SDLM run on the paper's schedule of eta into lenet_utils/pretrained/lenet5_paper1998.pt with its provenance.

The paper (LeCun et al. 1998, section III-C, Fig. 5): 0.95% test error without distortions (stable
after about 10 passes; training error 0.35% after 19 passes), 0.8% with distortions. The best public
reproduction we know of: 1.07%.
"""

from __future__ import annotations

import argparse
import datetime
import fcntl
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import torch
from provenance import git_commit

from lenet_utils.paper1998.checkpoint import PAPER_CHECKPOINT, save_paper_checkpoint
from lenet_utils.paper1998.model import LeNet5Paper
from lenet_utils.paper1998.train import CURVATURE_POLICIES, PaperTrainConfig, paper_split, recipe_of, train_paper

REPO = Path(__file__).resolve().parents[1]

RESULT = REPO / "benchmarks" / "results" / "paper1998.json"
PAPER = {"no_distortions": 0.0095, "distortions": 0.008, "best_public": 0.0107,
         "train_error_pass_19": 0.0035, "passes_to_stable": 10}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2])
    p.add_argument("--passes", type=int, default=20)
    p.add_argument("--optimizer", choices=("sdlm", "adam"), default="sdlm")
    p.add_argument("--distort", action="store_true", help="random planar affine distortions (Distortion())")
    p.add_argument("--curvature", choices=CURVATURE_POLICIES, default=PaperTrainConfig.curvature,
                   help="SDLM's curvature: re-estimated before each pass (the paper's text) or once, at the start")
    p.add_argument("--eta-scale", type=float, default=PaperTrainConfig.eta_scale,
                   help="multiplies the paper's schedule of eta (1: as printed)")
    p.add_argument("--batch", type=int, default=PaperTrainConfig.batch_size)
    p.add_argument("--init", choices=("sqrt", "printed"), default="sqrt")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--minutes", type=float, default=None,
                   help="time budget per run: stop (unfinished) when the next pass would end after it")
    p.add_argument("--sharpness", type=int, default=200,
                   help="record SDLM's preconditioned sharpness on this many images before each pass (0: off)")
    p.add_argument("--diagnose", action="store_true",
                   help="only measure SDLM's preconditioned sharpness at the start and a short run per batch size")
    p.add_argument("--curvature-drift", action="store_true",
                   help="only measure how SDLM's rates change when the curvature is re-estimated after one pass, "
                        "and what the next images do under each policy (minutes)")
    p.add_argument("--step-speed", action="store_true",
                   help="only time single-image SDLM steps with and without oneDNN (interleaved), into --out")
    p.add_argument("--out", default=str(RESULT))
    p.add_argument("--weights", default=str(Path(tempfile.gettempdir()) / "lenet_paper1998_weights"))
    p.add_argument("--summary", action="store_true", help="only print the summary of --out")
    p.add_argument("--ship", action="store_true",
                   help="copy the best finished SDLM run on the paper's schedule into the package")
    return p.parse_args(argv)



def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def run_key(row: dict) -> str:
    r = recipe_of(row)
    once = "-once" if r["curvature"] == "once" else ""
    eta = f"-eta{r['eta_scale']:g}" if r["eta_scale"] != 1 else ""
    return (f"{r['optimizer']}-{'distort' if r['distort'] else 'plain'}-b{r['batch_size']}-{r['init']}{once}{eta}"
            f"-seed{r['seed']}")


def merge_row(path: Path, row: dict) -> None:
    """Put ``row`` into the result file (replacing the row of the same run), under an exclusive lock,
    then replace the file atomically: concurrent runs never lose each other's rows."""
    def put(data: dict) -> None:
        runs = {run_key(r): r for r in data.get("runs", [])}
        runs[run_key(row)] = row
        data["runs"] = sorted(runs.values(), key=run_key)
        data["summary"] = summarise(data["runs"])
    update(path, put)


def merge_key(path: Path, key: str, value: dict) -> None:
    """Set ``data[key] = value`` in the result file, under the same lock as :func:`merge_row`."""
    update(path, lambda data: data.__setitem__(key, value))


def update(path: Path, change) -> None:  # noqa: ANN001 - a function of the file's dict
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(Path(tempfile.gettempdir()) / f"{path.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data = json.loads(path.read_text()) if path.exists() else {}
        data.setdefault("paper", PAPER)
        change(data)
        data["updated"] = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(data, indent=1) + "\n")
        os.replace(tmp, path)


def summarise(runs: list[dict]) -> dict:
    """Per recipe (optimizer, distortions, batch, init, curvature, eta scale): the finished runs' final test
    errors, mean and s.d., the passes they ran and the median seconds per pass."""
    groups: dict[str, list[dict]] = {}
    for r in runs:
        if r.get("finished"):
            groups.setdefault(run_key(r).rsplit("-seed", 1)[0], []).append(r)
    out = {}
    for name, rs in sorted(groups.items()):
        errors = [r["history"][-1]["test_error"] for r in rs]
        seconds = [h["seconds"] for r in rs for h in r["history"]]
        out[name] = {"seeds": [r["recipe"]["seed"] for r in rs], "test_errors": errors,
                     "mean": statistics.mean(errors), "sd": statistics.stdev(errors) if len(errors) > 1 else None,
                     "best": min(errors), "passes": sorted({len(r["history"]) for r in rs}),
                     "median_seconds_per_pass": statistics.median(seconds)}
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = Path(args.out)
    if args.summary or args.ship:
        data = json.loads(out.read_text())
        for name, s in data["summary"].items():
            sd = f" +- {100 * s['sd']:.2f}" if s["sd"] is not None else ""
            print(f"{name}: {100 * s['mean']:.2f}%{sd} over seeds {s['seeds']} "
                  f"({', '.join(f'{100 * e:.2f}%' for e in s['test_errors'])}); "
                  f"{s['median_seconds_per_pass']:.0f} s a pass")
        print(f"paper: {100 * PAPER['no_distortions']:.2f}% / {100 * PAPER['distortions']:.2f}% with distortions; "
              f"best public reproduction {100 * PAPER['best_public']:.2f}%")
        if args.ship:
            ship(data, Path(args.weights))
        return 0
    torch.set_num_threads(args.threads)
    if args.step_speed:
        merge_key(out, "step_speed", step_speed())
        return 0
    if args.diagnose:
        merge_key(out, "diagnosis", diagnose())
        return 0
    if args.curvature_drift:
        merge_key(out, "curvature_drift", curvature_drift())
        return 0
    data = (*paper_split("train"), *paper_split("test"))
    for seed in args.seeds:
        config = PaperTrainConfig(passes=args.passes, optimizer=args.optimizer, distort=args.distort,
                                  batch_size=args.batch, init=args.init, seed=seed, curvature=args.curvature,
                                  eta_scale=args.eta_scale,
                                  sharpness_samples=args.sharpness if args.optimizer == "sdlm" else 0)
        row = {"recipe": config.to_dict(), "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
               "commit": git_commit(), "threads": args.threads, "load_average_start": load_average(),
               "history": [], "finished": False}
        Path(args.weights).mkdir(parents=True, exist_ok=True)
        started = time.monotonic()

        def on_pass(h: dict, model: LeNet5Paper, row: dict = row, started: float = started) -> bool:
            row["history"].append(h)
            row["load_average_now"] = load_average()
            torch.save(model.state_dict(), Path(args.weights) / f"{run_key(row)}.pt")
            print(f"seed {row['recipe']['seed']} pass {h['pass']}: test {100 * h['test_error']:.2f}% "
                  f"train {100 * h['train_error']:.2f}% ({h['seconds']:.0f} s, load {row['load_average_now'][0]})",
                  flush=True)
            # the budget: stop if one more pass (as long as the mean pass with its evaluation, or the
            # slowest pass so far) would end after it
            elapsed = time.monotonic() - started
            slowest = max(elapsed / len(row["history"]), max(r["seconds"] for r in row["history"]))
            stop = args.minutes is not None and len(row["history"]) < args.passes and \
                elapsed + slowest > 60 * args.minutes
            if stop:
                row["stopped"] = (f"time budget of {args.minutes:g} min: {len(row['history'])} of "
                                  f"{args.passes} passes")
            merge_row(out, row)
            return stop

        run = train_paper(config, on_pass=on_pass, data=data)
        row["finished"] = len(run.history) == args.passes
        row["load_average_end"] = load_average()
        merge_row(out, row)
    return 0


def diagnose(batches: tuple[int, ...] = (1, 2, 4, 16, 64), train: int = 2000, test: int = 1000,
             passes: int = 2, seed: int = 0) -> dict:
    """Why summed batches diverge under SDLM (lenet_utils/paper1998/sdlm.py): at the paper's start
    (eta = 0.0005, curvature on 500 training images), the preconditioned sharpness lambda of the
    500 images' mean loss and of single images (a summed batch of B overshoots once B lambda > 2);
    then ``passes`` passes over the first ``train`` digits per batch size, test error on ``test``."""
    from lenet_utils.paper1998.sdlm import SDLM, diagonal_hessian, preconditioned_sharpness

    load_start = load_average()
    x, y = paper_split("train", train)
    test_x, test_y = paper_split("test", test)
    model = LeNet5Paper()
    model.reset_parameters(torch.Generator().manual_seed(seed))
    sdlm = SDLM(model.parameters())
    sdlm.set_curvature(diagonal_hessian(model, x[:500]))
    mean = preconditioned_sharpness(model, sdlm, x[:500])
    singles = [preconditioned_sharpness(model, sdlm, x[i:i + 1], iterations=20) for i in range(5)]
    print(f"sharpness at the start: {mean:.2f} (500 images' mean loss), single images {min(singles):.2f} to "
          f"{max(singles):.2f}; B x {mean:.2f} > 2 from B = {int(2 / mean) + 1}", flush=True)
    runs = {}
    for b in batches:
        config = PaperTrainConfig(passes=passes, batch_size=b, seed=seed, train_eval_size=0)
        history = train_paper(config, data=(x, y, test_x, test_y)).history
        runs[str(b)] = {"test_error": [h["test_error"] for h in history],
                        "train_loss": [h["train_loss"] for h in history]}
        print(f"batch {b}: test error {', '.join(f'{100 * e:.1f}%' for e in runs[str(b)]['test_error'])}, "
              f"training loss {', '.join(f'{v:.1f}' for v in runs[str(b)]['train_loss'])}", flush=True)
    return {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"), "commit": git_commit(),
            "threads": torch.get_num_threads(), "seed": seed, "train_images": train, "test_images": test,
            "passes": passes, "sharpness_mean_500": mean, "sharpness_single_images": singles, "batches": runs,
            "load_average_start": load_start, "load_average_end": load_average()}


def curvature_drift(seed: int = 0, images: int = 20_000, chunk: int = 5_000) -> dict:
    """Why re-estimating the curvature before every pass loses ground (the ``curvature`` option): one pass
    over all 60,000 digits as the paper (batch 1, eta 0.0005), then SDLM's rates per layer from the curvature
    of the start and re-estimated on 500 fresh images (their range and the share at the cap eta/mu), then
    the next ``images`` digits of pass 2 from the same weights under each policy: the mean training loss
    every ``chunk`` images and the test error at the end."""
    import copy

    from lenet_utils.paper1998.model import map_loss
    from lenet_utils.paper1998.sdlm import SDLM, diagonal_hessian, eta_for_pass
    from lenet_utils.paper1998.train import error_rate, plain_convolutions

    load_start = load_average()
    x, y = paper_split("train")
    test_x, test_y = paper_split("test")
    generator = torch.Generator().manual_seed(seed)
    model = LeNet5Paper()
    model.reset_parameters(generator)

    def rates(sdlm: SDLM, net: LeNet5Paper) -> dict:
        cap = sdlm.param_groups[0]["lr"] / sdlm.param_groups[0]["mu"]
        return {name: {"min": float(r.min()), "max": float(r.max()), "at_cap": float((r > 0.9 * cap).float().mean())}
                for (name, _), r in zip(net.named_parameters(), sdlm.learning_rates().values())}

    def one_pass(net: LeNet5Paper, sdlm: SDLM, order: torch.Tensor) -> list[float]:
        losses, total = [], 0.0
        with plain_convolutions(True):
            for i, k in enumerate(order.tolist()):
                sdlm.zero_grad(set_to_none=True)
                loss = map_loss(net(x[k:k + 1]), y[k:k + 1], reduction="sum")
                loss.backward()
                sdlm.step()
                total += float(loss.detach())
                if (i + 1) % chunk == 0:
                    losses.append(total / chunk)
                    total = 0.0
        return losses

    sdlm = SDLM(model.parameters(), eta=eta_for_pass(0))
    sdlm.set_curvature(diagonal_hessian(model, x[torch.randperm(len(y), generator=generator)[:500]]))
    start_rates, start_h = rates(sdlm, model), {p: sdlm.state[p]["h"] for p in model.parameters()}
    pass1_loss = one_pass(model, sdlm, torch.randperm(len(y), generator=generator))
    pass1_error = error_rate(model, test_x, test_y)
    order = torch.randperm(len(y), generator=generator)[:images]
    sample = x[torch.randperm(len(y), generator=generator)[:500]]
    policies = {}
    for policy in ("each_pass", "once"):
        net = copy.deepcopy(model)
        opt = SDLM(net.parameters(), eta=eta_for_pass(1))
        if policy == "once":
            opt.set_curvature({q: start_h[p] for q, p in zip(net.parameters(), model.parameters())})
        else:
            opt.set_curvature(diagonal_hessian(net, sample))
        policies[policy] = {"rates": rates(opt, net), "train_loss_per_chunk": one_pass(net, opt, order),
                            "test_error": error_rate(net, test_x, test_y)}
        print(f"{policy}: pass 2's first {images:,} images, training loss "
              f"{', '.join(f'{v:.1f}' for v in policies[policy]['train_loss_per_chunk'])}; test error "
              f"{100 * policies[policy]['test_error']:.2f}% (after pass 1: {100 * pass1_error:.2f}%)", flush=True)
    return {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"), "commit": git_commit(),
            "threads": torch.get_num_threads(), "seed": seed, "images": images, "chunk": chunk,
            "start_rates": start_rates, "pass1": {"train_loss_per_chunk": pass1_loss, "test_error": pass1_error},
            "pass2": policies, "load_average_start": load_start, "load_average_end": load_average()}


def step_speed(images: int = 300, rounds: int = 3) -> dict:
    """Milliseconds a single-image SDLM step (forward, MAP loss, backward, update) with oneDNN's
    convolutions and with PyTorch's plain ones, interleaved ``rounds`` times in this process."""
    from lenet_utils.paper1998.model import map_loss
    from lenet_utils.paper1998.sdlm import SDLM, diagonal_hessian
    from lenet_utils.paper1998.train import plain_convolutions

    x, y = paper_split("train", images)
    model = LeNet5Paper()
    model.reset_parameters(torch.Generator().manual_seed(0))
    sdlm = SDLM(model.parameters())
    sdlm.set_curvature(diagonal_hessian(model, x))
    load_start = load_average()

    def per_image(plain: bool) -> float:
        with plain_convolutions(plain):
            start = time.perf_counter()
            for i in range(images):
                sdlm.zero_grad(set_to_none=True)
                map_loss(model(x[i:i + 1]), y[i:i + 1], reduction="sum").backward()
                sdlm.step()
            return 1000 * (time.perf_counter() - start) / images

    times: dict[str, list[float]] = {"onednn": [], "plain": []}
    for _ in range(rounds):
        times["onednn"].append(per_image(False))
        times["plain"].append(per_image(True))
    best = {k: min(v) for k, v in times.items()}
    result = {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"), "commit": git_commit(),
              "threads": torch.get_num_threads(), "images": images, "ms_per_image": times,
              "best_ms": best, "speedup_plain": best["onednn"] / best["plain"],
              "load_average_start": load_start, "load_average_end": load_average()}
    print(f"single-image SDLM step: oneDNN {best['onednn']:.2f} ms, plain {best['plain']:.2f} ms "
          f"({result['speedup_plain']:.2f}x; best of {rounds}, load {load_start[0]} -> "
          f"{result['load_average_end'][0]})")
    return result


def ship(data: dict, weights: Path) -> None:
    """The best faithful run -> the package: the lowest final test error of the finished SDLM runs on the
    paper's schedule of eta (distortions allowed; runs with ``--eta-scale`` are trials, not the paper's recipe)."""
    faithful = [r for r in data["runs"] if r.get("finished") and r["recipe"]["optimizer"] == "sdlm"
                and recipe_of(r)["eta_scale"] == 1]
    if not faithful:
        raise SystemExit("no finished SDLM run on the paper's schedule in the result file: train one first")
    best = min(faithful, key=lambda r: r["history"][-1]["test_error"])
    model = LeNet5Paper()
    model.load_state_dict(torch.load(weights / f"{run_key(best)}.pt", weights_only=True))
    save_paper_checkpoint(PAPER_CHECKPOINT, model, recipe=best["recipe"], history=best["history"],
                          metrics={"test_error": best["history"][-1]["test_error"]})
    print(f"shipped {run_key(best)} ({100 * best['history'][-1]['test_error']:.2f}%) to {PAPER_CHECKPOINT}")


if __name__ == "__main__":
    raise SystemExit(main())
