"""Worst-case memory of reading one upload, per format and bit depth (issue 16).

    python benchmarks/decode_memory.py             # every format at the pixel limit (minutes)
    python benchmarks/decode_memory.py --side 3000 # a quicker look

For each format, an image of ``--side`` x ``--side`` pixels (default: the largest square within
``Limits.max_pixels``, 7071 x 7071 = 50 megapixels) is written to a temporary file, then a fresh
process runs ``predict_image`` on its bytes and reports its peak resident memory above its own
baseline (after imports, the model and one small prediction). The bound the code promises is
``lenet_utils.images.decoding.DECODE_BOUND_MB`` above the baseline; a row over it is marked and the exit status is 1.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from provenance import git_commit

from lenet_utils.images.decoding import DECODE_BOUND_MB as BOUND_MB
from lenet_utils.images.decoding import LIMITS

REPO = Path(__file__).resolve().parents[1]

# name -> (Pillow mode made, format, save options); compressible content: a disc of ink on paper
FORMATS = {
    "PNG grey 8-bit": ("L", "PNG", {"compress_level": 1}),
    "PNG grey 16-bit": ("I;16", "PNG", {"compress_level": 1}),
    "PNG 1-bit": ("1", "PNG", {}),
    "PNG palette": ("P", "PNG", {"compress_level": 1}),
    "PNG RGB": ("RGB", "PNG", {"compress_level": 1}),
    "PNG RGBA": ("RGBA", "PNG", {"compress_level": 1}),
    "JPEG RGB": ("RGB", "JPEG", {"quality": 75}),
    "JPEG grey": ("L", "JPEG", {"quality": 75}),
    "JPEG CMYK": ("CMYK", "JPEG", {"quality": 75}),
    "GIF": ("P", "GIF", {}),
    "BMP RGB": ("RGB", "BMP", {}),
    "WebP RGB": ("RGB", "WEBP", {"quality": 50, "method": 0}),
    "TIFF grey 8-bit": ("L", "TIFF", {"compression": "tiff_lzw"}),
    "TIFF grey 16-bit": ("I;16", "TIFF", {"compression": "tiff_lzw"}),
    "TIFF 32-bit int": ("I", "TIFF", {"compression": "tiff_lzw"}),
    "TIFF 32-bit float": ("F", "TIFF", {"compression": "tiff_lzw"}),
    "TIFF RGB": ("RGB", "TIFF", {"compression": "tiff_lzw"}),
    # added: the remaining PNG depths and alpha, alpha in WebP/TIFF, and the BMPs the byte limit admits
    "PNG grey+alpha": ("LA", "PNG", {"compress_level": 1}),
    "PNG RGB 16-bit": ("RGB;16", "PNG", {}),
    "PNG RGBA 16-bit": ("RGBA;16", "PNG", {}),
    "WebP RGBA lossless": ("RGBA", "WEBP", {"lossless": True, "method": 0}),
    "TIFF RGBA": ("RGBA", "TIFF", {"compression": "tiff_lzw"}),
    "BMP 1-bit": ("1", "BMP", {}),
    "BMP grey 8-bit": ("L", "BMP", {}),
}
# Formats whose largest image within Limits.max_bytes (25 MiB) is smaller than the pixel limit:
# an uncompressed 8-bit BMP of 5000 x 5000 is 23.9 MiB (7071 x 7071 would be refused unread).
# WebP has a lower pixel limit of its own (Limits.max_webp_pixels): its largest square within it.
LARGEST_SIDE = {"BMP grey 8-bit": 5000, "WebP RGB": math.isqrt(LIMITS.max_webp_pixels),
                "WebP RGBA lossless": math.isqrt(LIMITS.max_webp_pixels)}

MAKE = r"""
import sys
import numpy as np
from PIL import Image, ImageDraw
mode, fmt, opts, side, out = sys.argv[1], sys.argv[2], eval(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
img = Image.new("L", (side, side), 235)
ImageDraw.Draw(img).ellipse((side // 3, side // 4, 2 * side // 3, 3 * side // 4), outline=20, width=max(3, side // 25))
if mode in ("RGB;16", "RGBA;16"):                # Pillow writes no 16-bit colour PNG: write it here
    import struct, zlib
    a = np.asarray(img.convert(mode[:-3])).astype(">u2") * 257
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    z = zlib.compressobj(1)
    rows = b"".join(z.compress(b"\0" + row.tobytes()) for row in a) + z.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 16, 2 if mode == "RGB;16" else 6, 0, 0, 0)
    open(out, "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", rows) + chunk(b"IEND", b""))
    sys.exit()
if mode in ("I;16", "I", "F"):
    a = np.asarray(img)
    img = Image.fromarray(a.astype(np.uint16) * 257) if mode == "I;16" else (
        Image.fromarray(a.astype(np.int32) * 257, "I") if mode == "I"
        else Image.fromarray(a.astype(np.float32) / 255, "F"))
elif mode != "L":
    img = img.convert(mode)
img.save(out, fmt, **opts)
"""

MEASURE = r"""
import io, json, resource, sys
from PIL import Image
from lenet_utils.predict import default_model, predict_image
def rss():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS")) / 1024
model = default_model()
buf = io.BytesIO(); Image.new("L", (64, 64), 200).save(buf, "PNG")
predict_image(buf.getvalue(), model)
data = open(sys.argv[1], "rb").read()
base = rss()
with open("/proc/self/clear_refs", "w") as f:   # reset the peak (VmHWM) to the current RSS
    f.write("5")
p = predict_image(data, model, name="big")
with open("/proc/self/status") as f:
    peak = next(int(l.split()[1]) for l in f if l.startswith("VmHWM")) / 1024
print(json.dumps({"base": base, "peak": peak, "answer": p.label, "error": p.error, "bytes": len(data)}))
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--side", type=int, default=7071, help="image side in pixels (default 7071: 50 megapixels)")
    ap.add_argument("--only", default="", help="formats whose name contains this text")
    ap.add_argument("--out", type=Path, default=None, help="also write the rows as JSON here")
    args = ap.parse_args()
    load_start = round(os.getloadavg()[0], 2)
    worst = 0.0
    rows = []
    print(f"{args.side}x{args.side} pixels; peak resident memory above the process baseline (bound {BOUND_MB} MB)")
    print(f"{'format':<20} {'file':>10} {'peak above base':>16}  result")
    with tempfile.TemporaryDirectory() as tmp:
        for name, (mode, fmt, opts) in FORMATS.items():
            if args.only.lower() not in name.lower():
                continue
            path = Path(tmp) / "img"
            side = min(args.side, LARGEST_SIDE.get(name, args.side))
            subprocess.run([sys.executable, "-c", MAKE, mode, fmt, repr(opts), str(side), str(path)], check=True)
            proc = subprocess.run([sys.executable, "-c", MEASURE, str(path)], capture_output=True, text=True,
                                  cwd=REPO, timeout=600)
            if proc.returncode != 0:
                print(f"{name:<20} failed: {proc.stderr.strip().splitlines()[-1:]}")
                rows.append({"format": name, "side": side, "failed": proc.stderr.strip().splitlines()[-1:]})
                worst = float("inf")
                continue
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            above = r["peak"] - r["base"]
            worst = max(worst, above)
            result = f"answer {r['answer']}" if r["error"] is None else r["error"][:60]
            flag = "  OVER THE BOUND" if above > BOUND_MB else ""
            print(f"{name:<20} {r['bytes'] / 1e3:>8.0f}KB {above:>13.0f} MB  {result}{flag}", flush=True)
            rows.append({"format": name, "side": side, "file_bytes": r["bytes"], "base_mb": round(r["base"], 1),
                         "peak_mb": round(r["peak"], 1), "above_base_mb": round(above, 1), "answer": r["answer"],
                         "error": r["error"]})
    print(f"worst case: {worst:.0f} MB above the baseline (bound {BOUND_MB} MB)")
    if args.out:
        report = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                  "commit": git_commit(), "load_start": load_start,
                  "side": args.side, "bound_mb": BOUND_MB,
                  "worst_mb": None if worst == float("inf") else round(worst, 1), "cores": os.cpu_count(),
                  "load_end": round(os.getloadavg()[0], 2), "rows": rows}
        args.out.write_text(json.dumps(report, indent=2) + "\n")
    return 0 if worst <= BOUND_MB else 1


if __name__ == "__main__":
    sys.exit(main())
