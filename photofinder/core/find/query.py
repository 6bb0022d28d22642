"""What a user asks for, shared by the app and the CLI: weighted positive and negative terms (text, an image
file, a photo of the library), filters, a sort order, and a "good match" cut-off calibrated per library.

The inline syntax is rclip's: terms joined by `+` and `-`, each optionally weighted `2:`, an existing file
path being an image: `"2:golden retriever + ./pool.jpg - fruit"`. In the app's search bar a word typed as
`-word` or `-"two words"` is a negative term.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shlex
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from typing import Any

import numpy as np

from photofinder.core.encode.captions import CALIBRATION_CAPTIONS
from photofinder.core.photos.decode import EXTENSIONS

log = logging.getLogger(__name__)

TEXT, IMAGE, PHOTO = "text", "image", "photo"
WORDS = (
    "words"  # words that must be in the photo (read by OCR): `text:"open 24 hours"`, a filter, not a vector
)
_WORDS_PREFIX = re.compile(r"^text:", re.I)


@dataclass(frozen=True)
class Term:
    """One part of a query: text, an image (a file path, encoded bytes or pixels) or a library photo's id."""

    kind: str
    value: Any
    weight: float = 1.0
    negative: bool = False
    label: str = ""  # what the user sees on its chip

    @property
    def signed_weight(self) -> float:
        return -self.weight if self.negative else self.weight


MAX_WEIGHT = 100.0  # a term's weight; the query is normalised, so only the ratio of weights counts
MAX_SIDE = 1_000_000  # a --min-size above this is no photo's shorter side (and overflows SQLite's integers)


@dataclass(frozen=True)
class Filters:
    """Which photos may be shown: all of them unless a field is set. Dates are inclusive days."""

    folder: str | None = None  # a folder (and everything under it)
    after: date | None = None
    before: date | None = None
    types: tuple[str, ...] = ()  # extensions without the dot: ("jpg", "png")
    orientation: str | None = None  # "landscape", "portrait" or "square"
    min_size: int | None = None  # the shorter side, in pixels
    text: str | None = None  # words that must all be in the photo (read by OCR; words.fts_query)
    place: str | None = None  # a country, region or city, as typed (case and accents aside)
    group: int | None = None  # an Explore group (groups.py), top-level or sub-group

    def __bool__(self) -> bool:
        return any(
            (self.folder, self.after, self.before, self.types, self.orientation, self.min_size, self.group)
        ) or bool(self.text or self.place)

    @property
    def by_columns(self) -> bool:
        """Whether a part of the filter is said in SQL over the photo's columns (filter_sql)."""
        return any((self.folder, self.after, self.before, self.types, self.orientation, self.min_size))


@dataclass(frozen=True)
class Query:
    terms: tuple[Term, ...] = ()
    filters: Filters = field(default_factory=Filters)
    sort: str = "match"  # "match" or "date"

    @property
    def positive(self) -> bool:
        """At least one positive term (a query of negatives alone has nothing to look for)."""
        return any(not t.negative for t in self.terms)

    def with_terms(self, *terms: Term) -> Query:
        return replace(self, terms=self.terms + terms)

    def words_as_filter(self) -> Query:
        """The same query with its WORDS terms (`text:"..."`) moved into the filters, where they act."""
        words = [str(t.value) for t in self.terms if t.kind == WORDS]
        if not words:
            return self
        text = " ".join(w for w in (self.filters.text, *words) if w)
        return Query(
            tuple(t for t in self.terms if t.kind != WORDS), replace(self.filters, text=text), self.sort
        )


class QueryError(ValueError):
    """A query that can't be run as typed; str() says why in one line."""


_WEIGHT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*:\s*(.+)$", re.S)


def parse(text: str, *, cwd: str | None = None, strict: bool = False) -> list[Term]:
    """Terms of an inline query, rclip's syntax: `2:golden retriever + ./pool.jpg - fruit`.

    A term that names an existing file is an image; a leading `-` makes the first term negative.
    `+` and `-` separate terms only when surrounded by spaces, so "t-shirt" stays one word. A sign with no
    term after it (`-` alone, `cat -`) is never searched as text: dropped, or with `strict` refused.
    """
    text = text.strip()
    if not text:
        return []
    if not re.match(r"^[+-](\s|$)", text):
        text = "+ " + text
    parts = re.split(r"(?:^|(?<=\s))([+-])(?=\s|$)", text)  # ["", sign, term, sign, term, ...]
    terms: list[Term] = []
    for sign, raw in zip(parts[1::2], parts[2::2]):
        raw = raw.strip()
        if not raw:
            if strict:
                raise QueryError(_LONE_SIGN.format(sign=sign))
            continue
        weight = 1.0
        m = _WEIGHT.match(raw)
        if m:
            weight, raw = float(m.group(1)), m.group(2).strip()
        if not 0 < weight <= MAX_WEIGHT:  # (a weight of 1e20 once summed to inf: a NaN query, no results)
            raise QueryError(f"the weight of {raw!r} must be above 0 and at most {MAX_WEIGHT:g}")
        path = os.path.expanduser(raw.strip("'\""))
        if cwd and not os.path.isabs(path):
            path = os.path.join(cwd, path)
        if _looks_like_image(path):
            terms.append(Term(IMAGE, os.path.abspath(path), weight, sign == "-", os.path.basename(path)))
        elif raw.startswith(("./", "../", "/", "~")) or os.path.splitext(raw)[1].lower() in EXTENSIONS:
            raise QueryError(f"image not found: {raw}")
        else:
            terms.append(Term(TEXT, raw, weight, sign == "-", raw))
    return terms


_LONE_SIGN = (
    "a lone {sign!r} is not a term: write 'cat - dog' (or -dog) to leave something out, 'cat + dog' to add"
)


def parse_search_bar(text: str, *, strict: bool = False) -> list[Term]:
    """The app's search bar: free text, where `-word` or `-"two words"` is a negative term.

    rclip's inline syntax (`a + b - c`) works there too. A `-` or `+` alone is not searched as text: dropped,
    or with `strict` (the command line) refused.
    """
    if re.search(r"\s[+-]\s", f" {text} "):
        return parse(text, strict=strict)
    try:
        words = shlex.split(text)
    except ValueError:  # an unbalanced quote: an apostrophe ("a child's bike") or a quote not closed yet
        words = _double_quoted_words(text)
    positive, terms = [], []
    for w in words:
        if w in ("-", "+"):
            if strict:
                raise QueryError(_LONE_SIGN.format(sign=w))
            continue
        if _WORDS_PREFIX.match(w):
            found = _WORDS_PREFIX.sub("", w).strip()
            if found:
                terms.append(Term(WORDS, found, 1.0, False, f"text: {found}"))
        elif w.startswith("-") and len(w) > 1:
            terms.append(Term(TEXT, w[1:], 1.0, True, w[1:]))
        else:
            positive.append(w)
    if positive:
        terms.insert(0, Term(TEXT, " ".join(positive), 1.0, False, " ".join(positive)))
    return terms


def parse_query(text: str, *, cwd: str | None = None) -> list[Term]:
    """What `photofinder search` reads: the search bar's syntax and rclip's, so a query typed in the app means
    the same on the command line. rclip's operators (` + `, ` - `) or a lone image path go to `parse`;
    otherwise a `-word` or `-"two words"` is a negative term and `text:"some words"` words the photo must hold,
    as in the app.

    Stricter than the search bar, which reads text still being typed: a double quote left open (it would turn
    `-"a black background` into words to look for) or a `-` / `+` with no term is refused with a QueryError.
    """
    if text.count('"') % 2:
        raise QueryError(
            'the query has a " that is not closed: write -"two words" to leave out a phrase, or drop the quote'
        )
    if re.search(r"\s[+-](\s|$)", f" {text} ") or not re.search(r"(^|\s)(-\S|text:)", text, re.I):
        return parse(text, cwd=cwd, strict=True)
    return parse_search_bar(text, strict=True)


def _double_quoted_words(text: str) -> list[str]:
    """Words as a shell splits them, with only double quotes quoting: an apostrophe is a letter."""
    lexer = shlex.shlex(text, posix=True)
    lexer.whitespace_split = True
    lexer.quotes = '"'
    lexer.escape = ""
    try:
        return list(lexer)
    except ValueError:  # a double quote not closed (yet): the text as it is
        return text.split()


def _looks_like_image(path: str) -> bool:
    return os.path.splitext(path)[1].lower() in EXTENSIONS and os.path.isfile(path)


def combine(vectors: np.ndarray, weights: list[float]) -> np.ndarray:
    """The query vector: the weighted sum of the (normalised) term vectors, normalised."""
    return combine_with_norm(vectors, weights)[0]


def combine_with_norm(vectors: np.ndarray, weights: list[float]) -> tuple[np.ndarray, float]:
    """The query vector and the length of the weighted sum it was normalised from."""
    v = np.asarray(vectors, np.float32)
    v = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
    q = (np.asarray(weights, np.float32)[:, None] * v).sum(axis=0)
    n = float(np.linalg.norm(q))
    if n < 1e-6:
        raise QueryError("the terms cancel each other out: add a positive term")
    return (q / n).astype(np.float32), n


# -- filters as SQL -------------------------------------------------------------------------------------------
def filter_sql(filters: Filters, to_db: Any) -> tuple[str, list[Any]]:
    """A WHERE fragment (and its parameters) selecting the photos `filters` allow, for the photos table.

    Every column it reads is in the catalog's filter indexes (path, day, ext, width, height; migration 6), so
    with `status = 'indexed'` beside it a filter reads index entries, never the photos' rows.
    """
    where, params = [], []
    if filters.folder:
        prefix = to_db(filters.folder.rstrip(os.sep) + os.sep)
        where.append("path >= ? AND path < ?")  # a range on the path index: everything under the folder
        params += [prefix, prefix[:-1] + bytes([prefix[-1] + 1])]
    # `day`: the day taken (EXIF, else the file's time in local time), stored when the photo was written
    if filters.after:
        where.append("day >= ?")
        params.append(filters.after.isoformat())
    if filters.before:
        where.append("day <= ?")
        params.append(filters.before.isoformat())
    if filters.types:
        exts = sorted({e.lower().lstrip(".") for e in filters.types} | _aliases(filters.types))
        where.append(f"ext IN ({','.join('?' * len(exts))})")
        params += exts
    if filters.orientation == "landscape":
        where.append("width > height * 1.05")
    elif filters.orientation == "portrait":
        where.append("height > width * 1.05")
    elif filters.orientation == "square":
        where.append("width <= height * 1.05 AND height <= width * 1.05")
    if filters.min_size:
        where.append("min(width, height) >= ?")
        params.append(min(int(filters.min_size), MAX_SIDE + 1))
    return " AND ".join(where), params


def filter_index(filters: Filters) -> str | None:
    """Which of the catalog's filter indexes (`by_path`, `by_day`, `by_type`) a filter must read, where
    SQLite's own choice could be worse; None: let it choose (a date or type filter, each index covers it).

    A folder reads the path index: the others lack the path, so SQLite picking one would read rows to check
    it. Orientation or size alone scans an index whole; the day index has no paths to read past.
    """
    if filters.folder:
        return "by_path"
    if filters.after or filters.before or filters.types:
        return None
    return "by_day"


def _aliases(types: tuple[str, ...]) -> set[str]:
    out = set()
    for t in types:
        t = t.lower().lstrip(".")
        out |= {
            "jpg": {"jpeg", "jpe", "jfif"},
            "jpeg": {"jpg", "jpe", "jfif"},
            "tif": {"tiff"},
            "tiff": {"tif"},
            "heic": {"heif"},
            "heif": {"heic"},
        }.get(t, set())
    return out


def parse_date(text: str, end: bool = False) -> date:
    """2024, 2024-06 or 2024-06-15; `end` takes the last day of a year or month."""
    parts = text.strip().split("-")
    try:
        y = int(parts[0])
        m = int(parts[1]) if len(parts) > 1 else (12 if end else 1)
        if len(parts) > 2:
            return date(y, m, int(parts[2]))
        if not end:
            return date(y, m, 1)
        nxt = date(y + (m == 12), m % 12 + 1, 1)
        return date.fromordinal(nxt.toordinal() - 1)
    except (ValueError, IndexError) as e:
        raise QueryError(f"{text!r} is not a date: use 2024, 2024-06 or 2024-06-15") from e


# -- the "good match" cut-off, calibrated per library ----------------------------------------------------------
# (CALIBRATION_CAPTIONS, in encode/captions.py, are what "no real match" looks like for this library.)
NULL_QUANTILE = 99.0
# A text term's results may also be good below that cut-off, down to FLOOR_QUANTILE of the unrelated captions'
# scores, when they are near the term's best score in the library: within RELATIVE of the way from the best
# score down to the term's median score. Chosen on the tuning queries of bench/goodmatch.py (recall and
# precision on held-out ones are printed by bench/models.py).
FLOOR_QUANTILE = (
    99.0  # = NULL_QUANTILE: the extension is off (98 broke a negative-term test; see docs/models.md)
)
RELATIVE = 0.3
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
    floor: float | None = None  # FLOOR_QUANTILE of the unrelated captions' scores (see text_cut)

    def good(self, score: float | None) -> bool:
        return score is not None and score >= self.threshold

    def text_cut(self, library_scores: np.ndarray | None) -> float:
        """A text term's own cut-off, from its scores on a sample of the library: never above `threshold`.

        A term naming something the library holds a lot of ("a star" among many stars, "a blue shape") often
        scores its right answers below the 99th percentile of unrelated captions, while they stand clearly
        above the rest of the library. Such results are good too, when they score at least `floor` (what
        unrelated captions reach in 2 photo pairs of 100) and lie near the term's best score: within RELATIVE
        of the way from its best score in the library down to its median score. A term naming nothing there
        has no results that high above the floor and keeps the plain cut-off.
        """
        if self.floor is None or library_scores is None or len(library_scores) == 0:
            return self.threshold
        top = float(np.max(library_scores))
        mid = float(np.median(library_scores))
        return min(self.threshold, max(self.floor, top - RELATIVE * (top - mid)))

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
        """
        typical = typical or [None] * len(terms)
        cuts = cuts or [None] * len(terms)
        s = np.asarray(scores, np.float32).reshape(len(scores), len(terms))
        margin = np.zeros(len(s), np.float32)
        for j, (kind, weight) in enumerate(terms):
            text = kind == TEXT
            if weight >= 0:
                cut = cuts[j] if text and cuts[j] is not None else None
                if cut is None:
                    cut = self.threshold if text else self.image_threshold
                margin += weight * (s[:, j] - cut)
            else:
                level = typical[j]
                if level is None:
                    level = self.text_mean if text else self.image_mean
                margin -= -weight * np.maximum(0.0, s[:, j] - level)
        return margin >= -1e-6


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
    threshold = float(np.percentile(scores, NULL_QUANTILE))
    floor = float(np.percentile(scores, FLOOR_QUANTILE))
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
        image_threshold = min(image_mid + (threshold - text_mid) / text_spread * image_spread, IMAGE_CEILING)
    return Calibration(
        threshold,
        photos,
        len(sample),
        text_mid,
        float(image_threshold),
        image_mid,
        floor,
    )


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
        if d.get("fingerprint") != fingerprint or not (d["photos"] / 2 <= photos <= d["photos"] * 2 + 100):
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
    except (ValueError, KeyError, TypeError):  # damaged, or from before image terms or the floor had cut-offs
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
            "measured": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
    )
