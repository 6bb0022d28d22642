"""The "good match" cut-off, calibrated per library and model: what unrelated captions score against the library's
own photos (CLIP), or the model's own sigmoid (SigLIP), and the rule that marks a result good."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import numpy as np

from photofinder.core.encode.captions import CALIBRATION_CAPTIONS
from photofinder.core.find.query import TEXT

log = logging.getLogger(__name__)

# (CALIBRATION_CAPTIONS, in encode/captions.py, are what "no real match" looks like for this library.)
NULL_QUANTILE = 99.0
# A text term's results may also be good below that cut-off, down to a floor FLOOR_SHARE of the way from it to
# the unrelated captions' median score, when they are near the term's best score in the library: within RELATIVE
# of the way from the best score down to the term's median score. Chosen on the tuning queries of
# bench/goodmatch.py; recall and precision on held-out ones are printed by it and by bench/models.py, and
# docs/models.md has the sweep.
FLOOR_SHARE = 0.2
RELATIVE = 0.4
# One of a query's several wanted terms whose scores part the library sample cleanly in two (see split and
# text_cut) has its cut-off where they part: the upper group's mean stands at least SEPARATION pooled standard
# deviations above the lower one's. Otsu's split of one normal-looking group gives about 2.7; queries
# naming nothing in the library reached 3.7 on bench/goodmatch.py's sets (3.9 in the tests' 40-photo library).
# Chosen on its tuning set (docs/models.md).
SEPARATION = 4.0
SPLIT_SHARE = 0.5  # how far down from the plain cut-off to the unrelated median a parting term's best may be
SPLIT_SAMPLE = 20  # fewer scores than this say nothing about groups
# In a query of several wanted terms, a good match has each of them: it scores each at least PRESENT of the way
# from what the term scores on the library's typical photo up to the term's own cut-off. The sum of the terms'
# margins lets a strong term make up for a weaker one, but not for one that is missing: without this, "an
# orange shape + a gray background" marked orange shapes on white and yellow shapes on gray good.
PRESENT = 0.75
RULE = 3  # kept with a stored calibration: one measured under another rule is measured again
SIGLIP_MATCH = (
    0.5  # a SigLIP model's own probability of a match that makes a text result good (see calibrate)
)
CALIBRATION_SAMPLE = 2000
IMAGE_CEILING = 0.98  # an image term's cut-off never above this: an identical or re-saved copy is always good


@dataclass(frozen=True)
class Calibration:
    """What "no real match" scores in one library with one model, for text terms and for image terms.

    An unrelated caption scores a photo `text_mean` typically (the median) and `threshold` (the 99th percentile)
    once in a hundred pairs; likewise `image_mean` and `image_threshold` for one photo against another
    (image-image similarities run much higher than text-image ones, so they need their own).
    """

    threshold: float  # a one-text query's result scoring at least this is a good match
    photos: int  # library size when measured
    sample: int
    text_mean: float = 0.0
    image_threshold: float = 0.0
    image_mean: float = 0.0
    floor: float | None = None  # the lowest a text term's own cut-off goes (see text_cut)

    def good(self, score: float | None) -> bool:
        return score is not None and score >= self.threshold

    def text_cut(self, library_scores: np.ndarray | None, one_of_several: bool = False) -> float:
        """A text term's own cut-off, from its scores on a sample of the library: never above `threshold`.

        A term naming something the library holds a lot of ("a star" among many stars, "a blue shape") often
        scores its right answers below the 99th percentile of unrelated captions, while they stand clearly
        above the rest of the library. Such results are good too, when they score at least `floor`
        (FLOOR_SHARE of the way down from `threshold` to the median unrelated caption) and lie near the term's
        best score: within RELATIVE of the way from its best score in the library down to its median score.
        A term naming nothing there has no results that high above the floor and keeps the plain cut-off.

        `one_of_several`: the term is one of a query's several wanted terms, each of which a good match must
        have (see judge). Its cut-off may then go down to where its scores part cleanly (top_group), when its
        best reaches SPLIT_SHARE of the way down to the unrelated median: "a gray background" parts the
        library into the photos on gray and the rest, scoring them well under the floor. A term alone may
        not: the photos sharing part of an absent caption ("a red star on a white background" among red
        circles and orange stars on white) part from the rest just as cleanly, and only the other terms of a
        query tell them apart.
        """
        if (
            self.floor is None
            or self.floor >= self.threshold
            or library_scores is None
            or len(library_scores) == 0
        ):
            return self.threshold  # (SigLIP: its own sigmoid is its cut-off, floor and all)
        top = float(np.max(library_scores))
        mid = float(np.median(library_scores))
        cut = min(self.threshold, max(self.floor, top - RELATIVE * (top - mid)))
        if one_of_several and top >= self.threshold - SPLIT_SHARE * (self.threshold - self.text_mean):
            upper = top_group(library_scores)
            if upper is not None:
                cut = min(cut, upper)
        return cut

    def cut_for(
        self, terms: list[tuple[str, float]], norm: float = 1.0, cuts: list[float | None] | None = None
    ) -> float:
        """The cut-off of a combined query: the combined score of a photo that sits exactly at the cut-off of
        every positive term and scores like an unrelated photo on every negative one.

        `terms` are (kind, signed weight) and `norm` the length of their weighted sum before normalising
        (see combine_with_norm); one text term gets `threshold` itself. A result is good when what it has of
        the wanted terms outweighs what it has of the unwanted ones: 'a red circle -"a black background"' keeps
        red circles on white as good matches, not the ones on black, which score high on both terms.
        """
        total = 0.0
        cuts = cuts or [None] * len(terms)
        for (kind, weight), cut in zip(terms, cuts):
            text = kind == TEXT
            if weight >= 0:
                own = cut if cut is not None and text else None
                total += weight * (
                    own if own is not None else self.threshold if text else self.image_threshold
                )
            else:
                total += weight * (self.text_mean if text else self.image_mean)
        return total / max(norm, 1e-6)

    def judge(
        self,
        scores: np.ndarray,
        terms: list[tuple[str, float]],
        typical: list[float | None] | None = None,
        cuts: list[float | None] | None = None,
    ) -> np.ndarray:
        """Which photos are good matches for a query, from each photo's score on each term (photos x terms).

        Good: what a photo has of the wanted terms above their cut-offs outweighs what it has of the unwanted
        terms above their typical level, each by its weight. One text term: its score at least `threshold`.
        The typical level of an unwanted term is what it scores on the library's typical photo (`typical`,
        the median over a sample, as Searcher measures it), else what unrelated terms score. A photo gains
        nothing from being unusually unlike an unwanted term: a red square on white is no good match for
        'a red circle -"a black background"' for having no black in it, while red circles on white are, and
        red circles on black are not. `cuts`: each wanted text term's own cut-off (text_cut), else `threshold`.

        With several wanted terms a good match must also have each of them (PRESENT of the way from its
        typical level, `typical`, up to its cut-off); of several example images, none alone need be present.
        """
        typical = typical or [None] * len(terms)
        cuts = cuts or [None] * len(terms)
        s = np.asarray(scores, np.float32).reshape(len(scores), len(terms))
        margin = np.zeros(len(s), np.float32)
        present = np.ones(len(s), bool)
        several = sum(w > 0 for _, w in terms) > 1
        examples = sum(w > 0 and k != TEXT for k, w in terms)
        for j, (kind, weight) in enumerate(terms):
            text = kind == TEXT
            if weight >= 0:
                cut = cuts[j] if text and cuts[j] is not None else None
                if cut is None:
                    cut = self.threshold if text else self.image_threshold
                margin += weight * (s[:, j] - cut)
                level = typical[j]
                if several and level is not None and level < cut and (text or examples == 1):
                    present &= s[:, j] >= level + PRESENT * (cut - level)
            else:
                level = typical[j]
                if level is None:
                    level = self.text_mean if text else self.image_mean
                margin -= -weight * np.maximum(0.0, s[:, j] - level)
        return (margin >= -1e-6) & present


def calibrate(embedder: Any, vectors: np.ndarray, photos: int) -> Calibration:
    """The cut-offs for a library, measured on a random sample of its stored vectors (up to
    CALIBRATION_SAMPLE).

    Text: the scores of 250 unrelated everyday captions on the sampled photos; the cut-off is their 99th
    percentile: unrelated captions reach it once in a hundred photo pairs, so a result above it stands clearly
    above what a query with no real match gets. Images: half the sampled photos as queries against all of
    them (a photo with itself, or with an identical copy, left out). Some of those pairs are related (a
    library of a few subjects has many), so their percentiles would say little; the image cut-off stands as
    far above the median pair, in robust spreads (median absolute deviations), as the text cut-off stands above
    the median caption.
    """
    sample = np.asarray(vectors, np.float32)
    if len(sample) == 0:  # no photos: nothing can match, and nothing is measured
        return Calibration(1.0, photos, 0, 0.0, IMAGE_CEILING, 0.0, 1.0)
    scores = (embedder.encode_text(CALIBRATION_CAPTIONS) @ sample.T).ravel()
    pairs = sample[: max(1, len(sample) // 2)] @ sample.T
    pairs = pairs[pairs < 0.999]  # not a photo with itself or its identical copy
    text_mid, text_spread = _robust(scores)
    threshold = unrelated = float(np.percentile(scores, NULL_QUANTILE))
    floor = text_floor(threshold, text_mid)
    sigmoid = getattr(embedder, "sigmoid", None)
    if sigmoid:
        # SigLIP was trained to say, pair by pair, whether a caption matches a photo: a score is a match when
        # its own sigmoid(t * score + b) is at least SIGLIP_MATCH. That cut-off is the model's, not a
        # percentile of unrelated captions: with the tiny SigLIP those (out-of-vocabulary) captions scored
        # so alike that their 99th percentile marked "a dog" good on 53 of 144 shape photos (bench/goodmatch.py).
        t, b = sigmoid
        threshold = floor = float((np.log(SIGLIP_MATCH / (1 - SIGLIP_MATCH)) - b) / t)
    if pairs.size < 10:  # one photo, or copies of one: nothing to compare with, so be strict
        image_mid, image_threshold = 0.999, 0.999
    else:
        image_mid, image_spread = _robust(pairs, lower=True)
        image_threshold = min(image_mid + (unrelated - text_mid) / text_spread * image_spread, IMAGE_CEILING)
    return Calibration(
        threshold,
        photos,
        len(sample),
        text_mid,
        float(image_threshold),
        image_mid,
        floor,
    )


def split(scores: np.ndarray) -> tuple[float, float] | None:
    """Where a term's scores on the library sample part into two groups, and how far apart the groups stand:
    (the middle of the widest gap between the two groups' means, the difference of their means in pooled
    standard deviations). The groups are Otsu's (the split with the most variance between them). None for
    fewer than SPLIT_SAMPLE scores."""
    x = np.sort(np.asarray(scores, np.float64))[::-1]
    n = len(x)
    if n < SPLIT_SAMPLE:
        return None
    k = np.arange(1, n)  # the upper group's size
    total = np.cumsum(x)
    upper = total[:-1] / k
    lower = (total[-1] - total[:-1]) / (n - k)
    best = int(np.argmax(k * (n - k) * (upper - lower) ** 2)) + 1
    hi, lo = x[:best], x[best:]
    pooled = np.sqrt((hi.var() + lo.var()) / 2)
    # Otsu's threshold leans into the wider group; the groups' edge is the widest gap between their means
    mids, gaps = (x[:-1] + x[1:]) / 2, x[:-1] - x[1:]
    between = (mids > lo.mean()) & (mids < hi.mean())
    edge = float(mids[between][np.argmax(gaps[between])]) if between.any() else float((hi[-1] + lo[0]) / 2)
    return edge, float((hi.mean() - lo.mean()) / max(pooled, 1e-9))


def top_group(scores: np.ndarray) -> float | None:
    """Where the top group of a term's scores begins, when they part cleanly (split, at least SEPARATION
    apart): the upper group of the split, split again while it parts cleanly too. A library of a few kinds of
    photo parts a full caption's scores first into the photos sharing most of it and the rest; the photos that
    have all of it are the upper group of the upper group. None when the scores don't part cleanly."""
    x = np.asarray(scores, np.float64)
    cut = None
    while (parted := split(x)) is not None and parted[1] >= SEPARATION:
        cut = parted[0]
        x = x[x > cut]
    return cut


def text_floor(threshold: float, unrelated_median: float) -> float:
    """The lowest a text term's own cut-off goes (Calibration.text_cut): FLOOR_SHARE of the way down from the
    plain cut-off to what an unrelated caption scores on the typical photo."""
    return threshold - FLOOR_SHARE * (threshold - unrelated_median)


def _robust(x: np.ndarray, lower: bool = False) -> tuple[float, float]:
    """Median and spread (1.4826 x the median absolute deviation: the standard deviation for a normal).

    `lower`: the spread of the values below the median only. A library of a few subjects has two kinds of
    photo pairs (same subject about 0.9, different about 0.2): the deviation over both measured the gap
    between them, not the spread of unrelated pairs, and put the image cut-off above 1.
    """
    mid = float(np.median(x))
    side = x[x <= mid] if lower else x
    return mid, max(1.4826 * float(np.median(np.abs(side - mid))), 1e-6)


def stored_calibration(raw: str | None, fingerprint: str, photos: int) -> Calibration | None:
    """A calibration kept in the catalog, if it is for this model and the library has not doubled or halved."""
    if not raw:
        return None
    try:
        d = json.loads(raw)
        if (
            d.get("rule") != RULE
            or d.get("fingerprint") != fingerprint
            or not (d["photos"] / 2 <= photos <= d["photos"] * 2 + 100)
        ):
            return None
        return Calibration(
            float(d["threshold"]),
            int(d["photos"]),
            int(d["sample"]),
            float(d["text_mean"]),
            float(d["image_threshold"]),
            float(d["image_mean"]),
            None if d["floor"] is None else float(d["floor"]),
        )
    except (ValueError, KeyError, TypeError):  # damaged, or from before image terms had cut-offs
        return None


def calibration_json(c: Calibration, fingerprint: str) -> str:
    return json.dumps(
        {
            "threshold": c.threshold,
            "text_mean": c.text_mean,
            "image_threshold": c.image_threshold,
            "image_mean": c.image_mean,
            "floor": c.floor,
            "photos": c.photos,
            "sample": c.sample,
            "fingerprint": fingerprint,
            "rule": RULE,
            "measured": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
    )
