"""The held-out duplicate corpus: photo-like generated pictures that a photographer would *not* call copies of
each other (a bracket, a slow pan, overlapping crops, light/dark and colour variants, a ball of two colours, a
landscape with and without a person, a RAW and a JPEG that share only a name), and the copies they would
(resized, re-compressed, cropped 3 % a side).

Textures, not flat colours: multi-octave noise under gradients, with shapes, so every check sees detail the
way it does in a real photo.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter


def noise(shape: tuple[int, int], rng: np.random.Generator, octaves: int = 5) -> np.ndarray:
    """Fractal noise in [0, 1], `shape` = (height, width)."""
    h, w = shape
    out = np.zeros((h, w), np.float32)
    amp, total = 1.0, 0.0
    for o in range(octaves):
        cells = (max(2, h >> (octaves - o + 1)), max(2, w >> (octaves - o + 1)))
        small = Image.fromarray((rng.random(cells) * 255).astype(np.uint8))
        out += amp * np.asarray(small.resize((w, h), Image.Resampling.BICUBIC), np.float32) / 255
        total += amp
        amp *= 0.55
    out /= total
    return (out - out.min()) / max(float(np.ptp(out)), 1e-6)


def landscape(size: tuple[int, int], seed: int) -> Image.Image:
    """Sky gradient, textured hills, a lake, a few trees: a photo-like scene."""
    w, h = size
    rng = np.random.default_rng(seed)
    y = np.linspace(0, 1, h, dtype=np.float32)[:, None]
    sky = np.stack([110 + 80 * y, 160 + 60 * y, 235 - 20 * y], -1) * np.ones((1, w, 1), np.float32)
    n = noise((h, w), rng)
    horizon = (0.45 + 0.12 * noise((1, w), rng, 4))[0] * h
    ground = np.stack([60 + 90 * n, 110 + 80 * n, 40 + 50 * n], -1)
    rows = np.arange(h)[:, None]
    img = np.where((rows > horizon[None, :])[..., None], ground, sky + 25 * (n[..., None] - 0.5))
    out = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    d = ImageDraw.Draw(out)
    for _ in range(6):
        x = rng.uniform(0.05, 0.95) * w
        base = horizon[int(min(w - 1, x))] + rng.uniform(0.02, 0.2) * h
        r = rng.uniform(0.02, 0.05) * w
        d.rectangle([x - r / 6, base - r, x + r / 6, base + r], fill=(70, 45, 25))
        d.ellipse(
            [x - r, base - 3 * r, x + r, base - 0.6 * r], fill=tuple(int(v) for v in rng.integers(20, 90, 3))
        )
    d.ellipse([0.6 * w, 0.75 * h, 0.95 * w, 0.92 * h], fill=(50, 90, 150))  # a lake
    return out.filter(ImageFilter.GaussianBlur(0.6))


def with_person(img: Image.Image, seed: int = 7) -> Image.Image:
    """The same scene with a small person standing in it (about 2 % of the width, 8 % of the height)."""
    out = img.copy()
    w, h = out.size
    d = ImageDraw.Draw(out)
    x, y = 0.3 * w, 0.7 * h
    pw, ph = 0.02 * w, 0.08 * h
    d.ellipse([x - pw / 2, y - ph, x + pw / 2, y - ph + pw], fill=(230, 190, 160))  # head
    d.rectangle([x - pw / 2, y - ph + pw, x + pw / 2, y - ph * 0.4], fill=(200, 30, 40))  # red jacket
    d.rectangle([x - pw / 2, y - ph * 0.4, x + pw / 2, y], fill=(30, 30, 80))  # trousers
    return out


def exposure(img: Image.Image, ev: float) -> Image.Image:
    """The scene shot `ev` stops brighter or darker (in linear light, back to sRGB-ish gamma)."""
    a = np.asarray(img, np.float32) / 255
    lin = a**2.2 * (2.0**ev)
    return Image.fromarray(np.clip(lin ** (1 / 2.2) * 255, 0, 255).astype(np.uint8))


def artwork(size: tuple[int, int], seed: int) -> Image.Image:
    """A wallpaper-like abstract: coloured noise bands and circles."""
    w, h = size
    rng = np.random.default_rng(seed)
    n1, n2 = noise((h, w), rng), noise((h, w), rng)
    img = np.stack([200 * n1 + 30, 120 * n2 + 60, 160 * (1 - n1) + 40], -1)
    out = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    d = ImageDraw.Draw(out)
    for _ in range(5):
        cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.05, 0.15) * w
        d.ellipse(
            [cx - r, cy - r, cx + r, cy + r], outline=tuple(int(v) for v in rng.integers(0, 255, 3)), width=4
        )
    return out


def ball(size: tuple[int, int], colour: tuple[int, int, int], seed: int = 3) -> Image.Image:
    """A ball of `colour` on one and the same textured floor."""
    w, h = size
    rng = np.random.default_rng(seed)
    n = noise((h, w), rng)
    floor = np.stack([150 + 60 * n, 140 + 50 * n, 120 + 40 * n], -1)
    out = Image.fromarray(np.clip(floor, 0, 255).astype(np.uint8))
    d = ImageDraw.Draw(out)
    r = 0.12 * h
    d.ellipse([0.5 * w - r, 0.55 * h - r, 0.5 * w + r, 0.55 * h + r], fill=colour)
    d.ellipse([0.5 * w - r / 3, 0.55 * h - r * 0.7, 0.5 * w - r / 20, 0.55 * h - r / 3], fill=(255, 255, 255))
    return out


def studio(
    size: tuple[int, int],
    colour: tuple[int, int, int],
    centre: tuple[float, float] = (0.5, 0.5),
    radius: float = 0.3,
    seed: int = 0,
) -> Image.Image:
    """A product shot: a yellow-ish star on a plain gray backdrop, with the sensor's own noise (`seed`).

    Nothing but the subject carries detail, so a crop of one shot lines up with a closer shot of the same
    subject: `centre` and `radius` are fractions of the height, `colour` the subject's.
    """
    from shapes import _polygon

    w, h = size
    img = Image.new("RGB", size, (128, 130, 126))
    ImageDraw.Draw(img).polygon(_polygon("star", centre[0] * w, centre[1] * h, radius * h, 0.1), fill=colour)
    arr = np.asarray(img).astype(np.int16) + np.random.default_rng(seed).integers(-6, 7, (h, w, 3))
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def as_indexed(path: Path, tmp_path: Path):
    """The photo as the duplicate finder sees it: the indexer's cached JPEG thumbnail as a likeness signature,
    with the photo's size in pixels."""
    from dataclasses import replace

    from photofinder.core.duplicates.likeness import signature
    from photofinder.core.photos.decode import decode
    from photofinder.core.photos.thumbnails import write_thumbnail

    t = tmp_path / "thumb.jpg"
    decoded = decode(str(path), 256)
    write_thumbnail(decoded.image, t)
    with Image.open(t) as im:
        im.thumbnail((256, 256))
        return replace(signature(im.convert("RGB")), area=decoded.width * decoded.height)


def crop_fraction(img: Image.Image, f: float) -> Image.Image:
    w, h = img.size
    dx, dy = round(w * f), round(h * f)
    return img.crop((dx, dy, w - dx, h - dy))


def write_corpus(folder: Path, size: tuple[int, int] = (640, 480)) -> tuple[set[Path], list[set[Path]]]:
    """Write the corpus; returns (the one true group of copies, the sets no group may join two of)."""
    from helpers import make_dng

    folder.mkdir(parents=True, exist_ok=True)
    w, h = size
    apart: list[set[Path]] = []

    def save(img: Image.Image, name: str, **kw) -> Path:
        p = folder / name
        img.save(p, quality=kw.pop("quality", 92), **kw)
        return p

    # The copies that must group: one photo, resized, re-compressed, cropped 3 % a side.
    photo = landscape(size, 1)
    copies = {
        save(photo, "photo.jpg"),
        save(photo.resize((w // 2, h // 2), Image.Resampling.LANCZOS), "photo_small.jpg", quality=85),
        save(photo, "photo_q40.jpg", quality=40),
        save(crop_fraction(photo, 0.03), "photo_crop3.jpg"),
    }
    # A bracket: -1 and 0 EV of one scene.
    scene = landscape(size, 2)
    apart.append({save(scene, "bracket_0ev.jpg"), save(exposure(scene, -1.0), "bracket_-1ev.jpg")})
    # A slow pan: frames 1.5 % of the width apart, cut from one wide scene.
    wide = landscape((int(w * 1.3), h), 3)
    step = round(0.015 * w)
    apart.append({save(wide.crop((i * step, 0, i * step + w, h)), f"pan_{i:02d}.jpg") for i in range(6)})
    # Two crops of one scene overlapping by 60 %.
    big = landscape((int(w * 1.4), h), 4)
    off = round(0.4 * w)
    apart.append(
        {save(big.crop((0, 0, w, h)), "overlap_a.jpg"), save(big.crop((off, 0, off + w, h)), "overlap_b.jpg")}
    )
    # Light and dark variants of one artwork, and a colour variant.
    art = artwork(size, 5)
    light = Image.fromarray(np.clip(np.asarray(art, np.float32) * 1.25 + 20, 0, 255).astype(np.uint8))
    dark = Image.fromarray((np.asarray(art, np.float32) * 0.6).astype(np.uint8))
    recoloured = Image.fromarray(np.asarray(art)[..., [1, 2, 0]])
    apart.append(
        {
            save(art, "art.png"),
            save(light, "art_light.png"),
            save(dark, "art_dark.png"),
            save(recoloured, "art_colour.png"),
        }
    )
    # A red and a green ball on one background.
    apart.append(
        {save(ball(size, (200, 30, 30)), "ball_red.jpg"), save(ball(size, (40, 170, 50)), "ball_green.jpg")}
    )
    # A landscape with and without a small person.
    land = landscape(size, 6)
    apart.append({save(land, "view.jpg"), save(with_person(land), "view_person.jpg")})
    # A RAW and a JPEG sharing only a name (two cameras, one folder).
    raw = make_dng(folder / "DSC_0001.dng", landscape(size, 8))
    apart.append({raw, save(landscape(size, 9), "DSC_0001.jpg")})
    return copies, apart
