"""Decoding: every kind of photo becomes an upright RGB image, and every bad file a one-line reason."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from photofinder.core.photos import decode as decode_mod
from photofinder.core.photos.decode import MAX_PIXELS, UnreadableImage, decode


def _exif_rotated_jpeg(path: Path, orientation: int) -> None:
    """A landscape image stored sideways, with the EXIF tag that says how to turn it upright."""
    img = Image.new("RGB", (60, 40), "white")
    img.paste((255, 0, 0), (0, 0, 30, 40))  # upright: red on the left half
    stored = img.transpose({6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}[orientation])
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif.get_ifd(0x8769)[0x9003] = "2021:07:04 18:30:00"
    stored.save(path, exif=exif, quality=95)


@pytest.mark.parametrize("orientation", [6, 8])
def test_exif_orientation_makes_the_photo_upright(tmp_path: Path, orientation: int) -> None:
    p = tmp_path / "sideways.jpg"
    _exif_rotated_jpeg(p, orientation)
    d = decode(p, 0)
    assert d.image.size == (60, 40) and (d.width, d.height) == (60, 40)
    left, right = d.image.getpixel((5, 20)), d.image.getpixel((55, 20))
    assert left[0] > 200 and left[1] < 60 and min(right) > 200
    assert d.taken == "2021-07-04T18:30:00"


@pytest.mark.parametrize("orientation", range(1, 9))
def test_all_eight_exif_orientations_match_pillows_own_reading(tmp_path: Path, orientation: int) -> None:
    stored = Image.new("RGB", (60, 40), (255, 255, 255))  # four different quadrants: every flip shows
    for box, colour in (
        ((0, 0, 30, 20), (255, 0, 0)),
        ((30, 0, 60, 20), (0, 255, 0)),
        ((0, 20, 30, 40), (0, 0, 255)),
    ):
        stored.paste(colour, box)
    exif = Image.Exif()
    exif[0x0112] = orientation
    p = tmp_path / f"o{orientation}.jpg"
    stored.save(p, exif=exif, quality=100, subsampling=0)
    expected = ImageOps.exif_transpose(Image.open(p)).convert("RGB")  # Pillow's own reading of the spec
    d = decode(p, 0)
    assert d.image.size == expected.size == (d.width, d.height)
    w, h = expected.size
    for x, y in ((w // 4, h // 4), (3 * w // 4, h // 4), (w // 4, 3 * h // 4), (3 * w // 4, 3 * h // 4)):
        got, want = d.image.getpixel((x, y)), expected.getpixel((x, y))
        assert max(abs(a - b) for a, b in zip(got, want)) < 40, (orientation, (x, y), got, want)


def test_cmyk_jpeg_keeps_its_colours(tmp_path: Path) -> None:
    p = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (64, 64), (0, 255, 255, 0)).save(p)  # pure red in CMYK
    r, g, b = decode(p, 0).image.getpixel((32, 32))
    assert r > 200 and g < 60 and b < 60


def test_16_bit_grayscale_is_scaled_not_clipped(tmp_path: Path) -> None:
    p = tmp_path / "gray16.png"
    arr = np.full((32, 32), 32768, dtype=np.uint16)  # mid gray in 16 bits
    Image.fromarray(arr).save(p)
    assert Image.open(p).mode.startswith("I")
    assert abs(decode(p, 0).image.getpixel((5, 5))[0] - 128) <= 1


def test_transparent_png_is_composited_on_white(tmp_path: Path) -> None:
    p = tmp_path / "alpha.png"
    Image.new("RGBA", (20, 20), (0, 0, 0, 0)).save(p)
    assert decode(p, 0).image.getpixel((10, 10)) == (255, 255, 255)


def test_palette_with_transparency_and_animated_gif_first_frame(tmp_path: Path) -> None:
    p = tmp_path / "anim.gif"
    frames = [Image.new("RGB", (20, 20), c) for c in ((255, 0, 0), (0, 0, 255))]
    frames[0].save(p, save_all=True, append_images=frames[1:], duration=100, loop=0)
    r, g, b = decode(p, 0).image.getpixel((10, 10))
    assert r > 200 and b < 60


def test_palette_transparency_is_composited_on_white(tmp_path: Path) -> None:
    p = tmp_path / "sticker.gif"
    im = Image.new("P", (20, 20), 1)
    im.putpalette([0, 0, 0, 200, 0, 0] + [0] * 762)  # index 0 black (transparent), index 1 red
    im.paste(0, (0, 0, 10, 20))
    im.save(p, transparency=0)
    assert "transparency" in Image.open(p).info
    d = decode(p, 0).image
    assert d.getpixel((5, 10)) == (255, 255, 255) and d.getpixel((15, 10))[0] > 150


def test_grayscale_and_palette_become_rgb(tmp_path: Path) -> None:
    for mode, colour in (("L", 100), ("P", 3), ("1", 1)):
        p = tmp_path / f"{mode}.png"
        Image.new(mode, (10, 10), colour).save(p)
        assert decode(p, 0).image.mode == "RGB"


def test_heic_from_phones_decodes(tmp_path: Path) -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    p = tmp_path / "phone.heic"
    try:
        Image.new("RGB", (64, 48), (0, 200, 0)).save(p, format="HEIF")
    except (KeyError, OSError, ValueError) as e:  # a libheif without an encoder can still decode
        pytest.skip(f"this pillow-heif {pillow_heif.__version__} can't write HEIC: {e}")
    d = decode(p, 0)
    assert d.image.size == (64, 48) and d.image.getpixel((30, 20))[1] > 150


def test_jpeg_is_decoded_small_but_never_below_the_asked_size(tmp_path: Path) -> None:
    p = tmp_path / "big.jpg"
    Image.new("RGB", (4032, 3024), (10, 120, 200)).save(p)
    d = decode(p, 448)
    assert (d.width, d.height) == (4032, 3024)
    assert 448 <= min(d.image.size) < 1000


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"", "empty file"),
        (b"this is a text file, not a photo", "not an image"),
    ],
)
def test_bad_files_get_a_short_reason(tmp_path: Path, content: bytes, reason: str) -> None:
    p = tmp_path / "bad.jpg"
    p.write_bytes(content)
    with pytest.raises(UnreadableImage, match=f"^{reason}$"):
        decode(p, 224)


def test_truncated_jpeg_is_reported_not_hung(tmp_path: Path) -> None:
    buf = io.BytesIO()
    Image.effect_noise((800, 600), 60).convert("RGB").save(buf, "JPEG")
    p = tmp_path / "cut.jpg"
    p.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(UnreadableImage, match="^truncated$"):
        decode(p, 224)


def test_decompression_bomb_is_refused_from_the_header(tmp_path: Path) -> None:
    """A 40000x40000 PNG header (1.6 gigapixels) is refused before any pixel is decoded."""
    p = tmp_path / "bomb.png"
    p.write_bytes(_png_header_only(40000, 40000))  # a few bytes on disk, 4.8 GB if decoded
    with pytest.raises(UnreadableImage, match=r"^too large: 1\.6 gigapixels$"):
        decode(p, 224)
    assert MAX_PIXELS < 40000 * 40000


def test_photofinders_own_pixel_limit_decides_not_pillows(tmp_path: Path, monkeypatch) -> None:
    """photofinder's header check is the one that refuses: with its limit lowered to 1 MP, a 4 MP header is
    refused by it (Pillow's limit, far above, would let it through to a decode)."""
    monkeypatch.setattr(decode_mod, "MAX_PIXELS", 1_000_000)
    p = tmp_path / "big.png"
    p.write_bytes(_png_header_only(2000, 2000))
    with pytest.raises(UnreadableImage, match=r"^too large: 4 megapixels$"):
        decode(p, 224)
    assert Image.MAX_IMAGE_PIXELS is None or 2 * Image.MAX_IMAGE_PIXELS > 40000 * 40000


def _png_header_only(w: int, h: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 100))
        + chunk(b"IEND", b"")
    )


def test_a_photo_is_never_modified(tmp_path: Path) -> None:
    p = tmp_path / "sideways.jpg"
    _exif_rotated_jpeg(p, 6)
    before, mtime = p.read_bytes(), p.stat().st_mtime_ns
    decode(p, 0)
    assert p.read_bytes() == before and p.stat().st_mtime_ns == mtime


def test_a_raw_file_is_read_from_its_embedded_preview_upright(tmp_path: Path) -> None:
    from helpers import make_dng

    stored = Image.new("RGB", (320, 240), (245, 245, 245))
    stored.paste((220, 30, 30), (0, 0, 160, 240))  # red on the left as stored; orientation 6 turns it
    p = make_dng(tmp_path / "IMG_0001.DNG", stored, orientation=6)
    assert min(decode(p, 80).image.size) >= 80  # decoded small, never below the size asked
    d = decode(p, 0)
    assert d.image.size == (240, 320)  # upright: portrait
    assert d.image.getpixel((120, 20))[0] > 200 and d.image.getpixel((120, 20))[1] < 80  # red is on top now
    assert min(d.image.getpixel((120, 300))) > 200
    assert (d.width, d.height) == (64, 96)  # the sensor's size, upright


def test_a_raw_jpeg_preview_is_used_when_the_camera_wrote_one(tmp_path: Path, monkeypatch) -> None:
    import rawpy

    jpeg = io.BytesIO()
    Image.new("RGB", (400, 300), (30, 60, 220)).save(jpeg, "JPEG")

    class FakeRaw:  # what LibRaw gives for a NEF or CR2: a JPEG preview and the sensor's flip
        sizes = type("S", (), {"flip": 3, "width": 6000, "height": 4000})()

        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

        def extract_thumb(self):
            return type("T", (), {"format": rawpy.ThumbFormat.JPEG, "data": jpeg.getvalue()})()

    monkeypatch.setattr(rawpy, "imread", lambda f: FakeRaw())
    monkeypatch.setattr(decode_mod, "ISOLATE_RAW", False)  # rawpy is replaced in this process only
    p = tmp_path / "DSC_0001.NEF"
    p.write_bytes(b"not really a NEF")
    d = decode(p, 224)
    assert d.image.size == (400, 300) and (d.width, d.height) == (6000, 4000)
    assert d.image.getpixel((200, 150))[2] > 180


def test_a_damaged_raw_file_gets_a_reason(tmp_path: Path) -> None:
    p = tmp_path / "broken.cr2"
    p.write_bytes(b"II*\0" + b"\0" * 100)
    with pytest.raises(UnreadableImage, match="RAW"):
        decode(p, 224)


def test_any_decoder_exception_is_a_reason_never_a_crash(tmp_path: Path, monkeypatch) -> None:
    """LibRaw can hand back a 1-channel bitmap: Image.fromarray raises TypeError, which once escaped decode()."""
    import rawpy

    class OneChannel:
        sizes = type("S", (), {"flip": 0, "width": 64, "height": 48})()

        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

        def extract_thumb(self):
            bitmap = np.zeros((48, 64, 1), np.uint8)
            return type("T", (), {"format": rawpy.ThumbFormat.BITMAP, "data": bitmap})()

    monkeypatch.setattr(rawpy, "imread", lambda f: OneChannel())
    monkeypatch.setattr(decode_mod, "ISOLATE_RAW", False)
    p = tmp_path / "odd.dng"
    p.write_bytes(b"II*\0 a DNG as far as the name goes")
    with pytest.raises(UnreadableImage, match="^unreadable: TypeError: "):
        decode(p, 224)


def test_a_crashing_raw_decoder_costs_one_file(tmp_path: Path, monkeypatch) -> None:
    """LibRaw is C: a segfault in it kills the worker process that decodes RAW files, not the caller; the next
    RAW file gets a fresh worker."""
    import sys

    from helpers import make_dng

    from photofinder.core.photos import rawdecode

    here = Path(__file__).resolve().parents[2]
    monkeypatch.setattr(rawdecode, "worker_command", lambda: [sys.executable, str(here / "raw_worker.py")])
    good = make_dng(tmp_path / "IMG_0001.DNG", Image.new("RGB", (320, 240), (200, 30, 30)))
    crash = tmp_path / "crash.dng"
    crash.write_bytes(good.read_bytes())
    pool = rawdecode.RawDecoders(workers=1)
    try:
        with pytest.raises(UnreadableImage, match=f"^{rawdecode.CRASHED}$"):
            pool.decode(str(crash), 224)
        d = pool.decode(str(good), 80)
        assert d.image.getpixel((10, 10))[0] > 180 and (d.width, d.height) == (96, 64)
    finally:
        pool.close()
