"""Worst-case memory of reading one upload, per format and bit depth (issue 16).

    python benchmarks/decode_memory.py             # every format at the pixel limit (minutes)
    python benchmarks/decode_memory.py --side 3000 # a quicker look

For each format, an image of ``--side`` x ``--side`` pixels (default: the largest square within
``Limits.max_pixels``, 7071 x 7071 = 50 megapixels) is written to a temporary file, then a fresh
process runs ``predict_image`` on its bytes and reports its peak resident memory above its own
baseline (after imports, the model and one small prediction). The bound the code promises is
``BOUND_MB`` above the baseline; a row over it is marked and the exit status is 1.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BOUND_MB = 600

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
}

MAKE = r"""
import sys
import numpy as np
from PIL import Image, ImageDraw
mode, fmt, opts, side, out = sys.argv[1], sys.argv[2], eval(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
img = Image.new("L", (side, side), 235)
ImageDraw.Draw(img).ellipse((side // 3, side // 4, 2 * side // 3, 3 * side // 4), outline=20, width=max(3, side // 25))
if mode in ("I;16", "I", "F"):
    a = np.asarray(img)
    img = Image.fromarray(a.astype(np.uint16) * 257) if mode == "I;16" else (
        Image.fromarray(a.astype(np.int32) * 257, "I") if mode == "I" else Image.fromarray(a.astype(np.float32) / 255, "F"))
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
    args = ap.parse_args()
    worst = 0.0
    print(f"{args.side}x{args.side} pixels; peak resident memory above the process baseline (bound {BOUND_MB} MB)")
    print(f"{'format':<20} {'file':>10} {'peak above base':>16}  result")
    with tempfile.TemporaryDirectory() as tmp:
        for name, (mode, fmt, opts) in FORMATS.items():
            if args.only.lower() not in name.lower():
                continue
            path = Path(tmp) / "img"
            subprocess.run([sys.executable, "-c", MAKE, mode, fmt, repr(opts), str(args.side), str(path)], check=True)
            proc = subprocess.run([sys.executable, "-c", MEASURE, str(path)], capture_output=True, text=True,
                                  cwd=REPO, timeout=600)
            if proc.returncode != 0:
                print(f"{name:<20} failed: {proc.stderr.strip().splitlines()[-1:]}")
                worst = float("inf")
                continue
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            above = r["peak"] - r["base"]
            worst = max(worst, above)
            result = f"answer {r['answer']}" if r["error"] is None else r["error"][:60]
            flag = "  OVER THE BOUND" if above > BOUND_MB else ""
            print(f"{name:<20} {r['bytes'] / 1e3:>8.0f}KB {above:>13.0f} MB  {result}{flag}", flush=True)
    print(f"worst case: {worst:.0f} MB above the baseline (bound {BOUND_MB} MB)")
    return 0 if worst <= BOUND_MB else 1


if __name__ == "__main__":
    sys.exit(main())
