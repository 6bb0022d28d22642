"""The Places facet: country › region › city, each with its photo count, from the photos' GPS."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHeaderView, QTreeWidget, QTreeWidgetItem

from photofinder.core.photos.places import SEP, Place

PlaceRole = Qt.ItemDataRole.UserRole + 1


class PlacesTree(QTreeWidget):
    """The places a library's photos were taken in; hidden while it has none (it then adds nothing to the
    window's minimum size)."""

    def __init__(self) -> None:
        super().__init__()
        self.setHeaderHidden(True)
        self.setColumnCount(2)
        header = self.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.setMaximumHeight(120)
        self.setMinimumHeight(36)  # the panel must not raise the window's minimum height
        self.setToolTip("Where the photos were taken, from their GPS (photos without GPS are in none)")
        self.setAccessibleName("Places")
        self.hide()

    def set_places(self, places: dict[str, int], chosen: str | None) -> None:
        """Country › region › city, each with the photos taken there (summed from the stored counts per city)."""
        self.clear()
        tree: dict[tuple[str, ...], int] = {}
        for key, n in places.items():
            parts = Place.from_key(key)
            for depth in (1, 2, 3):
                path = (parts.country, parts.region, parts.city)[:depth]
                tree[path] = tree.get(path, 0) + n
        items: dict[tuple[str, ...], QTreeWidgetItem] = {}
        for path in sorted(tree, key=lambda p: (len(p), p)):
            parent = items.get(path[:-1])
            item = QTreeWidgetItem(parent or self, [path[-1] or "(no region)", f"{tree[path]:,}"])
            item.setData(0, PlaceRole, SEP.join(path))
            items[path] = item
            if chosen == SEP.join(path):
                item.setSelected(True)
        self.setVisible(bool(places))

    def place_item(self, name: str) -> QTreeWidgetItem | None:
        """The tree's item of a country, region or city (by its name; the first at the shallowest level)."""
        found = self.findItems(name, Qt.MatchFlag.MatchExactly | Qt.MatchFlag.MatchRecursive, 0)
        return found[0] if found else None

    def chosen(self) -> str | None:
        """The place chosen (its key, country/region/city joined), or None."""
        sel = self.selectedItems()
        return sel[0].data(0, PlaceRole) if sel else None
