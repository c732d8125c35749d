"""Command line: ``python -m lenet_utils`` (or ``lenet``) train | evaluate | predict | summary | data | doctor | grade.

The arguments and help texts are in :mod:`lenet_utils.cli.parser`; this module runs the commands, each
importing PyTorch and the rest only when it runs, so ``--help`` answers at once.

Wrong arguments or files give one line on stderr and exit status 2, never a traceback. Anything
unexpected gives one "internal error" line and exit status 1; ``--debug`` (or ``LENET_DEBUG=1``)
shows the traceback instead.

``predict`` streams: each file's answer is printed as soon as it is known, and nothing of it is
kept, so memory does not grow with the number of files. ``--json`` writes one JSON list, an
object per file, written incrementally (the list is closed even when interrupted); ``--jsonl``
writes one JSON object per line instead. Both are strict JSON: never NaN or Infinity.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..messages import one_line
from .parser import UsageError, build_parser, parse_args

__all__ = ["main", "build_parser", "UsageError"]

EXIT_USAGE = 2
EXIT_INTERNAL = 1
REPORT = "please report it to the course team with the command you ran (add --debug to see the details)"


def main(argv: Sequence[str] | None = None, prog: str = "lenet") -> int:
    """Run one command; returns the exit status. ``prog`` names the program in usage lines."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv[:argv.index("--")] if "--" in argv else "--debug" in argv
    debug = debug or bool(os.environ.get("LENET_DEBUG"))
    try:
        args = parse_args(argv, prog)
        return COMMANDS[args.command](args)
    except UsageError as err:
        return _fail(str(err))
    except KeyboardInterrupt:
        print("lenet: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # the one error boundary: one line, never a traceback
        if debug:
            raise
        known = _known_errors()
        if isinstance(err, known):
            return _fail(one_line(err))
        print(f"lenet: internal error: {type(err).__name__}: {one_line(err)}; {REPORT}", file=sys.stderr)
        return EXIT_INTERNAL


def _fail(message: str) -> int:
    print(f"lenet: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _known_errors() -> tuple[type[Exception], ...]:
    from ..checkpoints import CheckpointError
    from ..data import MNISTUnavailable
    from ..predict.answer import ImageError

    return (CheckpointError, MNISTUnavailable, ImageError, ValueError, OSError)


# --- commands -------------------------------------------------------------------------------
def cmd_train(args: argparse.Namespace) -> int:
    from ..checkpoints import save_checkpoint
    from ..data import load_mnist
    from ..lab_net import LabNet
    from ..model import count_parameters
    from ..paths import checkpoints_dir
    from ..training import TrainConfig, fit, set_seed

    config = _model_config(args.model)
    overrides = {k: v for k, v in {"epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
                                   "optimizer": args.optimizer, "schedule": args.schedule}.items() if v is not None}
    recipe = TrainConfig(augment=args.augment, seed=args.seed, **overrides)
    out = args.out or checkpoints_dir() / "lenet5.pt"
    if out.exists() and out.is_dir():
        raise UsageError(f"--out {out} is a folder; give a file path such as {out / 'lenet5.pt'}")

    train, test = load_mnist("train"), load_mnist("test")
    set_seed(recipe.seed)
    model = LabNet(config)
    print(f"training {config.describe_changes()} LeNet-5 ({count_parameters(model):,} parameters) "
          f"for {recipe.epochs} epochs: {_recipe_text(recipe)}", flush=True)

    def report(history) -> None:
        e = history.final
        print(f"epoch {e.epoch:>2}/{recipe.epochs}  train loss {e.train_loss:.4f} acc {e.train_acc:.4f}  "
              f"test loss {e.test_loss:.4f} acc {e.test_acc:.4f}  {e.seconds:5.1f} s  lr {e.lr:.4g}", flush=True)

    progress = not args.no_progress and sys.stderr.isatty()
    history = fit(model, train, test, recipe, callback=report, progress=progress, device=args.device)
    final = history.final
    path = save_checkpoint(out, model.cpu(), recipe=recipe, seed=recipe.seed,
                           metrics={"test_acc": final.test_acc, "test_loss": final.test_loss,
                                    "train_seconds": history.seconds},
                           history=history)
    print(f"test accuracy {final.test_acc:.2%} after {len(history)} epochs, {history.seconds:.1f} s; "
          f"checkpoint written to {path}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from ..data import load_mnist
    from ..inference import predict_logits
    from ..metrics import accuracy, confusion_matrix, format_report, most_confused_pairs, per_class_report

    ckpt = _checkpoint(args.checkpoint)
    test = load_mnist("test")
    logits = predict_logits(ckpt.model, test.images)
    acc = accuracy(logits, test.labels)
    cm = confusion_matrix(logits, test.labels)
    correct = int(cm.diag().sum())
    print(f"checkpoint: {ckpt.path}")
    print(f"test accuracy: {acc:.2%} ({correct:,} of {len(test):,} MNIST test images)")
    print()
    print(format_report(per_class_report(cm)))
    pairs = most_confused_pairs(cm, 3)
    if pairs:
        print()
        print("most confused: " + ", ".join(f"{t} read as {p} ({n}x)" for t, p, n in pairs))
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from ..fast import seal
    from ..predict.answer import predict_file

    model = seal(_checkpoint(args.checkpoint).model)   # a bad checkpoint stops here; answers only: folded once
    out = sys.stdout
    failed = 0
    if args.json:
        out.write("[")
    try:
        for i, path in enumerate(args.files):
            r = predict_file(path, model)            # never raises; dropped after printing (bounded memory)
            failed += r.error is not None
            if args.json or args.jsonl:
                text = json.dumps(r.to_dict(), allow_nan=False)
                out.write(("," if i else "") + "\n  " + text if args.json else text + "\n")
            elif r.error is not None:
                print(f"lenet: error: {r.error}", file=sys.stderr, flush=True)
            else:                                    # "7.png: 7 (99.9%)", flagged when it is not one digit
                out.write(f"{r} (doesn't look like a digit)\n" if r.not_a_digit else f"{r}\n")
            out.flush()
    finally:
        if args.json:                                # closed even on Ctrl-C: what was written stays valid
            out.write("\n]\n" if args.files else "]\n")
            out.flush()
    return EXIT_USAGE if failed else 0


def cmd_summary(args: argparse.Namespace) -> int:
    from ..summary import layer_summary

    print(layer_summary(_model_config(args.model)))
    return 0


def cmd_data(args: argparse.Namespace) -> int:
    from ..data import prepare_mnist

    root = prepare_mnist()
    print(f"MNIST ready and checked in {root / 'MNIST' / 'raw'}")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from .doctor import doctor

    report = doctor(full=True) if getattr(args, "full", False) else doctor()
    print(report)
    return 0 if report.ok else 1


def _clone_path(given: Path | None, *parts: str) -> Path:
    if given is not None:
        return given
    from ..paths import repo_root

    root = repo_root()
    if root is None:
        raise UsageError(f"not in a clone of the course: give --{parts[-1] if parts[-1] != 'source' else 'out'}")
    return root.joinpath(*parts)


def cmd_assignments(args: argparse.Namespace) -> int:
    from ..term.assignments import build

    out = _clone_path(args.out, "assignments", "source")
    notebooks = args.notebooks if args.notebooks is not None else _clone_path(None, "notebooks")
    points = args.points if args.points is not None else _clone_path(None, "assignments", "points.toml")
    for path in build(notebooks, out, points):
        print(f"wrote {path}")
    return 0


def cmd_grade(args: argparse.Namespace) -> int:
    from ..term.grading import grade_assignment, parse_timestamp, write_feedback, write_gradebook
    from ..term.sandbox import Limits

    source_dir = args.source if args.source is not None else _clone_path(None, "assignments", "source")
    notebooks = sorted((source_dir / args.assignment).glob("*.ipynb"))
    if not notebooks:
        raise UsageError(f"{source_dir / args.assignment}: no source assignment; run `lenet assignments build`")
    try:
        due = parse_timestamp(args.due.replace("Z", "+00:00")) if args.due else None
    except ValueError:
        raise UsageError(f"--due {args.due!r}: give a date and time, e.g. 2026-12-14T23:59Z") from None
    limits = Limits(args.cell_seconds, args.notebook_seconds, args.memory_mb, args.user)
    rows = grade_assignment(notebooks[0], args.inbound, args.out / "work", due, limits)
    book = write_gradebook(rows, args.out / f"gradebook-{args.assignment}.csv")
    pages = write_feedback(rows, args.out / "feedback", notebooks[0].name)
    print(f"graded {len({r.student for r in rows})} students: {book}; feedback in {args.out / 'feedback'} "
          f"({len(pages)} pages)")
    return 0


COMMANDS = {"assignments": cmd_assignments, "grade": cmd_grade,
            "train": cmd_train, "evaluate": cmd_evaluate, "predict": cmd_predict, "summary": cmd_summary,
            "data": cmd_data, "doctor": cmd_doctor}


# --- helpers --------------------------------------------------------------------------------
def _checkpoint(path: Path | None):
    from ..checkpoints import load_checkpoint, pretrained_checkpoint

    return pretrained_checkpoint() if path is None else load_checkpoint(path)


def _model_config(pairs: list[str]):
    """``["pool=max", "fc_widths=120,84"]`` -> a validated LeNetConfig."""
    import dataclasses

    from ..config import LeNetConfig

    fields = {f.name: f for f in dataclasses.fields(LeNetConfig)}
    values: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or key not in fields:
            raise UsageError(f"--model {pair!r}: expected KEY=VALUE with KEY one of {', '.join(fields)}")
        values[key] = _parse_value(key, raw.strip())
    return LeNetConfig(**values)


def _parse_value(key: str, raw: str) -> Any:
    if key == "fc_widths":
        if raw.lower() in ("", "none", "()"):
            return ()
        try:
            return tuple(int(v) for v in raw.split(","))
        except ValueError:
            raise UsageError(f"--model fc_widths={raw!r}: expected comma-separated whole numbers, "
                             "e.g. 120,84") from None
    if key == "dropout":
        try:
            return float(raw)
        except ValueError:
            raise UsageError(f"--model dropout={raw!r}: expected a number such as 0.2") from None
    try:
        return int(raw)
    except ValueError:
        return raw


def _recipe_text(recipe) -> str:
    text = f"{recipe.optimizer} lr {recipe.lr:g} ({recipe.schedule}), batch {recipe.batch_size}, seed {recipe.seed}"
    return text + (", augmented" if recipe.augment else "")


if __name__ == "__main__":
    sys.exit(main())
