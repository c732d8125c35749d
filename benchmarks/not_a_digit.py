"""How well the shipped "not a digit" signal works: non-digits flagged, real digits left alone.

    python benchmarks/not_a_digit.py                    # 300 non-digits of each kind, 1,200 uploads: ~2 min
    python benchmarks/not_a_digit.py --n 50 --uploads 120 --no-save

Everything goes through ``predict_image``, as the panel and the CLI call it:

* the non-digit set of ``lenet_utils/synthetic/non_digits.py`` with seed 1 (the detector was fitted on seed 0),
  its handwritten pairs made of MNIST *test* digits: the share flagged per kind. A picture the
  pipeline refuses as blank ("no digit found") counts as caught, and is also counted apart;
* MNIST's 10,000 test digits: the shipped model's accuracy (the detector sits beside the network
  and changes no answer), and the share of the correctly read ones flagged;
* MNIST test digits dressed as uploads (``lenet_utils.synthetic.uploads``, as ``benchmarks/upload_accuracy.py``
  makes them, seed 0): the share of the correctly read ones flagged;
* the panel's example digits (``data/examples``): how many are flagged (should be none);
* two controls, not targets: digits typed in the non-digits' fonts, and digits drawn on the panel's
  pad by ``lenet_utils.synthetic.simulated_class``'s simulated writers: the share of the correctly read ones flagged;
* calibration on the MNIST test set: ECE (15 bins) before and after the fitted temperature.

Targets: >= 80% of non-digits flagged; <= 2% of correctly read digits flagged, on MNIST's test set
and on the uploads. Prints a table, writes ``benchmarks/results/not_a_digit.json`` (unless
``--no-save``) and prints the same JSON on one line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from provenance import git_commit

HERE = Path(__file__).resolve().parent
RESULT = HERE / "results" / "not_a_digit.json"
TARGET_FLAGGED, TARGET_FALSE = 0.80, 0.02


def run(n: int = 300, uploads: int = 1200, seed: int = 1, verbose: bool = True) -> dict:
    load_start = round(os.getloadavg()[0], 2)
    from lenet_utils import load_mnist
    from lenet_utils.calibration import expected_calibration_error, scaled_probabilities
    from lenet_utils.checkpoints import pretrained_checkpoint
    from lenet_utils.inference import predict_logits
    from lenet_utils.predict import example_images, example_label, predict_file, predict_image
    from lenet_utils.predict.not_a_digit import conv_features, shipped_detector
    from lenet_utils.synthetic.non_digits import KINDS, non_digits, typed_digits
    from lenet_utils.synthetic.simulated_class import simulate_class
    from lenet_utils.synthetic.uploads import make_uploads, sample_indices

    start = time.perf_counter()
    ckpt = pretrained_checkpoint()
    model, detector = ckpt.model, shipped_detector()
    test = load_mnist("test")

    # The non-digits, read as uploads.
    caught = {k: [] for k in KINDS}
    refused = dict.fromkeys(KINDS, 0)
    image_only = {k: [] for k in KINDS}
    for kind, picture in non_digits(n, seed, test.pixels.numpy()):
        p = predict_image(picture, model)
        caught[kind].append(p.not_a_digit or not p.ok)
        refused[kind] += not p.ok
        if p.ok:
            image_only[kind].append(bool(detector.flags(np.zeros((1, 10)), p.image.numpy())[0]))
        else:
            image_only[kind].append(True)
    by_kind = {k: round(float(np.mean(v)), 4) for k, v in caught.items()}
    overall = float(np.mean([x for v in caught.values() for x in v]))

    # MNIST's test set: accuracy, and correctly read digits flagged (the same detector, in one batch).
    logits = predict_logits(model, test.images)                                     # (10000, 10)
    right = (logits.argmax(1) == test.labels).numpy()
    inputs = test.images[:].numpy()                                                  # (10000, 1, 28, 28)
    flags = detector.flags(logits.double().numpy(), inputs, conv_features(model, test.images[:]))
    mnist_false = float(flags[right].mean())
    mnist_false_image_only = float(detector.flags(logits.numpy(), inputs)[right].mean())

    # MNIST test digits as uploads, through the whole pipeline.
    upload_right, upload_flagged = 0, 0
    for up in make_uploads(test.pixels.numpy(), test.labels.numpy(), sample_indices(uploads, len(test), 0), seed=0):
        p = predict_image(up.data, model)
        if p.ok and p.label == up.label:
            upload_right += 1
            upload_flagged += p.not_a_digit
    upload_false = upload_flagged / max(upload_right, 1)

    # Controls, not targets: digits typed in fonts (seed 1), and digits drawn on the panel's pad by the
    # class simulator's writers (lenet_utils.synthetic.simulated_class, seed 1). The share of the correctly
    # read ones flagged.
    typed = [predict_image(picture, model) for _, picture in typed_digits(n, seed)]
    typed_truth = [digit for digit, _ in typed_digits(n, seed)]
    pad = simulate_class(writers=30, seed=seed)
    controls = {}
    for name, preds, truth in (("typed_digits", typed, typed_truth),
                               ("pad_digits", [predict_image(d.png, model) for d in pad], [d.label for d in pad])):
        read = [p for p, t in zip(preds, truth) if p.ok and p.label == t]
        controls[name] = {"n": len(preds), "correct": len(read),
                          "correct_flagged": round(float(np.mean([p.not_a_digit for p in read])), 4)}

    examples = example_images()
    flagged_examples = [e.name for e in examples if predict_file(e, model).not_a_digit]
    wrong_examples = [e.name for e in examples if predict_file(e, model).label != example_label(e)]

    ece_before = expected_calibration_error(logits.softmax(1), test.labels)
    ece_after = expected_calibration_error(scaled_probabilities(logits, detector.temperature), test.labels)
    result = {
        "benchmark": "not_a_digit",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "commit": git_commit(),
        "load_start": load_start, "load_end": round(os.getloadavg()[0], 2),
        "checkpoint": ckpt.path.name,
        "non_digits": {"seed": seed, "per_kind": n, "flagged_by_kind": by_kind, "flagged": round(overall, 4),
                       "refused_as_blank_by_kind": refused,
                       "flagged_image_only_by_kind": {k: round(float(np.mean(v)), 4) for k, v in image_only.items()}},
        "mnist_test": {"accuracy": round(float(right.mean()), 4), "correct_flagged": round(mnist_false, 4),
                       "correct_flagged_image_only": round(mnist_false_image_only, 4)},
        "uploads": {"n": uploads, "seed": 0, "correct": upload_right, "correct_flagged": round(upload_false, 4)},
        "controls": controls,
        "examples": {"n": len(examples), "flagged": flagged_examples, "misread": wrong_examples},
        "calibration": {"bins": 15, "temperature": round(detector.temperature, 4),
                        "ece_before": round(ece_before, 5), "ece_after": round(ece_after, 5)},
        "targets": {"flagged": TARGET_FLAGGED, "correct_flagged": TARGET_FALSE},
        "meets_targets": overall >= TARGET_FLAGGED and mnist_false <= TARGET_FALSE and upload_false <= TARGET_FALSE
                         and not flagged_examples,
        "seconds": round(time.perf_counter() - start, 1),
    }
    if verbose:
        print(f"non-digits (seed {seed}, {n} of each kind)   flagged   of which refused as blank   image features only")
        for k in KINDS:
            print(f"  {k:<36}{by_kind[k]:>7.1%}{refused[k]:>28}"
                  f"{result['non_digits']['flagged_image_only_by_kind'][k]:>22.1%}")
        print(f"  {'all':<36}{overall:>7.1%}")
        print(f"MNIST test: accuracy {right.mean():.2%}; correctly read digits flagged {mnist_false:.2%} "
              f"(image features only: {mnist_false_image_only:.2%})")
        print(f"MNIST test digits as uploads: {upload_right} of {uploads} read right, "
              f"{upload_false:.2%} of those flagged")
        for name, c in controls.items():
            print(f"{name.replace('_', ' ')} (a control): {c['correct']} of {c['n']} read right, "
                  f"{c['correct_flagged']:.2%} of those flagged")
        print(f"examples flagged: {len(flagged_examples)} of {len(examples)}")
        print(f"ECE (15 bins, MNIST test): {ece_before:.4f} before, {ece_after:.4f} after temperature "
              f"{detector.temperature:.3f}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="non-digits of each kind")
    parser.add_argument("--uploads", type=int, default=1200, help="MNIST test digits as uploads")
    parser.add_argument("--seed", type=int, default=1, help="the non-digit set's seed (the fit used 0)")
    parser.add_argument("--no-save", action="store_true", help=f"do not write {RESULT.relative_to(HERE.parent)}")
    args = parser.parse_args(argv)
    result = run(args.n, args.uploads, args.seed)
    if not args.no_save:
        RESULT.parent.mkdir(exist_ok=True)
        RESULT.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result))
    return 0 if result["meets_targets"] else 1


if __name__ == "__main__":
    sys.exit(main())
