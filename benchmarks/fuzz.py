"""Fuzz the upload path: mutated images of every supported format through ``predict_image``.

    python benchmarks/fuzz.py --seconds 20      # make test runs this (tests/test_hostile_uploads.py)
    python benchmarks/fuzz.py --seconds 600     # make bench

Each case is an encoded image (PNG 8/16-bit, palette, JPEG, GIF, BMP, WebP, TIFF 8/16/32-bit and
float) of a course example, then mutated: bytes flipped, cut short, chunks repeated or inserted,
header sizes rewritten, or plain noise. An *escape* is anything a user must never see: an
exception out of ``predict_image``, an error of more than one line or without the file's name,
a non-finite number, JSON that is not strict, or one case taking more than ``--slow`` seconds.
The last line is ``fuzz: <cases> cases, <escapes> escapes, ...``; the exit status is 1 on any escape.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import random
import sys
import tempfile
import time
import traceback

import numpy as np
from PIL import Image

from lenet_utils.predict import default_model, example_images, predict_image


def seeds() -> list[tuple[str, bytes]]:
    """Every format and bit depth the decoder accepts, from two of the course's examples."""
    out = []
    for path in example_images()[:2]:
        grey = Image.open(path).convert("L").resize((96, 96))
        a = np.asarray(grey)
        variants = [
            ("png", grey, "PNG", {}), ("rgba.png", grey.convert("RGBA"), "PNG", {}),
            ("p.png", grey.convert("P"), "PNG", {}), ("16.png", Image.fromarray(a.astype(np.uint16) * 257), "PNG", {}),
            ("jpg", grey.convert("RGB"), "JPEG", {"quality": 80}), ("gif", grey.convert("P"), "GIF", {}),
            ("bmp", grey, "BMP", {}), ("webp", grey.convert("RGB"), "WEBP", {}),
            ("tif", grey, "TIFF", {}), ("lzw.tif", grey, "TIFF", {"compression": "tiff_lzw"}),
            ("16.tif", Image.fromarray(a.astype(np.uint16) * 257), "TIFF", {}),
            ("i.tif", Image.fromarray(a.astype(np.int32), "I"), "TIFF", {}),
            ("f.tif", Image.fromarray(a.astype(np.float32) / 255, "F"), "TIFF", {}),
            ("1.png", grey.convert("1"), "PNG", {}), ("cmyk.jpg", grey.convert("CMYK"), "JPEG", {}),
        ]
        for suffix, img, fmt, kw in variants:
            buf = io.BytesIO()
            img.save(buf, fmt, **kw)
            out.append((f"{path.stem}.{suffix}", buf.getvalue()))
    return out


def mutate(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    kind = rng.randrange(7)
    if kind == 0:                                   # flip a few bytes anywhere
        for _ in range(rng.randint(1, 8)):
            b[rng.randrange(len(b))] = rng.randrange(256)
    elif kind == 1:                                 # flip bytes in the header, where sizes live
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(min(len(b), 64))] = rng.randrange(256)
    elif kind == 2:                                 # cut short
        b = b[:rng.randrange(1, len(b))]
    elif kind == 3:                                 # repeat a chunk
        i = rng.randrange(len(b))
        b[i:i] = b[i:i + rng.randint(1, 512)] * rng.randint(1, 50)
    elif kind == 4:                                 # insert noise
        i = rng.randrange(len(b))
        b[i:i] = rng.randbytes(rng.randint(1, 256))
    elif kind == 5:                                 # a big 32-bit number where a size might be
        i = rng.randrange(min(len(b), 48))
        b[i:i + 4] = rng.choice([0xFFFF, 0x7FFFFFFF, 60_000, 1, 0]).to_bytes(4, rng.choice(["big", "little"]))
    else:                                           # noise behind a real signature
        b = b[:rng.randint(2, 16)] + bytearray(rng.randbytes(rng.randint(0, 2048)))
    return bytes(b)


def check(name: str, pred) -> str | None:
    """Why this answer would be an escape, or None."""
    if pred.error is not None:
        if "\n" in pred.error or not pred.error.startswith(f"{name}: "):
            return f"error not one line naming the file: {pred.error!r}"
        if "internal error" in pred.error:
            return f"internal error: {pred.error}"
    else:
        if pred.label not in range(10) or not math.isfinite(pred.confidence):
            return f"bad answer {pred.label} {pred.confidence}"
    try:
        json.dumps(pred.to_dict(), allow_nan=False)
    except ValueError as err:
        return f"JSON not strict: {err}"
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0, help="time budget (default 60)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--slow", type=float, default=10.0, help="a case slower than this is an escape")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    model = default_model()
    sys.stdout.flush()
    saved_err = os.dup(2)                            # count what reaches stderr (libtiff's C warnings)
    err_file = tempfile.TemporaryFile()
    os.dup2(err_file.fileno(), 2)
    pool = seeds()
    cases = escapes = answered = refused = 0
    slowest = 0.0
    start = time.perf_counter()
    for name, data in pool:                          # the seeds themselves must be answered
        pred = predict_image(data, model, name=name)
        cases += 1
        why = check(name, pred) or (None if pred.ok else f"seed refused: {pred.error}")
        if why:
            escapes += 1
            print(f"ESCAPE {name}: {why}")
    while time.perf_counter() - start < args.seconds:
        name, data = rng.choice(pool)
        case = mutate(data, rng)
        if rng.random() < 0.3:
            case = mutate(case, rng)
        t0 = time.perf_counter()
        try:
            pred = predict_image(case, model, name=name)
            why = check(name, pred)
        except BaseException as err:  # exactly what we are looking for
            why = f"raised {type(err).__name__}: {err}\n{traceback.format_exc()}"
            pred = None
        took = time.perf_counter() - t0
        slowest = max(slowest, took)
        if why is None and took > args.slow:
            why = f"took {took:.1f} s"
        cases += 1
        if why:
            escapes += 1
            print(f"ESCAPE {name} (case {cases}, {len(case)} bytes): {why}")
        elif pred.ok:
            answered += 1
        else:
            refused += 1
    sys.stderr.flush()
    os.dup2(saved_err, 2)
    err_file.seek(0)
    noise = err_file.read().decode(errors="replace").splitlines()
    print(f"stderr: {len(noise)} lines" + (f", e.g. {noise[0][:100]!r}" if noise else ""))
    print(f"fuzz: {cases} cases, {escapes} escapes, {refused} refused with one line, {answered} answered; "
          f"{len(pool)} seeds, slowest case {slowest * 1000:.0f} ms, {time.perf_counter() - start:.0f} s")
    return 1 if escapes else 0


if __name__ == "__main__":
    sys.exit(main())
