"""Generated pictures of coloured shapes: the training data of the tiny test CLIP and the photos the tests index.

Each picture is one shape in one colour on one plain background, captioned like
"a red circle on a white background". The same drawing code makes the training set
(tests/models/train_tiny_clip.py) and the test photos, so the tiny model's semantics are real.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

SHAPES = ("circle", "square", "triangle", "star")
COLOURS = {
    "red": (220, 30, 30),
    "green": (30, 170, 50),
    "blue": (30, 60, 220),
    "yellow": (240, 220, 30),
    "purple": (140, 40, 170),
    "orange": (250, 140, 20),
}
BACKGROUNDS = {
    "white": (245, 245, 245),
    "black": (15, 15, 15),
    "gray": (128, 128, 128),
    "brown": (110, 70, 35),
}


@dataclass(frozen=True)
class Kind:
    shape: str
    colour: str
    background: str

    @property
    def caption(self) -> str:
        return f"a {self.colour} {self.shape} on a {self.background} background"

    @property
    def slug(self) -> str:
        return f"{self.colour}-{self.shape}-on-{self.background}"


def all_kinds() -> list[Kind]:
    return [Kind(s, c, b) for s in SHAPES for c in COLOURS for b in BACKGROUNDS]


def _jitter(rgb: tuple[int, int, int], rng: np.random.Generator, amount: int) -> tuple[int, int, int]:
    return tuple(int(np.clip(v + rng.integers(-amount, amount + 1), 0, 255)) for v in rgb)  # type: ignore[return-value]


def _polygon(shape: str, cx: float, cy: float, r: float, angle: float) -> list[tuple[float, float]]:
    if shape == "square":
        pts = [
            (math.cos(angle + k * math.pi / 2 + math.pi / 4), math.sin(angle + k * math.pi / 2 + math.pi / 4))
            for k in range(4)
        ]
    elif shape == "triangle":
        pts = [
            (
                math.cos(angle + k * 2 * math.pi / 3 - math.pi / 2),
                math.sin(angle + k * 2 * math.pi / 3 - math.pi / 2),
            )
            for k in range(3)
        ]
    elif shape == "star":
        pts = []
        for k in range(10):
            rad = 1.0 if k % 2 == 0 else 0.45
            a = angle + k * math.pi / 5 - math.pi / 2
            pts.append((rad * math.cos(a), rad * math.sin(a)))
    else:
        raise ValueError(shape)
    return [(cx + r * x, cy + r * y) for x, y in pts]


def draw(kind: Kind, size: tuple[int, int], rng: np.random.Generator, centred: bool = False) -> Image.Image:
    """One RGB picture of `kind`, `size` = (width, height). `centred` keeps the shape inside the centre square."""
    w, h = size
    img = Image.new("RGB", size, _jitter(BACKGROUNDS[kind.background], rng, 12))
    d = ImageDraw.Draw(img)
    m = min(w, h)
    r = m * rng.uniform(0.22, 0.38) if centred else m * rng.uniform(0.18, 0.42)
    spread = (m / 2 - r) * (0.3 if centred else 0.9)
    cx = w / 2 + rng.uniform(-spread, spread)
    cy = h / 2 + rng.uniform(-spread, spread)
    fill = _jitter(COLOURS[kind.colour], rng, 18)
    if kind.shape == "circle":
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
    else:
        angle = rng.uniform(-0.35, 0.35)
        d.polygon(_polygon(kind.shape, cx, cy, r, angle), fill=fill)
    arr = np.asarray(img).astype(np.int16)
    arr += rng.integers(-6, 7, size=arr.shape, dtype=np.int16)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
