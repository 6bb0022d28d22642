"""Words in photos and places (issue 22): a word finds its photo first, the gate lets text through and keeps
plain photos out, words follow renames, edits and deletions, and a place name finds exactly the photos taken
there. The OCR engine is the real one (its models ship in the rapidocr wheel); a few small images keep it fast.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from helpers import QUERY_KINDS, make_photos, new_library
from shapes import draw
from words_images import PLACES, sign, text_photos, with_gps

from photofinder.core.find.query import Filters, Query, Term
from photofinder.core.find.search import Searcher
from photofinder.core.ingest.indexer import Indexer
from photofinder.core.ingest.ocr import TextReader
from photofinder.core.ingest.wordpass import WordsPass
from photofinder.core.photos.places import Place, matching_keys, place_of


class CountingReader(TextReader):
    """The real reader, counting the photos it reads in full (the costly step)."""

    def __init__(self):
        super().__init__()
        self.reads = 0

    def read(self, image):
        self.reads += 1
        return super().read(image)


@pytest.fixture(scope="module")
def reader():
    return CountingReader()


@pytest.fixture(scope="module")
def words_made(tmp_path_factory, tiny_embedder, reader, places_read_once):
    """The photos and their library, indexed and read once for the module (1.5-2 s), with a copy of both kept."""
    from photofinder.core.store.library import LibraryStore

    root = tmp_path_factory.mktemp("words")
    folder = root / "photos"
    words = text_photos(folder)
    make_photos(folder / "plain", QUERY_KINDS[:4], 1)
    rng = np.random.default_rng(3)
    geo = {
        name: with_gps(draw(QUERY_KINDS[5], (320, 240), rng), folder / f"geo-{name}.jpg", lat, lon)
        for name, (lat, lon) in PLACES.items()
    }
    lib = new_library(LibraryStore(root / "data"), folder)
    Indexer(lib, tiny_embedder, thumbnails=False).run()
    report = WordsPass(lib, tiny_embedder, mode="auto", reader=reader).run()
    for made in ("photos", "data"):
        shutil.copytree(root / made, root / f"{made}.made")  # copy2: the times kept, so nothing looks changed
    return root, lib, words, geo, report


@pytest.fixture
def words_library(words_made):
    """Each test gets the photos and the library as they were made, at the same paths (the catalog holds them)."""
    root, lib, words, geo, report = words_made
    for made in ("photos", "data"):
        shutil.rmtree(root / made)
        shutil.copytree(root / f"{made}.made", root / made)
    return lib, root / "photos", words, geo, report


def _text_search(lib, embedder, text, terms=()):
    with Searcher(lib, embedder) as s:
        return s.run(Query(tuple(terms), Filters(text=text))).results


def test_a_word_finds_its_photo_first_case_and_accents_aside(words_library, tiny_embedder):
    lib, folder, words, _, report = words_library
    assert report.with_text >= len(words)
    for word, path in words.items():
        found = _text_search(lib, tiny_embedder, word)
        assert found and found[0].path == str(path), (word, [r.path for r in found])
        assert found[0].words and word.lower() in found[0].words.lower()
        assert found[0].matched  # the lines that hold the word, for JSON and the details line
    # every word of a phrase, any order; case and accents set aside on both sides
    assert [r.path for r in _text_search(lib, tiny_embedder, "24 HOURS open")] == [str(words["bakery"])]
    assert [r.path for r in _text_search(lib, tiny_embedder, "café ZOÉ")] == [str(words["wifi"])]
    assert _text_search(lib, tiny_embedder, "giraffe") == []
    # with a CLIP term: only photos holding the words, ranked by the term
    combined = _text_search(lib, tiny_embedder, "total", [Term("text", "a red circle")])
    assert [r.path for r in combined] == [str(words["total"])]
    # the gate read the text photos and passed over most plain ones
    with lib.open_catalog() as c:
        verdict = {p: v for p, v in c._all("SELECT path, ocr FROM photos")}
    from photofinder.core.paths import to_db

    assert all(verdict[to_db(str(p))] == 1 for p in words.values())  # recall 1.0 on the text photos
    plain = [v for p, v in verdict.items() if b"/plain/" in p or b"geo-" in p]
    assert sum(v == 0 for v in plain) >= len(plain) // 2, plain  # most plain photos are never read
    assert report.read + report.gated_out == report.looked_at


def test_words_follow_renames_edits_and_deletions(words_library, tiny_embedder, reader):
    lib, folder, words, _, _ = words_library
    moved = folder / "renamed-receipt.jpg"
    shutil.move(words["total"], moved)
    Indexer(lib, tiny_embedder, thumbnails=False).run()
    before = reader.reads
    WordsPass(lib, tiny_embedder, reader=reader).run()
    assert reader.reads == before  # the words came with the content: nothing read again
    assert [r.path for r in _text_search(lib, tiny_embedder, "total")] == [str(moved)]
    # edited in place: the old words go at once, the new ones come with the next pass
    sign("FRESH FISH", angle=2).save(words["hardware"], quality=92)
    Indexer(lib, tiny_embedder, thumbnails=False).run()
    assert _text_search(lib, tiny_embedder, "hardware") == []
    WordsPass(lib, tiny_embedder, reader=reader).run()
    assert [r.path for r in _text_search(lib, tiny_embedder, "fish")] == [str(words["hardware"])]
    # deleted: gone from search, and its words from the catalog
    moved.unlink()
    Indexer(lib, tiny_embedder, thumbnails=False).run()
    assert _text_search(lib, tiny_embedder, "total") == []
    with lib.open_catalog() as c:
        assert c._all("SELECT count(*) FROM ocr_text WHERE text LIKE '%TOTAL%'")[0][0] == 0
        assert c._all("SELECT count(*) FROM ocr_fts WHERE ocr_fts MATCH 'total'")[0][0] == 0


def test_a_place_name_finds_exactly_the_photos_taken_there(words_library, tiny_embedder):
    lib, folder, _, geo, _ = words_library

    def at(name):
        with Searcher(lib, tiny_embedder) as s:
            return sorted(r.path for r in s.run(Query((), Filters(place=name)), top=100).results)

    assert at("Portugal") == sorted([str(geo["lisbon"]), str(geo["porto"])])
    assert at("lisbon") == [str(geo["lisbon"])]
    assert at("ILE-DE-FRANCE") == [str(geo["paris"])]  # a region, accents and case aside
    assert at("Atlantis") == []
    with lib.open_catalog() as c:
        places = c.facets().places
    assert sum(places.values()) == 3  # photos without GPS are in no place
    by_country: dict[str, int] = {}
    for key, n in places.items():
        by_country[Place.from_key(key).country] = by_country.get(Place.from_key(key).country, 0) + n
    assert by_country == {"Portugal": 2, "France": 1}
    # a query with CLIP terms and a place: only that place's photos
    with Searcher(lib, tiny_embedder) as s:
        found = s.run(Query((Term("text", "a red circle"),), Filters(place="paris"))).results
    assert [r.path for r in found] == [str(geo["paris"])]
    assert found[0].gps == pytest.approx(PLACES["paris"], abs=1e-3)
    # photos indexed before places existed (a schema-7 catalog migrated to 8) get theirs from the words pass
    with lib.open_catalog() as c:
        c._exec("UPDATE photos SET geo = NULL, place = NULL, lat = NULL, lon = NULL")
        assert c.facets().places == {}
    WordsPass(lib, tiny_embedder, mode="off").run()
    with lib.open_catalog() as c:
        assert c.facets().places == places


def test_places_are_named_offline_at_every_level():
    lisbon = place_of(*PLACES["lisbon"])
    assert (lisbon.country, lisbon.region, lisbon.city) == ("Portugal", "Lisbon", "Lisbon")
    assert place_of(0.5, -30.0) is None  # mid-Atlantic: no place near enough to name
    keys = [lisbon.key, place_of(*PLACES["paris"]).key]
    assert matching_keys("paris", keys) == [keys[1]] and matching_keys("Île-de-France", keys) == [keys[1]]


def test_the_ocr_engine_reads_with_no_network(monkeypatch):
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError("the OCR engine tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    lines = TextReader().read(sign("PLATFORM 9", size=(480, 320)))
    assert [line.text for line in lines] == ["PLATFORM 9"]
