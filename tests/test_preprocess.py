"""lenet_utils.images: preprocess, decoding and paper, each stage of the pipeline, every format, every bad input."""

from __future__ import annotations

import io
import struct
import time
import zlib

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from lenet_utils.data import MNIST_MEAN, MNIST_STD
from lenet_utils.images.decoding import ImageError, Limits, decode
from lenet_utils.images.preprocess import (
    STAGES,
    NoDigitFound,
    centre_of_mass,
    naive_input,
    place_by_mass,
    preprocess,
    scale_to_box,
)

SEVEN = [(0.15, 0.1), (0.85, 0.1), (0.45, 0.95)]  # a 7 in a unit box


def draw_digit(size=(320, 240), box=(180, 40, 260, 160), paper=230, ink=30, width=9, points=SEVEN) -> Image.Image:
    """Grey sheet with a '7' drawn inside ``box`` (left, top, right, bottom)."""
    img = Image.new("L", size, paper)
    x0, y0, x1, y1 = box
    pts = [(x0 + x * (x1 - x0), y0 + y * (y1 - y0)) for x, y in points]
    ImageDraw.Draw(img).line(pts, fill=ink, width=width, joint="curve")
    return img


def ink_extent(img: Image.Image) -> tuple[int, int, int, int]:
    """Where the ink of a clean drawing is: the box of pixels darker than half-way to the ink."""
    a = np.asarray(img.convert("L"), dtype=np.int16)
    dark = a < (int(a.max()) + int(a.min())) / 2
    rows, cols = np.flatnonzero(dark.any(1)), np.flatnonzero(dark.any(0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def near(found, expected, tol=3.0) -> bool:
    return all(abs(f - e) <= tol for f, e in zip(found, expected))


def encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


@pytest.fixture(scope="module")
def reference() -> np.ndarray:
    """The 28x28 result for the plain 8-bit grey PNG: every other encoding must give nearly this."""
    return preprocess(encode(draw_digit(), "PNG")).pixels


def similar(a: np.ndarray, b: np.ndarray) -> float:
    """Correlation of two 28x28 images (1.0 = identical up to brightness), at the best whole-pixel
    shift of at most one pixel: centring by mass rounds to whole pixels, so two near-identical
    digits may land one pixel apart."""
    a = a.ravel().astype(float)
    return max(float(np.corrcoef(a, np.roll(b, (dy, dx), (0, 1)).ravel().astype(float))[0, 1])
               for dy in (-1, 0, 1) for dx in (-1, 0, 1))


# --- formats and modes --------------------------------------------------------------------------
def _rgb(img):
    rgb = img.convert("RGB")
    a = np.asarray(rgb).copy()
    a[..., 2] = np.clip(a[..., 2].astype(int) + 20, 0, 255)  # a bluish tint, like a photo
    return Image.fromarray(a)


def _i16(img):
    return Image.fromarray(np.asarray(img).astype(np.uint16) * 257)  # full 16-bit range, mode I;16


VARIANTS = {
    "png-L": lambda im: encode(im, "PNG"),
    "png-16bit": lambda im: encode(_i16(im), "PNG"),
    "png-palette": lambda im: encode(im.convert("RGB").convert("P", palette=Image.ADAPTIVE, colors=16), "PNG"),
    "png-RGB": lambda im: encode(_rgb(im), "PNG"),
    "png-RGBA": lambda im: encode(_rgb(im).convert("RGBA"), "PNG"),
    "png-LA": lambda im: encode(im.convert("LA"), "PNG"),
    "png-1bit": lambda im: encode(im.point(lambda v: 255 if v > 128 else 0).convert("1"), "PNG"),
    "jpeg-L": lambda im: encode(im, "JPEG", quality=85),
    "jpeg-RGB": lambda im: encode(_rgb(im), "JPEG", quality=85),
    "jpeg-CMYK": lambda im: encode(_rgb(im).convert("CMYK"), "JPEG", quality=90),
    "gif": lambda im: encode(im.convert("P"), "GIF"),
    "bmp-RGB": lambda im: encode(_rgb(im), "BMP"),
    "bmp-L": lambda im: encode(im, "BMP"),
    "webp-RGB": lambda im: encode(_rgb(im), "WEBP", quality=90),
    "webp-RGBA": lambda im: encode(_rgb(im).convert("RGBA"), "WEBP", lossless=True),
    "tiff-L": lambda im: encode(im, "TIFF"),
    "tiff-16bit": lambda im: encode(_i16(im), "TIFF"),
    "tiff-RGB": lambda im: encode(_rgb(im), "TIFF", compression="tiff_deflate"),
    "tiff-CMYK": lambda im: encode(_rgb(im).convert("CMYK"), "TIFF"),
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_format_and_mode_gives_the_same_digit(variant, reference):
    pre = preprocess(VARIANTS[variant](draw_digit()), name=f"seven.{variant}")
    assert pre.pixels.shape == (28, 28) and pre.pixels.dtype == np.uint8
    assert pre.input.shape == (1, 28, 28) and pre.input.dtype == torch.float32
    assert pre.inverted, "dark ink on light paper must be inverted"
    assert similar(pre.pixels, reference) > 0.9, f"{variant} differs from the grey PNG"


def test_input_kinds_bytes_path_pil_array_agree(tmp_path, reference):
    img = draw_digit()
    path = tmp_path / "seven.png"
    img.save(path)
    for source in (encode(img, "PNG"), bytearray(encode(img, "PNG")), memoryview(encode(img, "PNG")),
                   path, str(path), img, np.asarray(img), np.asarray(img).astype(np.float32) / 255):
        assert np.array_equal(preprocess(source).pixels, reference), type(source)


def test_stages_are_returned_in_pipeline_order():
    pre = preprocess(encode(draw_digit(), "PNG"))
    assert list(pre.stages) == list(STAGES)
    assert all(a.dtype == np.uint8 for a in pre.stages.values())
    assert pre.stages["oriented"].shape == (240, 320)
    assert pre.stages["centred"].shape == (28, 28)
    assert np.array_equal(pre.stages["centred"], pre.pixels)


def test_network_input_is_normalised_like_training_data():
    pre = preprocess(encode(draw_digit(), "PNG"))
    expected = (torch.from_numpy(pre.pixels).float() / 255 - MNIST_MEAN) / MNIST_STD
    assert torch.allclose(pre.input[0], expected)


# --- stage by stage -----------------------------------------------------------------------------
def test_exif_orientation_is_applied():
    upright = draw_digit(size=(240, 320), box=(40, 150, 120, 270))
    stored = upright.transpose(Image.Transpose.ROTATE_90)      # the sensor's orientation
    exif = Image.Exif()
    exif[0x0112] = 6                                            # "rotate 90 degrees clockwise to view"
    tagged = preprocess(encode(stored, "JPEG", quality=98, exif=exif.tobytes()))
    untagged = preprocess(encode(stored, "JPEG", quality=98))
    assert tagged.stages["oriented"].shape == (320, 240)         # shown upright: taller than wide
    assert similar(tagged.pixels, preprocess(encode(upright, "JPEG", quality=98)).pixels) > 0.95
    assert similar(untagged.pixels, tagged.pixels) < 0.5          # without the tag it is a sideways 7
    png = preprocess(encode(stored, "PNG", exif=exif.tobytes()))  # PNG may carry EXIF too
    assert similar(png.pixels, preprocess(upright).pixels) > 0.99


def test_transparency_is_composited_onto_white():
    # A drawing app's export: black ink, and fully transparent pixels that are black underneath too.
    ink = np.asarray(draw_digit(paper=255, ink=0))
    rgba = np.zeros((*ink.shape, 4), np.uint8)
    rgba[..., 3] = 255 - ink                                     # opaque where the ink is
    pre = preprocess(Image.fromarray(rgba, "RGBA"))
    assert pre.stages["on_white"].shape == (240, 320, 3)
    assert pre.stages["on_white"][0, 0].tolist() == [255, 255, 255]
    assert pre.inverted
    assert similar(pre.pixels, preprocess(draw_digit(paper=255, ink=0)).pixels) > 0.95


def test_white_ink_on_a_transparent_sheet_uses_the_alpha_channel():
    shape = 255 - np.asarray(draw_digit(paper=255, ink=0))
    rgba = np.zeros((*shape.shape, 4), np.uint8)
    rgba[..., :3] = 255                                          # white ink: invisible on white paper
    rgba[..., 3] = shape
    pre = preprocess(Image.fromarray(rgba, "RGBA"))
    assert any("opacity" in n for n in pre.notes)
    assert similar(pre.pixels, preprocess(draw_digit()).pixels) > 0.9


def test_greyscale_weights_colour_channels():
    blue_ink = Image.new("RGB", (200, 200), (240, 238, 230))
    ImageDraw.Draw(blue_ink).line([(80, 40), (120, 40), (95, 160)], fill=(30, 40, 140), width=8)
    pre = preprocess(blue_ink)
    assert pre.stages["grey"].ndim == 2
    assert pre.stages["grey"][0, 0] > 200 and pre.stages["grey"][40, 100] < 90


def test_dark_on_light_is_inverted_and_light_on_dark_is_not():
    dark_on_light = preprocess(draw_digit(paper=230, ink=30))
    light_on_dark = preprocess(draw_digit(paper=20, ink=240))
    assert dark_on_light.inverted and not light_on_dark.inverted
    assert similar(dark_on_light.pixels, light_on_dark.pixels) > 0.95
    # a dim photo: grey paper (100) and black ink; its mean is dark but the paper is still the lighter one
    assert preprocess(draw_digit(paper=100, ink=10)).inverted


def test_background_is_removed_under_uneven_light_and_noise():
    img = np.asarray(draw_digit(size=(400, 300), box=(60, 60, 140, 200)), dtype=np.float64)
    xx = np.arange(400)[None, :]
    img = img * (1.0 - 0.45 * xx / 400)                          # the right side is in shadow
    img = img + np.random.default_rng(0).normal(0, 6, img.shape)
    pre = preprocess(np.clip(img, 0, 255).astype(np.uint8))
    clean = pre.stages["background"]
    assert (clean[:, 200:] == 0).mean() > 0.999, "the shadowed paper must become black, not ink"
    expected = ink_extent(draw_digit(size=(400, 300), box=(60, 60, 140, 200)))
    assert near(pre.box, expected, tol=2), (pre.box, expected)


def test_crop_is_the_ink_bounding_box():
    img = draw_digit(box=(180, 40, 260, 160), width=9)
    pre = preprocess(img)
    left, top, right, bottom = pre.box
    assert near(pre.box, ink_extent(img), tol=1), (pre.box, ink_extent(img))
    assert pre.stages["cropped"].shape == (bottom - top, right - left)


def test_longer_side_is_scaled_to_20_keeping_the_aspect_ratio():
    tall = preprocess(draw_digit(box=(150, 20, 170, 220), points=[(0.5, 0.0), (0.5, 1.0)]))  # a '1'
    h, w = tall.stages["scaled"].shape
    crop_h, crop_w = tall.stages["cropped"].shape
    assert h == 20 and abs(w - 20 * crop_w / crop_h) <= 1
    wide = preprocess(draw_digit(box=(40, 100, 280, 140), points=[(0, 0.5), (1, 0.5), (1, 1)]))
    assert wide.stages["scaled"].shape[1] == 20


def test_scaling_is_anti_aliased():
    block = np.zeros((100, 100), np.uint8)
    block[:, 47:53] = 255                                        # a 6 px stroke: 1.2 px after scaling by 1/5
    out = scale_to_box(block)
    assert out.shape == (20, 20)
    assert ((out > 0) & (out < 255)).any(), "grey edge pixels are what anti-aliasing makes"


@pytest.mark.parametrize("box", [(10, 10, 90, 130), (220, 100, 300, 230), (120, 60, 180, 120)])
def test_centre_of_mass_lands_on_the_centre_pixel(box):
    pre = preprocess(draw_digit(box=box))
    cy, cx = centre_of_mass(pre.pixels)
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5
    assert max(pre.stages["scaled"].shape) == 20


def test_place_by_mass_never_pushes_ink_off_the_canvas():
    patch = np.zeros((20, 20), np.uint8)
    patch[0:2, :] = 255                                          # all the mass on the top row
    out = place_by_mass(patch)
    assert out.sum() == patch.sum()


def test_mnist_digits_come_through_nearly_unchanged(mnist_test):
    """MNIST digits are already normalised: the pipeline must leave them where MNIST put them."""
    for i in range(0, 2000, 20):
        original = mnist_test.pixels[i].numpy()
        out = preprocess(original).pixels
        assert similar(out, original) > 0.95, f"MNIST test digit {i} changed too much"
        diff = min(np.abs(np.roll(out, (dy, dx), (0, 1)).astype(int) - original).mean()
                   for dy in (-1, 0, 1) for dx in (-1, 0, 1))
        assert diff < 6, f"MNIST test digit {i}: pixels differ by {diff:.1f} on average"
        assert max(abs(c - 14) for c in centre_of_mass(out)) <= 0.5


# --- no digit -----------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda: Image.new("L", (200, 200), 255),
    lambda: Image.new("RGB", (200, 200), (0, 0, 0)),
    lambda: Image.new("RGBA", (64, 64), (0, 0, 0, 0)),
    lambda: Image.fromarray(np.clip(np.random.default_rng(0).normal(200, 4, (300, 300)), 0, 255).astype(np.uint8)),
    lambda: draw_digit(paper=200, ink=190),                          # ink barely darker than the paper
], ids=["white", "black", "transparent", "noise", "too-faint"])
def test_blank_or_near_blank_is_no_digit_found(make):
    with pytest.raises(NoDigitFound, match=r"^sheet\.png: no digit found") as caught:
        preprocess(encode(make(), "PNG"), name="sheet.png")
    assert isinstance(caught.value, ImageError)                       # caught by type, with what was seen
    assert list(caught.value.stages)[:3] == ["oriented", "on_white", "grey"]
    assert all(caught.value.stages[k].dtype == np.uint8 for k in caught.value.stages)


# --- bad input ----------------------------------------------------------------------------------
def _png_with_size(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` (a decompression bomb's trick)."""
    png = bytearray(encode(Image.new("L", (8, 8), 255), "PNG"))
    ihdr = 8 + 8  # signature, then length + type of the IHDR chunk
    png[ihdr:ihdr + 8] = struct.pack(">II", width, height)
    png[ihdr + 13:ihdr + 17] = struct.pack(">I", zlib.crc32(bytes(png[12:ihdr + 13])))
    return bytes(png)


def _one_line(err: pytest.ExceptionInfo, name: str) -> str:
    text = str(err.value)
    assert "\n" not in text and text.startswith(f"{name}: ") and "Traceback" not in text
    return text


@pytest.mark.parametrize("data, reason", [
    (b"", "empty file"),
    (b"Hello, this is a text file and not a picture.\n" * 3, "not an image"),
    (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "not an image"),
    (encode(draw_digit(), "PNG")[:300], "truncated or corrupt"),
    (encode(draw_digit(), "JPEG")[:500], "truncated or corrupt"),
    (encode(draw_digit(), "GIF")[:200], "truncated or corrupt"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "not an image"),
], ids=["empty", "text", "pdf", "truncated-png", "truncated-jpeg", "truncated-gif", "corrupt-png"])
def test_unreadable_input_is_a_one_line_image_error(data, reason):
    with pytest.raises(ImageError) as err:
        preprocess(data, name="upload.png")
    assert reason in _one_line(err, "upload.png")


def test_corrupt_pixel_data_is_refused():
    png = bytearray(encode(draw_digit(), "PNG"))
    idat = png.index(b"IDAT")
    png[idat + 20:idat + 60] = b"\xff" * 40                       # damage the compressed pixels
    with pytest.raises(ImageError) as err:
        preprocess(bytes(png), name="damaged.png")
    assert "corrupt" in _one_line(err, "damaged.png")


def test_too_many_bytes_is_refused_before_decoding(tmp_path):
    data = encode(draw_digit(), "PNG")
    with pytest.raises(ImageError) as err:
        preprocess(data, name="big.png", limits=Limits(max_bytes=len(data) - 1))
    assert "limit" in _one_line(err, "big.png")
    path = tmp_path / "big.png"
    path.write_bytes(data)
    with pytest.raises(ImageError, match="MiB limit"):
        preprocess(path, limits=Limits(max_bytes=100))


def test_too_many_pixels_is_refused_from_the_header_alone():
    bomb = _png_with_size(60_000, 60_000)                         # 3.6 gigapixels in ~70 bytes
    assert len(bomb) < 200
    start = time.perf_counter()
    with pytest.raises(ImageError) as err:
        preprocess(bomb, name="bomb.png")
    assert time.perf_counter() - start < 2.0, "a bomb must be refused without decoding"
    text = _one_line(err, "bomb.png")
    assert "megapixel" in text or "decompression bomb" in text
    # below Pillow's own guard but above ours
    with pytest.raises(ImageError, match="megapixel limit"):
        preprocess(_png_with_size(9000, 9000), name="x.png")
    # above Pillow's guard, ours turned off: Pillow's DecompressionBombError becomes an ImageError too
    with pytest.raises(ImageError, match="decompression bomb"):
        preprocess(bomb, name="bomb.png", limits=Limits(max_pixels=10**12, max_aspect=1e9))


def test_absurd_aspect_ratio_is_refused():
    with pytest.raises(ImageError) as err:
        preprocess(encode(Image.new("L", (3000, 20), 255), "PNG"), name="strip.png")
    assert "elongated" in _one_line(err, "strip.png")


def test_paths_that_are_not_files(tmp_path):
    with pytest.raises(ImageError, match="no such file"):
        preprocess(tmp_path / "missing.png")
    with pytest.raises(ImageError, match="is a folder"):
        preprocess(tmp_path)
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ImageError, match="empty file"):
        preprocess(tmp_path / "empty.png")


def test_a_lazily_opened_truncated_file_is_an_image_error(tmp_path):
    path = tmp_path / "half.png"
    path.write_bytes(encode(draw_digit(), "PNG")[:400])
    with pytest.raises(ImageError, match="truncated or corrupt"):
        preprocess(Image.open(path), name="half.png")


def test_wrong_argument_types_are_image_errors():
    with pytest.raises(ImageError, match="expected image bytes"):
        preprocess(12345)
    with pytest.raises(ImageError, match="shape"):
        preprocess(np.zeros((4, 5, 6, 7), np.uint8))


def test_animated_gif_uses_the_first_frame_only():
    first = draw_digit(size=(200, 200), box=(60, 40, 140, 160)).convert("P")
    frames = [Image.new("P", (200, 200), 0) for _ in range(300)]   # 300 more frames, never decoded
    data = encode(first, "GIF", save_all=True, append_images=frames, duration=10, loop=0)
    start = time.perf_counter()
    pre = preprocess(data)
    assert time.perf_counter() - start < 2.0
    assert similar(pre.pixels, preprocess(first).pixels) > 0.98


def test_a_large_photo_is_shrunk_first_and_still_read():
    img = draw_digit(size=(4000, 3000), box=(2400, 600, 3200, 1900), width=90)
    pre = preprocess(encode(img, "JPEG", quality=80))
    assert max(pre.stages["oriented"].shape) <= 1024
    assert pre.size == (4000, 3000) and any(n.startswith("shrunk from 4000x3000") for n in pre.notes)
    assert similar(pre.pixels, preprocess(draw_digit()).pixels) > 0.85


def test_naive_input_squashes_the_whole_picture():
    x = naive_input(encode(draw_digit(), "PNG"))
    assert x.shape == (1, 28, 28)
    ref = preprocess(encode(draw_digit(), "PNG")).input
    assert not torch.allclose(x, ref)


def test_decode_reads_only_the_header_before_checking(monkeypatch):
    bomb = _png_with_size(20_000, 20_000)
    loaded = []
    original = Image.Image.load
    monkeypatch.setattr(Image.Image, "load", lambda self: loaded.append(self.size) or original(self))
    with pytest.raises(ImageError):
        decode(bomb, "bomb.png")
    assert loaded == [], "pixels were decoded before the size check"


@pytest.mark.parametrize("shape", [(200, 200), (150, 200), (37, 91), (1, 5), (1, 1)])
def test_blur_matches_pillows_box_blur_within_one_grey_level(shape):
    """The numpy 3x3 box blur stands in for Pillow's BoxBlur(1): same edges (repeated), same size,
    rounding apart; a flat image stays flat and a lone bright pixel spreads over its 3x3 square."""
    from PIL import ImageFilter

    from lenet_utils.images.paper import _blur

    a = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    pillow = np.asarray(Image.fromarray(a).filter(ImageFilter.BoxBlur(1)))
    ours = _blur(a)
    assert ours.shape == a.shape and ours.dtype == np.uint8
    assert np.abs(ours.astype(int) - pillow).max() <= 1
    assert np.array_equal(_blur(np.full((9, 7), 200, np.uint8)), np.full((9, 7), 200, np.uint8))
    dot = np.zeros((7, 7), np.uint8)
    dot[3, 3] = 255
    assert np.array_equal(np.argwhere(_blur(dot) > 0).min(0), [2, 2]) and _blur(dot)[3, 3] == round(255 / 9)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_pad_edge_is_nps_edge_padding(k):
    from lenet_utils.images.paper import _pad_edge

    for shape in [(1, 1), (2, 3), (24, 17)]:
        a = np.random.default_rng(k).integers(0, 256, shape, dtype=np.uint8)
        assert np.array_equal(_pad_edge(a, k), np.pad(a, k, mode="edge"))


def test_percentile_from_the_histogram_is_the_lower_value():
    from lenet_utils.images.paper import _percentile_u8

    rng = np.random.default_rng(0)
    for n in (1, 2, 10, 1001, 40_000):
        a = rng.integers(0, 256, n, dtype=np.uint8)
        for q in (10, 50, 90):
            assert _percentile_u8(a, q) == int(np.percentile(a, q, method="lower"))
    assert _percentile_u8(np.array([[3, 9], [9, 250]], np.uint8), 50) == 9


def test_normalisation_table_gives_exactly_what_normalize_gives():
    """preprocess looks up each grey level's normalised value; it must equal data.normalize bit for bit."""
    from lenet_utils.data import normalize

    pre = preprocess(encode(draw_digit(), "PNG"))
    assert pre.input.dtype == torch.float32 and pre.input.shape == (1, 28, 28)
    assert torch.equal(pre.input, normalize(torch.from_numpy(pre.pixels.copy()).unsqueeze(0))[0])


def test_stages_that_share_a_picture_share_one_array():
    """An RGB upload's "oriented" and "on_white" stages are the same picture: one copy, made when read."""
    from lenet_utils.images.preprocess import preprocess

    img = Image.new("RGB", (60, 60), (240, 240, 240))
    ImageDraw.Draw(img).line([(30, 10), (30, 50)], fill=(20, 20, 20), width=5)
    stages = preprocess(img).stages
    assert stages["on_white"] is stages["oriented"] and stages["oriented"].shape == (60, 60, 3)


def _on_a_desk(sheet: Image.Image, size=(560, 480), at=(130, 90), level=70, seed=0) -> Image.Image:
    rng = np.random.default_rng(seed)
    desk = np.clip(level + rng.normal(0, 8, size[::-1]), 0, 255).astype(np.uint8)
    picture = Image.fromarray(desk)
    picture.paste(sheet, at)
    return picture


def test_a_sheet_on_a_darker_desk_is_cut_out_first():
    """The desk fills the picture's edges, where the paper is looked for: the sheet is cut out,
    and the digit comes out as from the sheet alone."""
    from lenet_utils.images.paper import find_sheet

    sheet = draw_digit()                                   # 320x240 paper, a 7 at (180, 40)-(260, 160)
    on_desk = _on_a_desk(sheet)
    x0, y0, x1, y1 = find_sheet(on_desk)
    assert near((x0, y0, x1, y1), (130, 90, 450, 330), tol=12)  # the sheet, a little inside its edges
    pre = preprocess(on_desk)
    assert any("sheet" in note for note in pre.notes)
    assert pre.inverted
    il, it, ir, ib = ink_extent(sheet)
    assert near(pre.box, (130 + il, 90 + it, 130 + ir, 90 + ib), tol=4)   # in the whole picture
    assert similar(pre.pixels, preprocess(sheet).pixels) > 0.95


@pytest.mark.parametrize("case", ["plain sheet", "blank", "bold light digit on black", "light sheet on white"])
def test_no_sheet_is_cut_out_when_there_is_no_darker_surround(case):
    from lenet_utils.images.paper import find_sheet

    if case == "plain sheet":
        img = draw_digit()
    elif case == "blank":
        img = Image.new("L", (300, 300), 200)
    elif case == "bold light digit on black":
        img = draw_digit(paper=0, ink=255, width=40, box=(60, 40, 260, 220))
    else:
        img = Image.new("L", (500, 400), 250)
        img.paste(draw_digit(paper=215), (90, 80))
    assert find_sheet(img) is None
