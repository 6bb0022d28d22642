"""Library → Explore: the view opens with the library's groups, a click shows a group's photos in the grid (and
the filters work inside it), "Search for this" puts the group's name in the search bar."""

from __future__ import annotations

from pathlib import Path

from photofinder.gui.library.explore_view import ExploreView
from photofinder.gui.results.results_model import PathRole


def shown(window) -> set[Path]:
    m = window.results
    return {Path(m.index(r).data(PathRole)) for r in range(m.rowCount())}


def explore(qtbot, window, photos) -> ExploreView:
    folder, kinds = photos
    with qtbot.waitSignal(window.app.indexing.finished, timeout=60000):
        window.app.indexing.add_folder(str(folder))
    qtbot.waitUntil(lambda: len(shown(window)) == len(kinds), timeout=10000)
    window.explore.action.trigger()
    view = window.explore.view
    qtbot.waitUntil(lambda: view.isVisible() and view.model.rowCount() > 0, timeout=30000)
    qtbot.waitUntil(
        lambda: "groups of" in view.status.text() and "checking" not in view.status.text(), timeout=30000
    )
    return view


def test_explore_shows_groups_and_a_click_shows_the_group_in_the_grid(qtbot, window, photos):
    folder, kinds = photos
    view = explore(qtbot, window, photos)
    groups = view.model.groups
    assert sum(g.count for g in groups) == len(kinds)
    assert all(view.model.pixmaps.get(g.id) is not None for g in groups)  # a cover mosaic each
    group = max(groups, key=lambda g: g.count)
    row = groups.index(group)
    index = view.model.index(row)
    assert group.name in index.data() and f"{group.count}" in index.data()
    view.grid.clicked.emit(index)
    qtbot.waitUntil(lambda: len(shown(window)) == group.count, timeout=10000)
    inside = shown(window)
    assert len({kinds[p] for p in inside}) == 1  # one kind of shape: the group's
    assert window.explore.chip.isVisible() and group.name in window.explore.chip.text()
    # a filter narrows the group (a folder with none of its photos: nothing left), and leaving it shows all
    window.app.query.set_filters(window.app.query.view.filters.__class__(folder=str(folder / "elsewhere")))
    qtbot.waitUntil(lambda: len(shown(window)) == 0, timeout=10000)
    window.app.query.set_filters(window.app.query.view.filters.__class__())
    qtbot.waitUntil(lambda: shown(window) == inside, timeout=10000)
    window.explore.chip.click()
    qtbot.waitUntil(lambda: len(shown(window)) == len(kinds), timeout=10000)
    assert not window.explore.chip.isVisible()


def test_search_for_this_puts_the_group_name_in_the_search_bar(qtbot, window, photos):
    view = explore(qtbot, window, photos)
    group = next(g for g in view.model.groups if not g.mixed)
    menu = view.menu_for(group)
    action = next(a for a in menu.actions() if a.text() == "Search for this")
    action.trigger()
    assert window.search_bar.edit.text() == group.name
    qtbot.waitUntil(
        lambda: window.app.query.view.terms and window.app.query.view.terms[0].value == group.name
    )
