"""Is it the same picture? The pixel rule of the duplicate finder, on two photos' small signatures.

"The same picture" is what a photographer would throw away as a copy: the same content at the same moment,
re-saved, resized, re-compressed, re-tagged or cropped a little (up to about 6 % a side). Not a different
exposure of the scene, not the next frame of a burst or a pan, not a colour or brightness variant, not the
scene with a small subject added. The rule, in order:

1. the two as they are, and if that fails, the crop that best lines them up: every side cut 0, 2, 4 or 6 % of either picture (both ways), then
   refined to a quarter of a percent on a 48 px grayscale;
2. on that alignment, at 96 x 96 in colour with the transparency (never flattened onto white):
   - the exposure and colour: the mean of each channel within EXPOSURE levels (of 255), and in each of 8 x 8
     regions within REGION levels (a subject recoloured on a plain background changes little of the whole);
   - the structure: each pixel must find its match within one pixel in the other picture, in every channel,
     within LOCAL levels (2 x 2 averaged, the worst spot counts: a small subject added is a spot), and on
     average within MEAN levels;
3. a crop is a cut, not a closer shot: when the alignment needs a crop, the picture that is the crop may not
   have more pixels (UPSCALE) than the part of the other it would be cut from, where both photos' sizes are
   known. On a plain background a zoomed or moved re-shot of a subject lines up with a crop of the first shot
   pixel for pixel; only its resolution tells it apart. Missed for it: a copy cropped and then enlarged,
   and two copies of one original, one made smaller and one cropped at full size (each is the same picture
   as the original, which keeps them both in its group; without it, they stay apart).

Measured on generated photo-like scenes (tests/dupcorpus.py, tests/unit/core/test_likeness.py): copies resized,
re-compressed at quality 40 or cropped 3 % a side are within EXPOSURE 1.1 / LOCAL 22 / MEAN 2.6; the nearest
non-copies (a person 2 % of the width added: LOCAL 60; a pan frame 1.5 % over: MEAN 8; a -1 EV bracket:
EXPOSURE 38) are well outside. On plain backgrounds (tests/unit/core/test_likeness.py, the studio shots):
copies are within REGION 12; the same subject a shade apart, REGION 28; a subject 14 % closer
and moved, lined up by a crop of 12 % of the width, is told apart by step 3 only.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import product
from typing import Any

import numpy as np

SIDE = 192  # the signature: the picture squashed to SIDE x SIDE, RGB premultiplied by alpha, and alpha
FINE = 128  # the final comparison grid
EXPOSURE = 6.0  # mean of a channel, levels of 255
LOCAL = 36.0  # the worst 2 x 2 spot, after letting each pixel find its match within one pixel
MEAN = 5.0  # the average of the same difference
REGION = 18.0  # the mean of a channel in each of REGIONS x REGIONS parts of the picture, levels of 255
REGIONS = 8
UPSCALE = 1.06  # how many more pixels the cropped picture may have than the part it was cut from (rounding)
ASPECT = 0.14  # width/height ratios further apart than this (log) can't be a slight crop of one another
MOST = 0.08  # the most cut from a side that refining reaches
ALIKE = 0.30  # contrast-normalised difference under which two pictures are similar shots (bursts, brackets)
COARSE = (0.0, 0.02, 0.04, 0.06)  # fraction cut from a side, tried on every side of either picture


@dataclass(frozen=True)
class Signature:
    """A photo as the pixel rule sees it: SIDE x SIDE x 4 uint8 (R, G, B premultiplied by alpha; alpha)."""

    pixels: np.ndarray
    aspect: float  # width / height of the photo as shown
    transparent: bool
    area: int = 0  # the photo's width x height in pixels (not its thumbnail's); 0 where unknown

    @property
    def nbytes(self) -> int:
        return int(self.pixels.nbytes)


def signature(image: Any) -> Signature:
    """The signature of a PIL image (any mode; its transparency kept)."""
    from PIL import Image

    w, h = image.size
    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        image.mode == "P" and "transparency" in image.info
    )
    rgba = image.convert("RGBA") if has_alpha else image.convert("RGB").convert("RGBA")
    small = np.asarray(rgba.resize((SIDE, SIDE), Image.Resampling.BOX), np.float32)
    alpha = small[..., 3:4] / 255.0
    out = np.concatenate([small[..., :3] * alpha, small[..., 3:4]], -1)
    transparent = bool(has_alpha and small[..., 3].min() < 250)
    return Signature(np.round(out).astype(np.uint8), w / max(h, 1), transparent)


@dataclass(frozen=True)
class Verdict:
    """How two pictures compare on the best alignment found; `same` is the rule's answer."""

    same: bool
    exposure: float  # largest difference of a channel's mean
    local: float  # worst spot
    mean: float  # average difference
    crop: tuple[
        float, float, float, float
    ]  # (left, top, right, bottom) cut from the picture that is the larger
    why: str  # what made them different, '' when the same
    aligned: float = 0.0  # contrast-normalised grayscale difference on that alignment (standard deviations)
    region: float = 0.0  # largest difference of a channel's mean in one of the REGIONS x REGIONS parts
    cut: int = 0  # which picture `crop` is cut from: 0 the first compared, 1 the second

    @property
    def looks_alike(self) -> bool:
        """The same scene and framing, if not the same picture: a burst frame, a bracket (similar shots)."""
        return self.same or self.aligned <= ALIKE


def compare(a: Signature, b: Signature) -> Verdict:
    """The pixel rule on two signatures (see the module's docstring)."""
    if a.transparent != b.transparent:
        return Verdict(False, 255.0, 255.0, 255.0, (0, 0, 0, 0), "one is transparent, the other not")
    if abs(np.log(a.aspect / b.aspect)) > ASPECT:
        return Verdict(False, 255.0, 255.0, 255.0, (0, 0, 0, 0), "another shape")
    ia, ib = _integral(a.pixels), _integral(b.pixels)
    plain = _judge(ia, ib, (0.0, 0.0, 0.0, 0.0), 0.0)
    if plain.same:  # resized, re-compressed, re-tagged: no crop to look for
        return plain
    best = None
    for flip, (big, small) in enumerate(((ia, ib), (ib, ia))):
        target = _z(_gray(_sample(small, [(0.0, 0.0, 1.0, 1.0)], 24))[0])
        crops = list(product(COARSE, repeat=4))
        if flip:
            crops = [c for c in crops if any(c)]  # no cut at all was tried the other way round
        cost = _costs(
            big, crops, target, 24, a.aspect if not flip else b.aspect, b.aspect if not flip else a.aspect
        )
        i = int(np.argmin(cost))
        if best is None or cost[i] < best[0]:
            best = (float(cost[i]), crops[i], flip)
    assert best is not None
    _, crop, flip = best
    big, small = (ia, ib) if not flip else (ib, ia)
    crop, aligned = _refine(big, small, crop)
    verdict = replace(_judge(big, small, crop, aligned), cut=flip)
    cut_from, cut = (a, b) if not flip else (b, a)
    if verdict.same and enlarged(cut_from.area, cut.area, crop):
        return replace(
            verdict, same=False, why="a closer shot, not a crop: more pixels than the part it matches"
        )
    return verdict


def enlarged(
    big_area: int, small_area: int, crop: tuple[float, ...], leeway: float = UPSCALE, least: float = 0.005
) -> bool:
    """Would the picture of `small_area` pixels be `crop` of the one of `big_area` enlarged (by more than
    `leeway`)? Only where both sizes are known and some side is cut at least `least`."""
    if not big_area or not small_area or max(crop) < least:
        return False
    left, top, right, bottom = crop
    return small_area > leeway * big_area * (1 - left - right) * (1 - top - bottom)


def _judge(
    big: np.ndarray, small: np.ndarray, crop: tuple[float, float, float, float], aligned: float
) -> Verdict:
    """The checks of step 2 on one alignment: `crop` of `big` against the whole of `small`."""
    x = _sample(big, [_box(crop)], FINE)[0]
    y = _sample(small, [(0.0, 0.0, 1.0, 1.0)], FINE)[0]
    exposure = float(np.abs(x.mean((0, 1)) - y.mean((0, 1))).max())
    k, side = REGIONS, FINE // REGIONS
    parts = (x - y).reshape(k, side, k, side, x.shape[-1]).mean((1, 3))
    region = float(np.abs(parts).max())
    d = np.maximum(_matched(x, y), _matched(y, x))
    spot = (d[:-1, :-1] + d[1:, :-1] + d[:-1, 1:] + d[1:, 1:]) / 4
    local, mean = float(spot.max()), float(d.mean())
    why = (
        "another exposure or colour"
        if exposure > EXPOSURE
        else "a part of it in another colour or brightness"
        if region > REGION
        else "something added, moved or changed"
        if local > LOCAL
        else "another framing"
        if mean > MEAN
        else ""
    )
    return Verdict(not why, exposure, local, mean, crop, why, aligned, region)


def same_picture(a: Signature | None, b: Signature | None) -> bool:
    return a is not None and b is not None and compare(a, b).same


# -- the parts ----------------------------------------------------------------------------------------------
def _integral(p: np.ndarray) -> np.ndarray:
    out = np.zeros((p.shape[0] + 1, p.shape[1] + 1, p.shape[2]), np.float64)
    out[1:, 1:] = p.astype(np.float64).cumsum(0).cumsum(1)
    return out


def _box(crop: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    left, top, right, bottom = crop
    return (left, top, 1.0 - right, 1.0 - bottom)


def _sample(integral: np.ndarray, boxes: list[tuple[float, float, float, float]], n: int) -> np.ndarray:
    """Box means of an n x n grid over each box (fractions x0, y0, x1, y1): (len(boxes), n, n, channels).

    From the integral image, linearly interpolated at the cell corners: exact for pixels as little squares.
    """
    size = integral.shape[0] - 1
    b = np.asarray(boxes, np.float64) * size
    t = np.linspace(0.0, 1.0, n + 1)
    xs = b[:, 0:1] + (b[:, 2:3] - b[:, 0:1]) * t  # (k, n+1)
    ys = b[:, 1:2] + (b[:, 3:4] - b[:, 1:2]) * t
    y0 = np.clip(np.floor(ys).astype(int), 0, size - 1)
    fy = (ys - y0)[..., None, None]
    x0 = np.clip(np.floor(xs).astype(int), 0, size - 1)
    fx = (xs - x0)[:, None, :, None]
    # each row interpolated at the two columns a corner needs only, not along the whole row; gathered from the
    # flat image and computed in place (the same operations in the same order: the same numbers, twice as fast)
    w = integral.shape[1]
    flat = integral.reshape(-1, integral.shape[2])
    at = (y0 * w)[:, :, None] + x0[:, None, :]  # (k, n+1, n+1): the corner above and left
    up = 1 - fy  # the weight of the row above
    cols = np.take(flat, at, axis=0)  # the left column: above * (1 - fy) + below * fy
    cols *= up
    part = np.take(flat, at + w, axis=0)
    part *= fy
    cols += part
    right = np.take(flat, at + 1, axis=0)
    right *= up
    np.take(flat, at + (w + 1), axis=0, out=part)
    part *= fy
    right += part
    cols *= 1 - fx  # then along the row: left * (1 - fx) + right * fx
    right *= fx
    cols += right  # (k, n+1, n+1, c)
    sums = cols[:, 1:, 1:] - cols[:, :-1, 1:] - cols[:, 1:, :-1] + cols[:, :-1, :-1]
    area = (np.diff(ys, axis=1)[:, :, None] * np.diff(xs, axis=1)[:, None, :])[..., None]
    return (sums / np.maximum(area, 1e-9)).astype(np.float32)


def _gray(p: np.ndarray) -> np.ndarray:
    return p[..., 0] * 0.299 + p[..., 1] * 0.587 + p[..., 2] * 0.114 + p[..., 3] * 0.25


def _z(g: np.ndarray) -> np.ndarray:
    axes = (-2, -1)
    mean = g.mean(axes, keepdims=True)
    std = np.maximum(g.std(axes, keepdims=True), 1.0)
    return (g - mean) / std


def _costs(
    big: np.ndarray,
    crops: list[tuple[float, float, float, float]],
    target: np.ndarray,
    n: int,
    big_aspect: float,
    small_aspect: float,
) -> np.ndarray:
    """How badly each crop of `big` lines up with `target` (z-scored grayscale): mean absolute difference,
    crops whose shape can't give the small picture's shape ruled out."""
    cut = np.asarray(crops, np.float64)
    shape = big_aspect * (1 - cut[:, 0] - cut[:, 2]) / (1 - cut[:, 1] - cut[:, 3])
    fits = np.abs(np.log(shape / small_aspect)) <= 0.02
    cost = np.full(len(crops), np.inf)
    idx = np.nonzero(fits)[0]
    if len(idx):
        grids = _z(_gray(_sample(big, [_box(crops[i]) for i in idx], n)))
        cost[idx] = np.abs(grids - target[None]).mean((1, 2))
    return cost


def _refine(
    big: np.ndarray, small: np.ndarray, crop: tuple[float, float, float, float]
) -> tuple[tuple[float, float, float, float], float]:
    """The crop moved side by side in ever smaller steps while that lines the pictures up better; with its cost."""
    target = _z(_gray(_sample(small, [(0.0, 0.0, 1.0, 1.0)], 48))[0])

    def cost(c: list[tuple[float, ...]]) -> np.ndarray:
        g = _z(_gray(_sample(big, [_box(x) for x in c], 48)))  # type: ignore[arg-type]
        return np.abs(g - target[None]).mean((1, 2))

    current = tuple(crop)
    here = float(cost([current])[0])
    for step in (0.01, 0.005, 0.0025):
        for _ in range(8):
            moves = []
            for side in range(4):
                for s in (-step, step):
                    c = list(current)
                    c[side] = min(MOST, max(0.0, c[side] + s))
                    if tuple(c) != current:
                        moves.append(tuple(c))
            costs = cost(moves)
            i = int(np.argmin(costs))
            if costs[i] >= here:
                break
            current, here = moves[i], float(costs[i])
    return current, here  # type: ignore[return-value]


def _matched(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """For each pixel of x, the difference to its best match in y within one pixel (worst channel); x and y
    (height, width, channels) of one shape (closeup.py's are not square)."""
    h, w = x.shape[:2]
    xc = np.ascontiguousarray(np.moveaxis(x, -1, 0))  # channels first: worst channel = max of planes
    pad = np.pad(np.moveaxis(y, -1, 0), ((0, 0), (1, 1), (1, 1)), mode="edge")
    best = np.full((h, w), np.inf, np.float32)
    d = np.empty_like(xc)
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            np.abs(np.subtract(xc, pad[:, dy : dy + h, dx : dx + w], out=d), out=d)
            np.minimum(best, d.max(0), out=best)
    return best


__all__ = ["Signature", "Verdict", "compare", "same_picture", "signature"]
