"""What a search gives back: results (a photo with its score, whether it is a good match, and what the
results grid and the details show) and the query made ready to run."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class QueryTerms:
    """A query made ready to run: its combined vector, and each term's own unit vector, kind and weight."""

    vector: np.ndarray
    exclude: set[int]  # library photos that are themselves terms (never a result)
    norm: float  # the length of the weighted sum before it was normalised
    vectors: np.ndarray  # (terms, dim), in the order of `kinds`
    kinds: list[tuple[str, float]]  # (TEXT or IMAGE, signed weight)


@dataclass(frozen=True)
class SearchResult:
    id: int
    path: str
    score: float | None  # None when browsing (no query to match)
    hash: str | None = None
    good: bool | None = None  # above the library's good-match cut-off (None: not judged)
    taken: str | None = None  # the date shown: EXIF date taken, else the file's time (ISO 8601)
    size: int | None = None  # bytes
    width: int | None = None
    height: int | None = None
    duplicates: tuple[SearchResult, ...] = ()  # copies of this photo that results hiding duplicates left out
    words: str | None = None  # the words read in it (OCR), lines joined by newlines
    place: str | None = None  # where it was taken: a places.Place key
    gps: tuple[float, float] | None = None
    matched: tuple[str, ...] = ()  # with a words filter: the lines of its words that hold the words asked for
    # where those lines are: (x0, y0, x1, y1) as fractions of the upright photo (the preview frames them)
    highlights: tuple[tuple[float, float, float, float], ...] = ()

    @property
    def folder(self) -> str:
        return os.path.dirname(self.path)


@dataclass
class QueryResults:
    """The results of a query, best first (or newest first), and how many of them are good matches."""

    results: list[SearchResult]
    good: int  # how many of them are good matches (SearchResult.good)
    # the score a result needs to be good, where one score decides (None when browsing, and for a query with
    # unwanted terms, whose results are judged term by term: see Calibration.judge)
    threshold: float | None
    judged: bool = True  # False when browsing: no result is judged good or not

    def good_only(self) -> list[SearchResult]:
        return [r for r in self.results if r.good]
