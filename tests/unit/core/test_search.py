"""Search works end to end with the tiny test CLIP: text, image and find-similar rank the right photos first."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from helpers import QUERY_KINDS, new_library
from shapes import draw

from photofinder.core.errors import ModelMismatchError
from photofinder.core.find.search import Searcher
from photofinder.core.ingest.indexer import Indexer


@pytest.fixture
def indexed(store, photos, tiny_embedder):
    folder, kinds = photos
    lib = new_library(store, folder)
    Indexer(lib, tiny_embedder).run()
    with Searcher(lib, tiny_embedder) as s:
        yield s, kinds


def test_text_queries_rank_the_right_photos_first(indexed):
    s, kinds = indexed
    precisions = []
    for kind in QUERY_KINDS:
        top = s.by_text(kind.caption, top=5)
        precisions.append(np.mean([kinds[Path(r.path)] == kind for r in top]))
        assert [r.score for r in top] == sorted((r.score for r in top), reverse=True)
    assert np.mean(precisions) >= 0.8, precisions


def test_find_similar_returns_the_same_kind_and_not_itself(indexed):
    s, kinds = indexed
    hits = 0
    for path, kind in list(kinds.items())[::5]:
        results = s.similar(str(path), top=4)
        assert str(path) not in [r.path for r in results]
        hits += sum(kinds[Path(r.path)] == kind for r in results)
    assert hits / (4 * len(QUERY_KINDS)) >= 0.8


def test_search_by_a_new_image_file_bytes_or_in_memory_image(indexed, tmp_path):
    s, kinds = indexed
    kind = QUERY_KINDS[4]
    img = draw(kind, (400, 300), np.random.default_rng(99), centred=True)
    img.save(tmp_path / "query.png")
    by_file = s.by_image(tmp_path / "query.png", top=5)
    by_bytes = s.by_image((tmp_path / "query.png").read_bytes(), top=5)
    by_pil = s.by_image(img, top=5)
    assert [r.path for r in by_file] == [r.path for r in by_bytes]
    assert sum(kinds[Path(r.path)] == kind for r in by_file) >= 4
    assert (
        sum(kinds[Path(r.path)] == kind for r in by_pil) >= 4
    )  # no decode shortcut: may rank ties otherwise


def test_vanished_photos_are_dropped_from_results(indexed):
    s, kinds = indexed
    kind = QUERY_KINDS[0]
    first = s.by_text(kind.caption, top=3)
    os.remove(first[0].path)
    again = s.by_text(kind.caption, top=3)
    assert first[0].path not in [r.path for r in again] and len(again) == 3


def test_empty_library_and_empty_query_return_nothing(store, tiny_embedder, tmp_path):
    lib = new_library(store, tmp_path)
    with Searcher(lib, tiny_embedder) as s:
        assert s.by_text("a red circle") == [] and s.size == 0


def test_searching_with_another_model_is_refused(indexed, store):
    s, _ = indexed

    class Other:
        model_id = "someone/else"
        fingerprint = "sha256:another-model"

    with Searcher(s.library, Other()) as other:  # type: ignore[arg-type]
        with pytest.raises(ModelMismatchError):
            other.by_text("a red circle")


def test_search_sees_photos_indexed_after_it_opened(store, photos, tiny_embedder):
    folder, kinds = photos
    lib = new_library(store, folder)
    with Searcher(lib, tiny_embedder) as s:
        assert s.by_text("a red circle") == []
        Indexer(lib, tiny_embedder).run()
        assert len(s.by_text("a red circle", top=5)) == 5
