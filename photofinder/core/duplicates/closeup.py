"""A close look before two photos are called copies: the pixel rule (likeness.py) reads 256 px thumbnails, which
can't show a changed line of text, another total on a receipt, eyes closed in a group photo, or a subject that
moved 1 % of the width. Every pair it calls the same picture is looked at again from the files, at up to
CLOSE px on the shorter side (never finer than the smaller photo, or the part of the other it matches):

1. the thumbnails' alignment refined (sides moved by 1 % down to 0.025 %; both ways where the thumbnails lined up
   uncropped: on a plain backdrop a 3 % crop passes for no crop there), and a crop must be a cut: the cropped
   picture may have no more pixels than the part of the other it matches (ENLARGED);
2. each pixel must find its match within one pixel in the other, in every channel; the worst patch of
   about 1 % of the width (SPOT levels, on average over it) is what a changed word or a moved edge shows;
3. each channel's mean in each of REGIONS x REGIONS parts within REGION levels (another colourway of a product).

Measured on helper-15's hostile set (61 pairs of different pictures, 61 pairs of copies, each compared both
ways) and tests/unit/core/test_closeup.py: copies (resized, re-compressed at quality 40 to 80, cropped 3-5 %,
messenger copies of 800-1600 px, WebP, a RAW's wider preview, the EXIF-rotated and the rotated) reach SPOT 49
and REGION 3.8, and none the thumbnails accepted is lost; a phone screenshot with one digit changed reaches
SPOT 238, a document with one line changed 88, a receipt with another total 82, eyes closed in a face 6 % of
the width 107, a head leaned 0.5 % 100, the moon moved 1 % 67-81; colourways 10-20 levels apart REGION 10-20.
Bursts on a plain backdrop (the subject 0.3-1 % over) and a reshoot 2 % closer are told apart by ENLARGED. Of
the 61 different pairs, 9 still pass: star fields, clouds drifted under 3 %, and a closer shot saved smaller
than the first (the finder's dates taken tell the sequences apart when the camera wrote them). About 0.15 s a
pair on one core.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from photofinder.core.duplicates.likeness import Verdict
from photofinder.core.errors import first_line
from photofinder.core.photos.decode import UnreadableImage, decode

CLOSE = 768  # the shorter side of the grid compared on, at most
EVAL = 192  # the shorter side of the grid the alignment is refined on
SPOT = 55.0  # the worst patch (~1 % of the width) of the matched difference, levels of 255
REGION = 7.0  # a channel's mean in each of REGIONS x REGIONS parts, levels of 255
REGIONS = 12
MOST = 0.12  # the most cut from a side that refining reaches
# A crop is a cut: the cropped picture may have this many more pixels than the part it matches, no more. Lined
# up to 0.025 %, copies cropped 3-5 % came within 1.0003; a burst frame on a plain backdrop whose subject moved
# 0.3 % lines up as a 0.7 % crop of the same pixel count, 1.0073 (likeness.UPSCALE, on thumbnails: 1.06).
ENLARGED = 1.004
STEPS = (0.01, 0.004, 0.002, 0.001, 0.0005, 0.00025)  # fractions of the cropped picture's side


def close_look(path_a: str, path_b: str, verdict: Verdict) -> Verdict:
    """`verdict` (the pixel rule's, on the two photos' thumbnails) checked on the files; a pair that fails
    comes back not the same, with why."""
    if not verdict.same:
        return verdict
    try:
        da, db = decode(path_a, CLOSE), decode(path_b, CLOSE)
    except UnreadableImage as e:
        return replace(verdict, same=False, why=f"not readable for a close look: {first_line(e)}")
    (big, big_area), (small, small_area) = (
        ((da.image, da.width * da.height), (db.image, db.width * db.height))
        if verdict.cut == 0
        else ((db.image, db.width * db.height), (da.image, da.width * da.height))
    )
    crop, cost = _refine(big, small, verdict.crop)
    if not any(verdict.crop):  # lined up as they are on the thumbnails: either may still be the crop
        other, other_cost = _refine(small, big, verdict.crop)
        if other_cost < cost:
            (big, big_area), (small, small_area), crop = (small, small_area), (big, big_area), other
    part = (1 - crop[0] - crop[2]) * (1 - crop[1] - crop[3])
    if max(crop) >= 0.002 and small_area > ENLARGED * big_area * part:
        return replace(
            verdict, same=False, why="a closer shot, not a crop: more pixels than the part it matches"
        )
    bw, bh = big.size
    side = int(min(CLOSE, *small.size, bw * (1 - crop[0] - crop[2]), bh * (1 - crop[1] - crop[3])))
    shape = _shape(small, max(side, 16))
    x, y = _grid(big, _box(crop), shape), _grid(small, (0.0, 0.0, 1.0, 1.0), shape)
    d = np.maximum(_matched(x, y), _matched(y, x))
    k = max(2, min(shape) // 96)
    spot = float(_box_mean(d, k).max())
    h, w = (s - s % REGIONS for s in x.shape[:2])
    parts = (x[:h, :w] - y[:h, :w]).reshape(REGIONS, h // REGIONS, REGIONS, w // REGIONS, 3).mean((1, 3))
    region = float(np.abs(parts).max())
    if spot > SPOT:
        return replace(verdict, same=False, why=f"differs in a detail the thumbnails don't show ({spot:.0f})")
    if region > REGION:
        return replace(verdict, same=False, why=f"a part of it in another colour, seen close ({region:.0f})")
    return verdict


# -- the parts ----------------------------------------------------------------------------------------------
def _shape(img: Any, short: int) -> tuple[int, int]:
    """(width, height) of `img`'s aspect with its shorter side `short`."""
    w, h = img.size
    return (short, max(1, round(short * h / w))) if w <= h else (max(1, round(short * w / h)), short)


def _box(crop: tuple[float, ...]) -> tuple[float, float, float, float]:
    left, top, right, bottom = crop
    return (left, top, 1.0 - right, 1.0 - bottom)


def _grid(img: Any, box: tuple[float, float, float, float], shape: tuple[int, int]) -> np.ndarray:
    """The part `box` (fractions) of `img`, area-averaged onto `shape` (width, height): float32 RGB."""
    from PIL import Image

    w, h = img.size
    frame = (box[0] * w, box[1] * h, box[2] * w, box[3] * h)
    return np.asarray(img.resize(shape, Image.Resampling.BOX, box=frame), np.float32)


def _z(p: np.ndarray) -> np.ndarray:
    g = p[..., 0] * 0.299 + p[..., 1] * 0.587 + p[..., 2] * 0.114
    return (g - g.mean()) / max(float(g.std()), 1.0)


def _refine(big: Any, small: Any, crop: tuple[float, ...]) -> tuple[tuple[float, float, float, float], float]:
    """The crop of `big` moved side by side in ever smaller steps while it lines up better with `small`; with
    how well it lines up (mean difference of the contrast-normalised grayscale)."""
    from PIL import Image

    shape = _shape(small, EVAL)
    target = _z(_grid(small, (0.0, 0.0, 1.0, 1.0), shape))
    source = big
    if min(big.size) > 3 * EVAL:  # refined on a copy a few times the grid, not the whole decode
        source = big.resize(_shape(big, 3 * EVAL), Image.Resampling.BOX)

    def cost(c: list[float]) -> float:
        return float(np.abs(_z(_grid(source, _box(c), shape)) - target).mean())

    current = [float(v) for v in crop]
    here = cost(current)
    for step in STEPS:
        for _ in range(16):  # each move is one side by one step: from no crop to 4 % a side at the first
            best: tuple[float, list[float]] | None = None
            for side in range(4):
                for s in (-step, step):
                    c = list(current)
                    c[side] = min(MOST, max(0.0, c[side] + s))
                    if c != current and (k := cost(c)) < (best[0] if best else here):
                        best = (k, c)
            if best is None:
                break
            here, current = best
    return (current[0], current[1], current[2], current[3]), here


def _matched(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """For each pixel of x, the difference to its best match in y within one pixel (worst channel)."""
    h, w = x.shape[:2]
    xc = np.ascontiguousarray(np.moveaxis(x, -1, 0))  # channels first: the worst channel is a max of planes
    pad = np.pad(np.moveaxis(y, -1, 0), ((0, 0), (1, 1), (1, 1)), mode="edge")
    best = np.full((h, w), np.inf, np.float32)
    d = np.empty_like(xc)
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            np.abs(np.subtract(xc, pad[:, dy : dy + h, dx : dx + w], out=d), out=d)
            np.minimum(best, np.maximum(np.maximum(d[0], d[1]), d[2]), out=best)
    return best


def _box_mean(d: np.ndarray, k: int) -> np.ndarray:
    """The mean of every k x k patch of d."""
    c = np.pad(d.astype(np.float64), ((1, 0), (1, 0))).cumsum(0).cumsum(1)
    return (c[k:, k:] - c[:-k, k:] - c[k:, :-k] + c[:-k, :-k]) / (k * k)


__all__ = ["close_look"]
