"""Command line: ``python -m lenet_utils`` (or ``lenet``) train | evaluate | predict | summary | data | doctor.

Wrong arguments or files give one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Sequence

EXIT_USAGE = 2


class UsageError(Exception):
    """A problem with what the user asked for: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse prints usage + error; we print one line
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="lenet", description="LeNet-5 by hand: train, evaluate and use LeNet-5 on MNIST.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser, metavar="COMMAND")

    p = sub.add_parser("train", help="train a LeNet-5 and write a checkpoint")
    p.add_argument("--epochs", type=int, default=None, help="passes over the training set (default 5)")
    p.add_argument("--batch-size", type=int, default=None, help="images per step (default 128)")
    p.add_argument("--lr", type=float, default=None, help="peak learning rate (default 0.1)")
    p.add_argument("--optimizer", choices=["sgd", "adam"], default=None)
    p.add_argument("--schedule", choices=["onecycle", "constant"], default=None)
    p.add_argument("--augment", action="store_true", help="random shifts, rotations and zooms per batch")
    p.add_argument("--seed", type=int, default=0, help="seeds the initial weights, shuffling and augmentation")
    p.add_argument("--model", action="append", default=[], metavar="KEY=VALUE",
                   help="change the architecture, e.g. --model pool=max --model fc_widths=120,84 (repeatable)")
    p.add_argument("--out", type=Path, default=None, help="checkpoint path (default <data root>/checkpoints/lenet5.pt)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | mps")
    p.add_argument("--no-progress", action="store_true", help="no progress bar, only a line per epoch")

    p = sub.add_parser("evaluate", help="test accuracy and a per-class table for a checkpoint")
    p.add_argument("--checkpoint", type=Path, default=None, help="default: the shipped model")

    p = sub.add_parser("predict", help="the digit in each image file")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.add_argument("--checkpoint", type=Path, default=None, help="default: the shipped model")
    p.add_argument("--json", action="store_true", help="print one JSON list, an object per file")

    p = sub.add_parser("summary", help="the layer table (shapes, parameters, MACs) of a config")
    p.add_argument("--model", action="append", default=[], metavar="KEY=VALUE", help="as for train")

    sub.add_parser("data", help="fetch MNIST (or copy it from $LENET_MNIST_DIR) and check it")
    sub.add_parser("doctor", help="check this machine for the course, with a fix for each problem")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except UsageError as err:
        return _fail(str(err))
    except KeyboardInterrupt:
        print("lenet: interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        known = _known_errors()
        if isinstance(err, known):
            return _fail(str(err))
        raise


def _fail(message: str) -> int:
    print(f"lenet: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _known_errors() -> tuple[type[Exception], ...]:
    from .checkpoints import CheckpointError
    from .data import MNISTUnavailable
    from .predict import ImageError

    return (CheckpointError, MNISTUnavailable, ImageError, ValueError, FileNotFoundError, PermissionError)


# --- commands -------------------------------------------------------------------------------
def cmd_train(args: argparse.Namespace) -> int:
    from .checkpoints import save_checkpoint
    from .data import load_mnist
    from .model import LeNet5
    from .paths import checkpoints_dir
    from .training import TrainConfig, fit, set_seed

    config = _model_config(args.model)
    overrides = {k: v for k, v in {"epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
                                   "optimizer": args.optimizer, "schedule": args.schedule}.items() if v is not None}
    recipe = TrainConfig(augment=args.augment, seed=args.seed, **overrides)
    out = args.out or checkpoints_dir() / "lenet5.pt"
    if out.exists() and out.is_dir():
        raise UsageError(f"--out {out} is a folder; give a file path such as {out / 'lenet5.pt'}")

    train, test = load_mnist("train"), load_mnist("test")
    set_seed(recipe.seed)
    model = LeNet5(config)
    print(f"training {config.describe_changes()} LeNet-5 ({model.num_parameters():,} parameters) "
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
    from .data import load_mnist
    from .inference import predict_logits
    from .metrics import accuracy, confusion_matrix, format_report, most_confused_pairs, per_class_report

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
    from .predict import predict_file

    model = _checkpoint(args.checkpoint).model
    results = [predict_file(path, model) for path in args.files]
    if args.json:
        print(json.dumps([r.to_dict() for r in results], indent=2))
    else:
        for r in results:
            if r.error is not None:
                print(f"lenet: error: {r.error}", file=sys.stderr)
            else:
                print(f"{r.file}: {r.label} ({r.confidence:.1%})")
    return EXIT_USAGE if any(r.error is not None for r in results) else 0


def cmd_summary(args: argparse.Namespace) -> int:
    from .summary import layer_summary

    print(layer_summary(_model_config(args.model)))
    return 0


def cmd_data(args: argparse.Namespace) -> int:
    from .data import prepare_mnist

    root = prepare_mnist()
    print(f"MNIST ready and checked in {root / 'MNIST' / 'raw'}")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from .doctor import doctor

    report = doctor()
    print(report)
    return 0 if report.ok else 1


COMMANDS = {"train": cmd_train, "evaluate": cmd_evaluate, "predict": cmd_predict, "summary": cmd_summary,
            "data": cmd_data, "doctor": cmd_doctor}


# --- helpers --------------------------------------------------------------------------------
def _checkpoint(path: Path | None):
    from .checkpoints import load_checkpoint, pretrained_checkpoint

    return pretrained_checkpoint() if path is None else load_checkpoint(path)


def _model_config(pairs: list[str]):
    """``["pool=max", "fc_widths=120,84"]`` -> a validated LeNetConfig."""
    import dataclasses

    from .model import LeNetConfig

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
            raise UsageError(f"--model fc_widths={raw!r}: expected comma-separated whole numbers, e.g. 120,84") from None
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
