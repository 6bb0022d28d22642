"""QueryController: the query shown in the grid, its paging, and what to show when it returns."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from photofinder.core.find.query import IMAGE, Filters, QueryError, Term, parse_search_bar
from photofinder.gui.controllers.library import LibraryController
from photofinder.gui.controllers.pages import INDEXING_HINT, TOP, Page
from photofinder.gui.fileurls import shown_name
from photofinder.gui.query.query_state import SHOW_CLOSEST, MatchCount, QueryState, esc, good_matches
from photofinder.gui.settings import AppSettings
from photofinder.gui.workers.browse_pages import PAGE
from photofinder.gui.workers.search_thread import Found, SearchController, SearchRequest


class QueryController(QObject):
    """The query shown in the grid: running it, paging through a browse, and what to show when it returns."""

    resultsReset = Signal(object, object)  # request (None: cleared), Found
    resultsAppended = Signal(object, object)  # request, Found: the next browse page
    pageChanged = Signal(object)  # Page
    statusExtra = Signal(str)  # what the grid shows, for the status line
    matchesChanged = Signal(object)  # MatchCount of the query shown, None when there is none
    searching = Signal()
    browsing = Signal()  # a browse's first page was asked for
    answered = Signal()  # a query came back (or failed)
    modelProblem = Signal(str)

    def __init__(
        self,
        searches: SearchController,
        libraries: LibraryController,
        settings: AppSettings,
        indexing_running: Callable[[], bool],
    ):
        super().__init__()
        self.searches, self.libraries, self.settings = searches, libraries, settings
        self._indexing = indexing_running
        self.last_request: SearchRequest | None = None
        self.view = QueryState()  # what the user asked for: chips, filters, sort
        self._last: tuple[SearchRequest, Found] | None = None  # the query's full answer, for "show more"
        self._next: Any = None  # where the next browse page starts
        searches.resultsReady.connect(self._on_results)
        searches.searchFailed.connect(self._on_failed)
        libraries.libraryChanged.connect(self.reset)

    def search_text(self, text: str) -> None:
        """Typed text alone (`-word` excludes a word), with the filters and sort in force."""
        try:
            terms = parse_search_bar(text)
        except QueryError as e:
            self.pageChanged.emit(Page("message", str(e)))
            return
        self.run_terms(terms)

    def search_image(self, image: Any, label: str) -> None:
        self.run_terms([Term(IMAGE, image, label=label)])

    def find_similar(self, path: str) -> None:
        self.run_terms([Term(IMAGE, path, label=f"Like {shown_name(path)}")])

    def run_terms(self, terms: Sequence[Term]) -> None:
        """The query bar's chips and text changed: run them (none: browse, within the filters)."""
        self.view.terms = tuple(terms)
        self.view.show_all = False
        self.run()

    def set_filters(self, filters: Filters) -> None:
        """The filter panel's filters (an open Explore group stays: the panel does not know it)."""
        self.view.filters = replace(filters, group=self.view.filters.group)
        self.run()

    def set_group(self, group: int | None) -> None:
        """Show an Explore group (None: leave it), within the other filters and with the query in force."""
        self.view.filters = replace(self.view.filters, group=group)
        self.run()

    def set_sort(self, sort: str) -> None:
        self.view.sort = sort
        self.run()

    def set_hide_duplicates(self, hide: bool) -> None:
        """View → Hide duplicates: remembered, and what is shown is asked for again."""
        self.settings.hide_duplicates = hide
        self.settings.sync()
        self.rerun()

    def show_more(self) -> None:
        """Show every result, not only the good matches."""
        self.view.show_all = True
        if self._last is not None:
            self._present(*self._last)

    def show_good(self) -> None:
        """Back to the good matches only, after "show more"."""
        self.view.show_all = False
        if self._last is not None:
            self._present(*self._last)

    def run(self) -> None:
        if not self.view.terms and not self.view.filters:
            self.clear()
            return
        self._search("query", self.view.query(), self.view.label())

    def _search(self, kind: str, query: Any, label: str) -> None:
        lib = self.libraries.library
        if lib is None:
            self.pageChanged.emit(Page("message", "Add a folder of photos first."))
            return
        self.last_request = self.searches.search(
            lib, kind, query, TOP, self.settings.model, label, self.settings.hide_duplicates
        )
        self.searching.emit()

    def browse(self) -> None:
        """No query: show the library's photos, newest first, a page at a time."""
        lib, s = self.libraries.library, self.libraries.summary
        if lib is None or s is None or not s.folders:
            return
        if s.photos == 0:
            self.pageChanged.emit(
                Page(
                    "message",
                    INDEXING_HINT if self._indexing() else "No photos found yet in this library's folders.",
                )
            )
            return
        self.last_request = self.searches.search(
            lib, "browse", None, PAGE, self.settings.model, "all photos", self.settings.hide_duplicates
        )
        self.browsing.emit()

    def fetch_more(self) -> None:
        """The grid scrolled to the end of what a browse loaded: ask for the next page."""
        r, after = self.last_request, self._next
        if r is not None and r.kind == "browse" and after is not None:
            self._next = None
            self.searches.next_page(r, after)

    def clear(self) -> None:
        """Back to browsing the library (the user emptied the search)."""
        self.view.terms = ()
        self.reset()
        self.browse()

    @Slot(object)
    def reset(self, _library: object = None) -> None:
        self.searches.supersede()
        self.last_request, self._next, self._last = None, None, None
        if _library is not None or self.libraries.library is None:
            self.view = QueryState()  # another library: its folders, its query
        self.matchesChanged.emit(None)
        self.resultsReset.emit(None, Found([]))

    def rerun(self) -> None:
        r = self.last_request
        if r is None or self.libraries.library is None:
            return
        if r.kind == "browse":
            self.browse()  # from the first page: the library changed
        elif r.kind == "query":
            self.run()
        else:
            self._search(r.kind, r.query, r.label)

    @Slot(object, object)
    def _on_results(self, req: SearchRequest, found: Found) -> None:
        self.answered.emit()
        if req.library is not self.libraries.library:
            return  # a library no longer shown
        self._next = found.more
        if req.kind == "query":
            self._last = (req, found)
            self._present(req, found)
            return
        if req.kind == "browse" and req.query is not None:
            self.resultsAppended.emit(req, found)
            return
        self.resultsReset.emit(req, found)
        self.pageChanged.emit(self._page_for(req, found.results))
        if req.kind == "browse":
            self.statusExtra.emit(("newest first" + _hidden(found)) if found.results else "")
        else:
            self.statusExtra.emit(f"best matches for “{req.label}”" if found.results else "")

    def _present(self, req: SearchRequest, found: Found) -> None:
        """Good matches only, until the user asks for more; none good: say so, and offer the closest."""
        shown = good_matches(found, self.view.show_all)
        count = MatchCount(len(shown), found.good, len(found.results), bool(req.query.terms))
        self.resultsReset.emit(req, Found(shown))
        self.matchesChanged.emit(count)
        if not found.results:
            text = "No photos match these filters." if req.query.filters else f"No matches for {req.label}."
            self.pageChanged.emit(Page("message", text))
        elif not shown:
            self.pageChanged.emit(
                Page(
                    "message",
                    f"No good matches for {esc(req.label)} — <a href='{SHOW_CLOSEST}'>show the closest</a>",
                )
            )
        else:
            self.pageChanged.emit(Page("grid"))
        self.statusExtra.emit(count.status(req.label) + _hidden(found))

    def _page_for(self, req: SearchRequest, results: list) -> Page:
        s = self.libraries.summary
        if results:
            return Page("grid")
        if s is not None and s.photos == 0:
            return Page(
                "message",
                "Nothing indexed yet: results will appear as indexing goes on."
                if self._indexing()
                else "Nothing is indexed yet. Add a folder of photos.",
            )
        if req.kind == "browse":
            if s is not None and not s.folders:
                return Page("empty")
            return Page("message", "Type what you are looking for, or drop a photo here.")
        return Page("message", f"No matches for {req.label}.")

    @Slot(object, str, bool)
    def _on_failed(self, req: SearchRequest, message: str, model_problem: bool) -> None:
        self.answered.emit()
        if model_problem:
            self.modelProblem.emit(message)
        else:
            self.pageChanged.emit(Page("message", message))


def _hidden(found: Found) -> str:
    n = found.hidden
    return f" · {n:,} duplicate{'s' if n != 1 else ''} hidden" if n else ""
