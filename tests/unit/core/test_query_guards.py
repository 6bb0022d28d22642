"""Guards that an earlier suite let slip (issue 19): each test here was seen red with its breakage.

- a term's weight is what counts, not its vector's length (the vectors are normalised before the weighted sum);
- "square" means within 5 % of square, and landscape/portrait start beyond that;
- a filter that allows more photos than are scored one by one still filters (its ids go to FAISS).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from helpers import QUERY_KINDS, new_library
from shapes import draw

from photofinder.core.find.query import TEXT, Filters, Query, Term, combine, combine_with_norm
from photofinder.core.find.search import Searcher
from photofinder.core.ingest.indexer import Indexer


def test_a_terms_weight_counts_not_the_length_of_its_vector():
    a = np.array([1.0, 0.0, 0.0], np.float32)  # a unit vector
    b = np.array([0.0, 10.0, 0.0], np.float32)  # a long one (an unnormalised image or stored vector)
    np.testing.assert_allclose(combine(np.stack([a, b]), [1.0, 1.0]), [2**-0.5, 2**-0.5, 0], atol=1e-6)
    np.testing.assert_allclose(
        combine(np.stack([a, b]), [3.0, 1.0]), np.array([3, 1, 0]) / 10**0.5, atol=1e-6
    )
    _, norm = combine_with_norm(np.stack([a, b * 0.1]), [1.0, -1.0])
    assert norm == pytest.approx(2**0.5)  # the length of the sum of the unit vectors


@pytest.fixture
def shaped(store, tmp_path, counting):
    """Photos of known sizes: square, 3 % off square either way, and 10 % off either way."""
    folder = tmp_path / "sizes"
    folder.mkdir()
    sizes = {
        "square": (300, 300),
        "wide-3pc": (309, 300),
        "tall-3pc": (300, 309),
        "wide-10pc": (330, 300),
        "tall-10pc": (300, 330),
        "wide": (400, 300),
        "tall": (300, 400),
    }
    for i, (name, size) in enumerate(sizes.items()):
        draw(QUERY_KINDS[i], size, np.random.default_rng(i), centred=True).save(folder / f"{name}.jpg")
    lib = new_library(store, folder)
    Indexer(lib, counting).run()
    return lib


def test_square_is_within_5_percent_and_landscape_and_portrait_beyond(shaped, counting):
    with Searcher(shaped, counting) as s:

        def names(orientation):
            found = s.run(Query((), Filters(orientation=orientation)), top=50).results
            return {Path(r.path).stem for r in found}

        assert names("square") == {"square", "wide-3pc", "tall-3pc"}
        assert names("landscape") == {"wide-10pc", "wide"}
        assert names("portrait") == {"tall-10pc", "tall"}


def test_a_filter_goes_into_the_faiss_search(store, tmp_path, counting, shape_folder):
    """Every filter goes into the FAISS search (a selector): its results are the filter's, the same ones an
    unfiltered search gives once the other photos are struck out."""
    src, kinds = shape_folder
    folder = tmp_path / "all"
    shutil.copytree(src, folder / "many")
    few = folder / "few"
    few.mkdir()
    for i, k in enumerate(QUERY_KINDS):
        draw(k, (320, 240), np.random.default_rng(90 + i), centred=True).save(few / f"{k.slug}.jpg")
    lib = new_library(store, folder)
    Indexer(lib, counting).run()
    query = Query((Term(TEXT, QUERY_KINDS[0].caption),), Filters(folder=str(few)))
    with Searcher(lib, counting) as s:
        everything = [r.path for r in s.run(Query(query.terms), top=10_000).results]
        exact = [p for p in everything if Path(p).parent == few][:5]
        through_faiss = [r.path for r in s.run(query, top=5).results]
    assert all(Path(p).parent == few for p in through_faiss)
    assert through_faiss == exact and len(exact) == 5
