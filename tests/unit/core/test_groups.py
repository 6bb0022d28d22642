"""Explore's groups with the tiny test CLIP on generated shapes: groups follow colour and shape, their names name
them, an absent concept never names a group, and the groups stay current as photos come and go."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from helpers import make_photos, new_library
from shapes import BACKGROUNDS, COLOURS, SHAPES, Kind

from photofinder.core.explore import clusters, groups
from photofinder.core.explore.naming import MIXED, Vocabulary, vocabulary
from photofinder.core.find.query import Filters, Query
from photofinder.core.find.search import Searcher
from photofinder.core.ingest.indexer import Indexer

KNOWN = {"a", "an", "something", "on", "background", *COLOURS, *SHAPES, *BACKGROUNDS}


def known_vocabulary(embedder) -> Vocabulary:
    """The shipped vocabulary's phrases made of words the tiny model was trained on (every other word is noise
    to it): its colours and shapes, present in the library or not, and its backgrounds."""
    phrases = [p for p in vocabulary() if set(p.split()) <= KNOWN]
    return Vocabulary(phrases, embedder.encode_text(phrases))


@pytest.fixture
def grouped(store, photos, tiny_embedder):
    folder, kinds = photos
    lib = new_library(store, folder)
    Indexer(lib, tiny_embedder).run()
    with Searcher(lib, tiny_embedder) as s:
        cut = s.calibration()
    with lib.open_catalog() as c:
        found = groups.regroup(lib, c, known_vocabulary(tiny_embedder), cut)
        yield lib, c, found, kinds, cut


def kinds_in(catalog, group_id: int, kinds: dict[Path, Kind]) -> Counter:
    paths = catalog.photos(catalog.group_photo_ids(group_id).tolist())
    return Counter(kinds[Path(p)] for p, _ in paths.values())


def test_groups_follow_colour_and_shape_and_their_names_name_them(grouped):
    lib, c, found, kinds, _ = grouped
    assert sum(g.count for g in found.groups) == len(kinds)
    red_circles = 0
    for g in found.groups:
        inside = kinds_in(c, g.id, kinds)
        assert sum(inside.values()) == g.count
        (main, n), *_ = inside.most_common()
        assert n == g.count, f"group {g.name!r} mixes {inside}"  # one kind per group on this library
        if not g.mixed:  # a name names the group's shape or colour, never another's
            assert main.colour in g.name or main.shape in g.name, (g.name, main)
        if main.shape == "circle" and main.colour == "red":
            red_circles += 1
            assert "red" in g.name and "circle" in g.name, g.name
    assert red_circles == 2  # on white and on black


def test_an_absent_concept_never_names_a_group(grouped):
    """The vocabulary holds every colour-shape pair; only those of the group's own photos may name it."""
    _, c, found, kinds, _ = grouped
    pairs = [f"{colour} {shape}" for colour in COLOURS for shape in SHAPES]
    named = 0
    for g in found.groups:
        (main, _), *_ = kinds_in(c, g.id, kinds).most_common()
        for pair in pairs:
            if pair in g.name:
                named += 1
                assert pair == f"{main.colour} {main.shape}", (g.name, main)
    assert named >= 4


def test_a_group_no_phrase_fits_is_called_mixed(store, photos, tiny_embedder):
    folder, _ = photos
    lib = new_library(store, folder)
    Indexer(lib, tiny_embedder).run()
    absent = ["a green circle", "a blue star", "a pink heart", "a yellow square"]
    with Searcher(lib, tiny_embedder) as s:
        cut = s.calibration()
    with lib.open_catalog() as c:
        found = groups.regroup(lib, c, Vocabulary(absent, tiny_embedder.encode_text(absent)), cut)
    assert found.groups and all(g.name == MIXED for g in found.groups), [g.name for g in found.groups]


def test_search_within_a_group_finds_its_photos_only(grouped, tiny_embedder):
    lib, c, found, kinds, _ = grouped
    g = next(g for g in found.groups if "red circle" in g.name)
    with Searcher(lib, tiny_embedder) as s:
        browse = s.run(Query(filters=Filters(group=g.id)), top=100)
        query = s.run(Query(parse_terms("a red circle"), Filters(group=g.id)), top=100)
        none = s.run(Query(filters=Filters(group=10_000)), top=100)
    ids = set(c.group_photo_ids(g.id).tolist())
    assert {r.id for r in browse.results} == ids
    assert {r.id for r in query.results} == ids
    assert none.results == []


def parse_terms(text: str):
    from photofinder.core.find.query import parse

    return tuple(parse(text))


def test_new_photos_join_their_group_and_deleted_ones_leave_it(grouped, tiny_embedder, photos):
    lib, c, found, kinds, _ = grouped
    folder, _ = photos
    red_square = next(
        g
        for g in found.groups
        if Counter(kinds_in(c, g.id, kinds)).most_common()[0][0].shape == "square" and "red" in g.name
    )
    before = red_square.count
    new = make_photos(folder / "new", [Kind("square", "red", "white")], 2, seed=7)
    gone = next(p for p, k in kinds.items() if k == Kind("circle", "blue", "white"))
    gone.unlink()
    Indexer(lib, tiny_embedder).run()
    assert not groups.needs_regroup(c)  # a few photos: no regrouping
    assert groups.update(c) == 2
    after = groups.read(c)
    assert after.find(red_square.id).count == before + 2
    blue = next(g for g in after.groups if g.name and "blue" in g.name)
    assert blue.count == 4  # the deleted photo left (a trigger), without any update
    ids = c.group_photo_ids(red_square.id).tolist()
    assert {p for p, _ in c.photos(ids).values()} >= {str(p) for p in new}


def test_the_library_is_grouped_again_when_it_changed_a_lot(grouped, tiny_embedder, photos):
    lib, c, found, _, _ = grouped
    folder, _ = photos
    make_photos(folder / "many", [Kind("triangle", "blue", "black")], 20, seed=3)
    Indexer(lib, tiny_embedder).run()
    assert groups.needs_regroup(c)
    again = groups.current(lib, c, lambda: tiny_embedder)
    assert again.photos == 60
    assert max(g.id for g in again.groups) > max(
        g.id for g in found.groups
    )  # new ids: an old one matches none
    assert any(g.count >= 20 for g in again.groups)


def test_the_vocabulary_is_encoded_once_per_model(tmp_path, counting):
    calls = []
    inner = counting.encode_text
    counting.encode_text = lambda texts: calls.append(len(texts)) or inner(texts)
    first = Vocabulary.for_embedder(counting, tmp_path)
    second = Vocabulary.for_embedder(counting, tmp_path)
    assert len(first.phrases) >= 1500 and "a red circle" in first.phrases
    assert sum(calls) == len(first.phrases)  # the second came from the cache
    assert np.allclose(first.vectors, second.vectors)


def test_merging_keeps_alike_photos_together_and_caps_the_count():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(40, 16))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    means = np.repeat(centres, 5, axis=0) * 0.9 + rng.normal(scale=0.01, size=(200, 16))
    top, sub = clusters.merge(means.astype(np.float32), np.full(200, 50), 10_000)
    assert len(set(top.tolist())) <= clusters.MAX_GROUPS
    for c in range(40):  # the five fine clusters of one subject stay in one group
        assert len(set(top[c * 5 : c * 5 + 5].tolist())) == 1


def test_an_empty_library_has_no_groups_and_needs_no_model(store, tmp_path):
    lib = new_library(store, tmp_path)
    with lib.open_catalog() as c:
        out = groups.current(lib, c, lambda: pytest.fail("the model was loaded"))
    assert out.groups == []


def test_a_vocabulary_of_ones_own_in_the_data_folder_is_used(data_dir, tmp_path, counting):
    (data_dir / "explore_vocabulary.txt").write_text("# mine\nthe cat Felix\n\na red circle\n")
    own = Vocabulary.for_embedder(counting, tmp_path)
    assert own.phrases == ["the cat Felix", "a red circle"]
