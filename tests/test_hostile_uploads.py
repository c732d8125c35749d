"""Issue 16, uploads and the API: odd pixel types, wide images, quiet warnings, the fuzzer."""

from __future__ import annotations

import io
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lenet_utils.predict import example_images, example_label, predict_image

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def seven() -> np.ndarray:
    path = next(p for p in example_images() if example_label(p) == 7)
    return np.asarray(Image.open(path).convert("L"))


def _png(img: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def test_uint16_and_other_integer_arrays_are_scaled_not_clipped(seven):
    want = predict_image(seven).label
    assert want == 7
    for arr in (seven.astype(np.uint16) * 257, seven.astype(np.int64), seven.astype(np.int32) * 257,
                seven.astype(np.float64) / 255.0, seven.astype(np.float32), seven > 127):
        p = predict_image(arr)
        assert p.ok and p.label == want, (arr.dtype, p.error)


@pytest.mark.parametrize("arr, words", [
    (np.zeros((40, 40), "datetime64[s]"), "pixels of type datetime64[s] are not numbers"),
    (np.full((40, 40), "a"), "pixels of type <U1 are not numbers"),
    (np.empty((40, 40), object), "pixels of type object are not numbers"),
    (np.zeros((40, 40), complex), "pixels of type complex128 are not numbers"),
])
def test_arrays_that_are_not_numbers_are_one_line(arr, words):
    p = predict_image(arr, name="arr")
    assert p.error == f"arr: {words}; expected uint8 (0-255), uint16 or floats (0-1)"


def test_nan_and_inf_pixels_are_answered_quietly(seven):
    a = seven.astype(np.float32) / 255.0
    a[0, 0] = np.nan                 # single pixels in the paper's corners: a whole row of "ink"
    a[-1, -1] = np.inf               # would be read as part of the digit
    a[0, -1] = -np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = predict_image(a)
        tiff = predict_image(_png(Image.fromarray(a, mode="F"), "TIFF"), name="f.tif")
        nan_only = predict_image(np.full((40, 40), np.nan, np.float32), name="nan")
    assert p.label == 7 and tiff.label == 7, (p.error, tiff.error)
    assert "no digit found" in nan_only.error


def test_wide_files_give_the_same_answer_as_8_bit(seven):
    big = Image.fromarray(seven).resize((2400, 2400), Image.BICUBIC)
    eight = np.asarray(big)
    sixteen = Image.fromarray(eight.astype(np.uint16) * 257)          # I;16 PNG
    as_float = Image.fromarray(eight.astype(np.float32) / 255.0, mode="F")
    as_int32 = Image.fromarray(eight.astype(np.int32) * 257, mode="I")
    for name, data in [("16.png", _png(sixteen)), ("f.tif", _png(as_float, "TIFF")),
                       ("i.tif", _png(as_int32, "TIFF")), ("16.tif", _png(sixteen, "TIFF"))]:
        p = predict_image(data, name=name)
        assert p.ok and p.label == 7, (name, p.error)
        assert max(p.stages["oriented"].shape) <= 1024


def test_a_corrupt_exif_block_is_silent(seven):
    img = Image.fromarray(seven)
    exif = Image.Exif()
    exif[0x0112] = 3
    data = bytearray(_png(img, "JPEG", exif=exif.tobytes()))
    start = data.find(b"Exif\0\0")
    data[start + 10:start + 30] = b"\xff" * 20                      # break the IFD
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = predict_image(bytes(data), name="exif.jpg")
    assert p.ok or "\n" not in p.error


def test_the_fuzzer_finds_no_escapes_in_a_short_run():
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "fuzz.py"), "--seconds", "20", "--seed", "1"],
                          capture_output=True, text=True, timeout=120, cwd=REPO)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("fuzz: ") and " 0 escapes" in last, proc.stdout
    tried = int(last.split()[1])
    assert tried >= 50, last


_DAMAGED_TIFFS = r"""
import io, random, sys
import numpy as np
from PIL import Image

a = (np.random.default_rng(0).random((64, 64)) * 255).astype(np.uint8)
buf = io.BytesIO()
Image.fromarray(a).save(buf, "TIFF", compression="tiff_lzw")    # compressed: Pillow reads it through libtiff
rng = random.Random(1)
cases = []
for _ in range(40):
    b = bytearray(buf.getvalue())
    for _ in range(8):
        b[rng.randrange(len(b))] = rng.randrange(256)
    cases.append(bytes(b))
if sys.argv[1] == "pillow":
    for data in cases:
        try:
            Image.open(io.BytesIO(data)).load()
        except Exception:
            pass
else:
    from lenet_utils.images.decoding import ImageError, decode, quiet_libtiff
    refused = 0
    for i, data in enumerate(cases):
        try:
            decode(data, f"{i}.tif")
        except ImageError as err:
            assert str(err).startswith(f"{i}.tif: ") and "\n" not in str(err), str(err)
            refused += 1
    print(quiet_libtiff(), refused)
"""


def test_libtiffs_own_error_lines_stay_off_stderr():
    """Damaged compressed TIFFs make libtiff print C messages to stderr; read through decode(),
    each is one ImageError and stderr stays empty (libtiff's error handlers are NULL)."""
    def run(how: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", _DAMAGED_TIFFS, how], capture_output=True, text=True,
                              timeout=120, cwd=REPO)

    pillow = run("pillow")
    assert "tempfile.tif: " in pillow.stderr, "the damaged TIFFs no longer make libtiff print: test needs new cases"
    ours = run("lenet")
    assert ours.returncode == 0, ours.stderr
    quiet, refused = ours.stdout.split()
    assert quiet == "True" and int(refused) >= 10, ours.stdout
    assert ours.stderr == "", ours.stderr[:500]


def test_a_webp_over_its_own_pixel_limit_is_refused_before_decoding():
    """libwebp needs about 15 bytes a pixel, so WebP has a lower pixel limit than other formats;
    the same picture as PNG is read."""
    from lenet_utils.images.decoding import ImageError, Limits, decode

    limits = Limits(max_webp_pixels=100 * 100)
    picture = Image.new("RGB", (120, 120), "white")
    webp, png = io.BytesIO(), io.BytesIO()
    picture.save(webp, "WEBP")
    picture.save(png, "PNG")
    with pytest.raises(ImageError) as info:
        decode(webp.getvalue(), "big.webp", limits)
    assert str(info.value) == ("big.webp: a 120x120 WebP (0 megapixels) is more than the 0-megapixel limit for "
                               "WebP, whose decoder needs about 15 bytes a pixel; shrink it, or send it as PNG or JPEG")
    assert decode(png.getvalue(), "big.png", limits).size == (120, 120)


def test_grey_with_alpha_is_shrunk_before_it_is_widened_and_reads_the_same():
    from lenet_utils.images import pixels

    rng = np.random.default_rng(0)
    img = Image.fromarray(rng.integers(0, 256, (900, 1300, 2), dtype=np.uint8), "LA")
    shrunk_first = np.asarray(pixels.working_image(img, 400))
    widened_first = np.asarray(pixels.shrink(img.convert("RGBA"), 400))  # what it did before: 4 bytes a pixel
    assert shrunk_first.shape == (277, 400, 4) and np.array_equal(shrunk_first, widened_first)
