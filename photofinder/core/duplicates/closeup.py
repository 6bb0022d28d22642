"""A close look before two photos are called copies: the pixel rule (likeness.py) reads 256 px thumbnails, which
can't show a changed line of text, another total on a receipt, eyes closed in a group photo, or a subject that
moved 1 % of the width. Every pair it calls the same picture is looked at again from the files, at up to
CLOSE px on the shorter side (never finer than the smaller photo, or the part of the other it matches):

1. the thumbnails' alignment refined (sides moved by 1 % down to 0.025 %; both ways where the thumbnails lined up
   uncropped: on a plain backdrop a 3 % crop passes for no crop there), and a crop must be a cut: the cropped
   picture may have no more pixels than the part of the other it matches (ENLARGED);
2. each channel's mean as a ratio within STOPS (a night bracket is a few levels apart, a third of a stop);
3. each pixel must find its match within one pixel in the other, in every channel: no 4 x 4 block standing
   OUTLIER times above the picture's own noise (a date stamp, a faint watermark, an edit saved losslessly),
   and no patch of about 1 % of the width over SPOT levels on average (a changed word, a moved edge);
4. each channel's mean in each of REGIONS x REGIONS parts within REGION levels (another colourway of a product).

Measured on two hostile sets built by reviewers (helper-15 and helper-16: 110 pairs of different pictures a
photographer keeps apart, 91 pairs of copies; /tmp/dupattack*, each pair compared both ways) and
tests/unit/core/test_closeup.py. Of the different pairs, 67 were called the same picture by the thumbnails;
15 still are after the close look: time-lapse clouds drifted 0.5-3 %, a closer shot saved smaller than the
first (4), dust spots retouched softly (2 of 4), scans of a page in 8-pt type with one digit changed (3), a web
page scrolled 1-2 px and a map panned 2 px (arguably copies). The finder's dates taken tell the sequences apart
where the camera wrote them. Of the copies, 2 the thumbnails accepted are lost: a chat screenshot halved with
bilinear filtering and saved at quality 60-70 (SPOT 56-57; a missed copy stays where it is). Copies reach SPOT
49-54 otherwise, REGION 3.8, STOPS 0.02, OUTLIER 7.0. About 0.15-0.2 s a pair judged the same (12 MP against
3 MP: 0.15-0.25 s), one core.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from photofinder.core.duplicates.likeness import Verdict, _box, _matched, enlarged
from photofinder.core.errors import first_line
from photofinder.core.photos.decode import UnreadableImage, decode

CLOSE = 768  # the shorter side of the grid compared on, at most
EVAL = 192  # the shorter side of the grid the alignment is refined on
SPOT = 55.0  # the worst patch (~1 % of the width) of the matched difference, levels of 255
REGION = 7.0  # a channel's mean in each of REGIONS x REGIONS parts, levels of 255
REGIONS = 12
# A channel's mean, as a ratio (log2 of the encoded levels, 4 added): the thumbnails' EXPOSURE is in levels, and
# at night frames of a bracket 0.3 EV apart differ by 2-4 levels of 255, 0.10-0.15 here; 45 copies: <= 0.02.
STOPS = 0.06
# A small change in a picture that is otherwise the same to the last pixel (an edit saved losslessly, a screenshot
# with one element changed, a date stamp, a faint watermark): one 4 x 4 block OUTLIER times the 99th percentile
# of the picture's blocks, and at least OUTLIER_FLOOR levels. Copies: at most 7.0 (a 5 % crop re-saved).
OUTLIER = 8.0
OUTLIER_FLOOR = 15.0
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
    if enlarged(big_area, small_area, crop, ENLARGED, least=0.002):
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
    mx, my = x.mean((0, 1)), y.mean((0, 1))
    stops = float(np.abs(np.log2((mx + 4.0) / (my + 4.0))).max())
    if stops > STOPS:
        return replace(verdict, same=False, why=f"another exposure ({stops:.2f} stops apart)")
    standout = _stand_out(d)
    if standout > OUTLIER:
        return replace(
            verdict, same=False, why=f"one spot differs from the rest ({standout:.0f} times the noise)"
        )
    if spot > SPOT:
        return replace(verdict, same=False, why=f"differs in a detail the thumbnails don't show ({spot:.0f})")
    if region > REGION:
        return replace(verdict, same=False, why=f"a part of it in another colour, seen close ({region:.0f})")
    return verdict


# -- the parts ----------------------------------------------------------------------------------------------
def _stand_out(d: np.ndarray) -> float:
    """How far the worst 4 x 4 block of the matched difference stands out of the picture's own noise: its mean
    over the 99th percentile of all blocks' (at least 2 levels), the outer 2 % left out (where a crop's edge
    is); 0 when that worst block is under OUTLIER_FLOOR levels."""
    mh, mw = max(4, d.shape[0] // 50), max(4, d.shape[1] // 50)
    inner = d[mh:-mh, mw:-mw]
    h, w = inner.shape[0] // 4 * 4, inner.shape[1] // 4 * 4
    if h < 8 or w < 8:
        return 0.0
    blocks = inner[:h, :w].reshape(h // 4, 4, w // 4, 4).mean((1, 3))
    worst = float(blocks.max())
    return 0.0 if worst < OUTLIER_FLOOR else worst / max(float(np.percentile(blocks, 99)), 2.0)


def _shape(img: Any, short: int) -> tuple[int, int]:
    """(width, height) of `img`'s aspect with its shorter side `short`."""
    w, h = img.size
    return (short, max(1, round(short * h / w))) if w <= h else (max(1, round(short * w / h)), short)


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


def _box_mean(d: np.ndarray, k: int) -> np.ndarray:
    """The mean of every k x k patch of d."""
    c = np.pad(d.astype(np.float64), ((1, 0), (1, 0))).cumsum(0).cumsum(1)
    return (c[k:, k:] - c[:-k, k:] - c[k:, :-k] + c[:-k, :-k]) / (k * k)


__all__ = ["close_look"]
