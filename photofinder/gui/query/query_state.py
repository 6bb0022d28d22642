"""What the user asked for (chips, filters, sort) and how much of its answer the grid shows: good matches first.

Widget-free: the QueryController keeps a QueryState and describes what it shows with a MatchCount.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from photofinder.core.find.query import Filters, Query, Term

SHOW_CLOSEST = "closest"  # the link in "No good matches — show the closest"
SHOW_MORE = "more"  # the link in "N good matches · show more"
SHOW_GOOD = "good"  # the link back: "good matches only"


@dataclass
class QueryState:
    """The query as the user built it: the bar's terms, the filter panel's filters, the sort order."""

    terms: tuple[Term, ...] = ()
    filters: Filters = field(default_factory=Filters)
    sort: str = "match"
    show_all: bool = False  # the user asked to see more than the good matches

    def query(self) -> Query:
        return Query(self.terms, self.filters, self.sort)

    def label(self) -> str:
        """The query as one line: “a red circle − a black background + query.png”."""
        if not self.terms:
            return "photos in the filters"
        parts = []
        for i, t in enumerate(self.terms):
            weight = "" if t.weight == 1 else f"{t.weight:g}× "
            name = t.label or str(t.value)
            parts.append(("− " if t.negative else ("" if i == 0 else "+ ")) + weight + name)
        return " ".join(parts)


@dataclass(frozen=True)
class MatchCount:
    """How many results the grid shows, how many are good matches, and how many the query found."""

    shown: int
    good: int | None  # None: not judged (browsing within filters)
    total: int
    judged: bool

    @property
    def more(self) -> bool:
        """Results beyond the good matches that are not shown yet."""
        return self.judged and self.shown < self.total

    def text(self) -> str:
        """The line above the grid (rich text: "show more" is a link)."""
        if not self.judged:
            return f"{self.total:,} photo{'s' if self.total != 1 else ''} · newest first"
        # one wording everywhere: "No good matches", never "0 good matches"
        good = (
            "No good matches"
            if not self.good
            else f"{self.good:,} good match{'es' if self.good != 1 else ''}"
        )
        if self.more:
            return f"{good} · <a href='{SHOW_MORE}'>show more</a>"
        weaker = self.shown - (self.good or 0)
        if weaker > 0:
            back = f" · <a href='{SHOW_GOOD}'>good matches only</a>" if self.good else ""
            return f"{good} · then {weaker:,} weaker match{'es' if weaker != 1 else ''}{back}"
        return good

    def status(self, label: str) -> str:
        if not self.judged:
            return f"{self.total:,} photos in the filters" if self.total else ""
        return f"{self.shown:,} of {self.total:,} for “{label}”" if self.total else ""


def good_matches(found, show_all: bool) -> list:
    """The results to show: all of them when asked, or when not judged (browsing); else only the good ones."""
    if show_all or found.good is None:
        return list(found.results)
    return [r for r in found.results if r.good]


def why(r, label: str) -> str:
    """A line saying why a result is in the grid: “Looks like “dog on a beach” (0.31: a good match)”."""
    if r.score is None or not label:
        return ""
    judged = " — a good match" if r.good else (" — weaker than the good matches" if r.good is False else "")
    line = f"Why: looks like “{label}” (similarity {r.score:.2f}{judged})"
    if r.matched:
        line += "; its words hold what you asked for"
    return line


def esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
