"""The filter panel's counts from the catalog's stored facets: a folder counts what lies below it."""

from __future__ import annotations

from datetime import datetime

import numpy as np

from photofinder.core.store.catalog import INDEXED, PhotoRecord
from photofinder.gui.filters.facet_feed import count_facets


def test_folders_count_their_subfolders_and_months_make_years(store, tmp_path):
    lib = store.create("L")
    root = str(tmp_path / "r")
    ns = int(datetime(2021, 4, 2, 12).timestamp() * 1e9)
    paths = ["a/b/1.jpg", "a/b/2.jpg", "a/3.png", "4.jpg", "c/5.jpeg"]
    with lib.open_catalog() as c:
        c.add_folder(root)
        c.bind_model("m", 4, None)
        c.upsert(
            PhotoRecord(f"{root}/{p}", root, 1, ns, p, INDEXED, taken=t, embedding=np.ones(4, np.float32))
            for p, t in zip(paths, ["2019-05-01T00:00:00", None, None, "2019-06-01T00:00:00", None])
        )
        c.upsert([PhotoRecord("/elsewhere/x.jpg", "/elsewhere", 1, ns, "x", INDEXED, embedding=np.ones(4))])
    f = count_facets(lib)
    assert f.folders == {
        root: 5,
        f"{root}/a": 3,
        f"{root}/a/b": 2,
        f"{root}/c": 1,
        "/elsewhere": 1,  # outside every folder of the library (a folder removed meanwhile): counted alone
    }
    assert f.months == {"2019-05": 1, "2019-06": 1, "2021-04": 4}
    assert f.years == {2019: 2, 2021: 4} and f.photos == 6
    assert f.types == {"jpg": 5, "png": 1}
