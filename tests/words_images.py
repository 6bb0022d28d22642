"""Generated photos with words in them (signs, receipts, a screenshot-like layout, turned a little) and photos
with GPS at known places: what the OCR and places tests and bench/indexing.py index.

The font is Pillow's own (Aileron, built into Pillow 10.1+), so every machine draws the same pixels: no
system font is needed, CI's bare Debian included.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

# (where, latitude, longitude): checked against reverse-geocode's answers in the tests
PLACES = {
    "lisbon": (38.7223, -9.1393),
    "porto": (41.1496, -8.6109),
    "paris": (48.8566, 2.3522),
}


def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)  # type: ignore[return-value]


def sign(
    words: str, size=(640, 480), bg=(20, 90, 170), fg=(255, 255, 255), angle: float = 0.0
) -> Image.Image:
    """A shop or street sign: big words on a plain panel over a textured scene."""
    rng = np.random.default_rng(len(words))
    scene = rng.integers(60, 200, (size[1] // 8, size[0] // 8, 3), dtype=np.uint8)
    img = Image.fromarray(scene).resize(size, Image.BILINEAR)
    d = ImageDraw.Draw(img)
    w, h = size
    d.rectangle((w * 0.08, h * 0.3, w * 0.92, h * 0.7), fill=bg)
    f = font(max(24, int(h * 0.11)))
    d.text((w * 0.12, h * 0.42), words, font=f, fill=fg)
    return img.rotate(angle, resample=Image.BICUBIC, fillcolor=(90, 90, 90)) if angle else img


def receipt(lines: list[str], size=(420, 620), angle: float = 0.0) -> Image.Image:
    """A till receipt on a dark table: lines of small black print on a white strip."""
    img = Image.new("RGB", size, (50, 40, 35))
    d = ImageDraw.Draw(img)
    w, h = size
    d.rectangle((w * 0.1, h * 0.04, w * 0.9, h * 0.96), fill=(250, 250, 245))
    f = font(24)
    for k, line in enumerate(lines):
        d.text((w * 0.15, h * 0.08 + k * 40), line, font=f, fill=(15, 15, 15))
    return img.rotate(angle, resample=Image.BICUBIC, fillcolor=(50, 40, 35)) if angle else img


def screenshot(title: str, lines: list[str], size=(800, 500)) -> Image.Image:
    """A screenshot-like layout: a title bar, a side bar, and dark text on light grey."""
    img = Image.new("RGB", size, (236, 236, 240))
    d = ImageDraw.Draw(img)
    w, h = size
    d.rectangle((0, 0, w, 44), fill=(45, 50, 60))
    d.text((16, 8), title, font=font(26), fill=(240, 240, 240))
    d.rectangle((0, 44, 150, h), fill=(210, 214, 222))
    for k, line in enumerate(lines):
        d.text((180, 80 + k * 48), line, font=font(28), fill=(30, 30, 30))
    return img


def with_gps(img: Image.Image, path: Path, lat: float, lon: float, quality: int = 90) -> Path:
    """Save `img` as a JPEG carrying these GPS coordinates in its EXIF, as a phone writes them."""
    exif = Image.Exif()

    def dms(v: float) -> tuple[float, float, float]:
        v = abs(v)
        d = int(v)
        m = int((v - d) * 60)
        return (float(d), float(m), round((v - d - m / 60) * 3600, 4))

    exif[0x8825] = {1: "N" if lat >= 0 else "S", 2: dms(lat), 3: "E" if lon >= 0 else "W", 4: dms(lon)}
    img.save(path, quality=quality, exif=exif)
    return path


def text_photos(folder: Path) -> dict[str, Path]:
    """A few photos with words in them, each with a word found in no other: {that word: path}."""
    folder.mkdir(parents=True, exist_ok=True)
    made = {
        "hardware": (sign("HARDWARE STORE", angle=4), "hardware-sign.jpg"),
        "bakery": (sign("Bakery open 24 hours", bg=(160, 40, 30), angle=-3), "bakery-sign.jpg"),
        "total": (
            receipt(["CORNER SHOP", "Milk 1.20", "Bread 2.35", "TOTAL 3.55"], angle=2),
            "receipt.jpg",
        ),
        "wifi": (
            screenshot("Settings", ["Network: Cafe Zoe", "Wifi password", "blue42 lemon"]),
            "screen.png",
        ),
    }
    out = {}
    for word, (img, name) in made.items():
        path = folder / name
        img.save(path, **({"quality": 92} if name.endswith(".jpg") else {}))
        out[word] = path
    return out
