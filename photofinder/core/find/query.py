"""What a user asks for, shared by the app and the CLI: weighted positive and negative terms (text, an image
file, a photo of the library), filters and a sort order (the "good match" cut-off is in calibration.py).

The inline syntax is rclip's: terms joined by `+` and `-`, each optionally weighted `2:`, an existing file
path being an image: `"2:golden retriever + ./pool.jpg - fruit"`. In the app's search bar a word typed as
`-word` or `-"two words"` is a negative term.
"""

from __future__ import annotations

import logging
import os
import re
import shlex
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import numpy as np

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
