"""The photofinder command line, run as a user would: exit codes, one-line messages, JSON on stdout.

Most tests run it in this process (the `cli` fixture: `main(argv)` with stdout and stderr captured), which is
what a shell runs minus the interpreter's start; the tests of what only a real process shows (its stderr as a
whole, a closed pipe, an exit status through `python -m`) run `pf`, a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from helpers import QUERY_KINDS


def pf(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    r = subprocess.run(
        [sys.executable, "-m", "photofinder", *args],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=120,
    )
    if check:
        assert r.returncode == 0, r.stderr
    return r


def test_index_search_similar_and_libraries(cli, photos, tiny_model, tmp_path):
    folder, kinds = photos
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    # no words pass (--ocr off): test_text_and_place_searches_from_the_command_line runs it
    report = json.loads(cli("index", str(folder), "--model", tiny_model, "--ocr", "off", "--json").stdout)
    assert report["indexed"] == len(kinds) and report["unchanged"] == report["removed"] == 0
    assert report["skipped"] == [{"path": str(folder / "broken.png"), "reason": "not an image"}]

    again = json.loads(cli("index", "--ocr", "off", "--json").stdout)  # the library remembers folders, model
    assert (again["indexed"], again["unchanged"]) == (0, len(kinds) + 1)

    kind = QUERY_KINDS[3]
    out = json.loads(cli("search", kind.caption, "--top", "5", "--json").stdout)
    assert len(out["results"]) == 5
    assert sum(kinds[Path(r["path"])] == kind for r in out["results"]) >= 4

    target = next(p for p, k in kinds.items() if k == kind)
    sim = json.loads(cli("similar", str(target), "-n", "3", "--json").stdout)
    assert all(kinds[Path(r["path"])] == kind for r in sim["results"])
    by_image = json.loads(cli("search", "--image", str(target), "-n", "1", "--json").stdout)
    assert by_image["results"][0]["path"] == str(target)

    text = cli("search", kind.caption, "-n", "2").stdout.splitlines()
    assert len(text) == 2 and text[0].split("  ", 1)[1] in {str(p) for p in kinds}

    libs = json.loads(cli("libraries", "--json").stdout)["libraries"]
    assert libs == [
        {"name": "Photos", "photos": len(kinds), "skipped": 1, "folders": [str(folder)], "model": tiny_model}
    ]


def test_bad_arguments_exit_non_zero_with_one_line(cli, tmp_path, tiny_model):
    r = cli("index", str(tmp_path / "nope"), "--model", tiny_model, check=False)
    assert r.returncode == 2 and "folder not found" in r.stderr
    r = cli("search", "x", "--library", "Nope", check=False)
    assert (
        r.returncode == 1
        and r.stderr.strip() == "photofinder: There is no library named 'Nope' (libraries: none yet)."
    )
    r = cli("search", check=False)
    assert r.returncode == 2 and "give TEXT, --image PATH" in r.stderr


def test_unavailable_model_is_a_message_not_a_traceback(photos):
    folder, _ = photos
    r = pf("index", str(folder), check=False)  # a new library's model (the menu's recommended), offline
    assert r.returncode == 1
    assert r.stderr.startswith(
        "photofinder: The SigLIP model 'google/siglip2-base-patch32-256' could not be loaded"
    )
    assert "about 1,550 MB" in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = pf("index", str(folder), "--model", str(folder / "no-such-model"), check=False)
    assert r.returncode == 1 and "does not exist" in r.stderr


def test_small_things_say_why(cli, photos, tiny_model, tmp_path):
    folder, kinds = photos
    r = cli("index", "--library", "Nope", check=False)
    assert r.returncode == 1 and "There is no library named 'Nope'" in r.stderr  # same status as search
    cli("index", str(folder), "--model", tiny_model, "--ocr", "off")  # no words pass: not what is tested here
    r = cli("search", "   ", check=False)
    assert r.returncode == 2 and "the query is empty" in r.stderr
    os.rename(folder / sorted(os.listdir(folder))[0], folder / "renamed.jpg")
    report = json.loads(cli("index", "--ocr", "off", "--json").stdout)
    assert (report["indexed"], report["reused"], report["removed"]) == (0, 1, 1)
    empty = tmp_path / "empty"
    empty.mkdir()
    cli("index", str(empty), "--library", "Empty", "--new", "--model", tiny_model)
    r = cli("search", "x", "--library", "Empty", check=False)
    assert r.returncode == 1 and "has no photos indexed yet" in r.stderr
    assert cli("--version").stdout.startswith("photofinder ")


def test_the_offline_message_is_cut_at_a_word():
    from photofinder.core.encode.models import explain_unavailable

    msg = explain_unavailable("m", OSError("word " * 60))
    cause = msg.split("(", 1)[1].split(")", 1)[0]
    assert cause.endswith("word …") and len(cause) < 170


def test_a_failed_first_index_leaves_no_library_and_libraries_and_folders_can_be_removed(
    cli, photos, tiny_model, tmp_path
):
    folder, kinds = photos
    r = cli("index", str(folder), "--model", str(tmp_path / "no-model"), check=False)
    assert r.returncode == 1
    assert json.loads(cli("libraries", "--json").stdout)["libraries"] == []
    other = tmp_path / "other"
    other.mkdir()
    (other / "x.jpg").write_bytes(next(iter(kinds)).read_bytes())
    # no words pass: not what is tested here
    cli("index", str(folder), str(other), "--model", tiny_model, "--ocr", "off")
    out = cli("folders", "remove", str(other)).stdout
    assert "1 photos forgotten" in out and (other / "x.jpg").exists()
    assert cli("folders").stdout.splitlines() == [str(folder)]
    r = cli("libraries", "remove", "Photos", check=False)  # no TTY to ask on: refuses without --yes
    assert r.returncode == 2 and "--yes" in r.stderr
    cli("libraries", "remove", "Photos", "--yes")
    assert json.loads(cli("libraries", "--json").stdout)["libraries"] == []
    assert all(p.exists() for p in kinds)  # the photos themselves are never touched


def test_duplicates_are_listed_and_trashed_only_with_consent(cli, tmp_path, tiny_model, shape_folder):
    import shutil

    src, kinds = shape_folder
    folder = tmp_path / "dups"
    folder.mkdir()
    one = sorted(kinds)[0]
    shutil.copy(one, folder / "a.jpg")
    shutil.copy(one, folder / "a copy.jpg")
    shutil.copy(sorted(kinds)[9], folder / "other.jpg")
    cli("index", str(folder), "--model", tiny_model, "--ocr", "off")  # no words pass: not what is tested here
    out = json.loads(cli("duplicates", "--json").stdout)
    assert len(out["groups"]) == 1 and out["groups"][0]["identical"]
    names = {Path(out["groups"][0]["keep"]["path"]).name, Path(out["groups"][0]["others"][0]["path"]).name}
    assert names == {"a.jpg", "a copy.jpg"}
    r = cli("duplicates", "--trash", check=False)  # no terminal to ask on: nothing moves
    assert r.returncode == 2 and "--yes" in r.stderr
    assert (folder / "a.jpg").exists() and (folder / "a copy.jpg").exists()


def test_search_can_hide_duplicates(cli, tmp_path, tiny_model, shape_folder):
    import shutil

    src, kinds = shape_folder
    folder = tmp_path / "dups"
    shutil.copytree(src, folder)
    one = folder / sorted(kinds)[0].name
    shutil.copy(one, folder / "copy.jpg")
    shutil.copy(one, folder / "copy 2.jpg")
    cli("index", str(folder), "--model", tiny_model, "--ocr", "off")  # no words pass: not what is tested here
    args = ("similar", str(one), "-n", "10", "--all", "--json")
    plain = json.loads(cli(*args).stdout)
    names = [Path(r["path"]).name for r in plain["results"]]
    assert {"copy.jpg", "copy 2.jpg"} <= set(names[:3]) and "duplicates" not in plain["results"][0]
    hidden = json.loads(cli(*args, "--hide-duplicates").stdout)
    by_name = {Path(r["path"]).name: r for r in hidden["results"]}
    assert hidden["hidden"] == 1 and len(hidden["results"]) == 10 - hidden["hidden"]
    copies = [
        r for r in hidden["results"] if {"copy.jpg", "copy 2.jpg"} & {Path(d).name for d in r["duplicates"]}
    ]
    assert len(copies) == 1 and not {"copy.jpg", "copy 2.jpg"} <= set(by_name)  # one tile for the copies
    text = cli("similar", str(one), "-n", "10", "--all", "--hide-duplicates")
    assert len(text.stdout.splitlines()) == len(hidden["results"]) and "1 duplicate hidden" in text.stderr


def test_combined_queries_filters_and_good_matches_from_the_command_line(cli, indexed, tmp_path):
    folder, kinds = indexed
    red_white, red_black = QUERY_KINDS[0], QUERY_KINDS[3]
    out = json.loads(cli("search", "a red circle", "--not", "a black background", "-n", "5", "--json").stdout)
    assert [kinds[Path(r["path"])] for r in out["results"]] == [red_white] * 5
    assert all(set(r) >= {"good", "date", "folder", "score"} for r in out["results"])
    inline = json.loads(cli("search", "a red circle - a black background", "-n", "5", "--json").stdout)
    assert [r["path"] for r in inline["results"]] == [r["path"] for r in out["results"]]
    star = next(p for p, k in kinds.items() if k == QUERY_KINDS[4])
    mixed = json.loads(cli("search", f"{star} + 2:a white background", "-n", "1", "--json").stdout)
    assert kinds[Path(mixed["results"][0]["path"])] == QUERY_KINDS[7]  # a star on white
    # issue 21: combined queries whose top results are right marked them "no good matches"
    for query, kind in (
        ("a star + a gray background", QUERY_KINDS[4]),
        ("a red shape + a black background", red_black),
    ):
        both = json.loads(cli("search", query, "--json").stdout)["results"]
        assert [kinds[Path(r["path"])] for r in both if r["good"]] == [kind] * 5, query  # all, and only them
    good = cli("search", red_black.caption, "-n", "20")
    assert 3 <= len(good.stdout.splitlines()) < 20 and "--all shows them" in good.stderr  # good ones only
    assert len(cli("search", red_black.caption, "-n", "20", "--all").stdout.splitlines()) == 20
    (tmp_path / "elsewhere").mkdir()
    none = json.loads(cli("search", "x", "--folder", str(tmp_path / "elsewhere"), "--json").stdout)
    assert none["results"] == []
    pngs = cli("search", "a circle", "--type", "png", "--json")
    assert json.loads(pngs.stdout)["results"] == []  # there are only JPEGs
    r = cli("search", "a circle", "--after", "last summer", check=False)
    assert r.returncode == 2 and "is not a date" in r.stderr


def test_text_and_place_searches_from_the_command_line(cli, tmp_path, tiny_model, places_read_once):
    from shapes import draw
    from words_images import PLACES, text_photos, with_gps

    folder = tmp_path / "photos"
    words = text_photos(folder)
    import numpy as np

    rng = np.random.default_rng(2)
    geo = {
        n: with_gps(draw(QUERY_KINDS[0], (320, 240), rng), folder / f"geo-{n}.jpg", *c)
        for n, c in PLACES.items()
    }
    report = json.loads(cli("index", str(folder), "--model", tiny_model, "--json").stdout)
    assert report["words"]["with_text"] >= len(words)  # the words pass ran after indexing (--ocr auto)
    out = json.loads(cli("search", "--text", "OPEN 24 hours", "--json").stdout)["results"]
    assert [r["path"] for r in out] == [str(words["bakery"])]
    assert out[0]["words"] == "Bakery open 24 hours" and out[0]["matched"] == ["Bakery open 24 hours"]
    # with CLIP terms and a filter; and the search bar's text:"..." syntax means the same
    both = json.loads(cli("search", "a red circle", "--text", "total", "--type", "jpg", "--json").stdout)[
        "results"
    ]
    assert [r["path"] for r in both] == [str(words["total"])]
    inline = json.loads(cli("search", 'text:"wifi password"', "--json").stdout)["results"]
    assert [r["path"] for r in inline] == [str(words["wifi"])]
    placed = json.loads(cli("search", "--place", "portugal", "--json").stdout)["results"]
    assert sorted(r["path"] for r in placed) == sorted([str(geo["lisbon"]), str(geo["porto"])])
    assert {r["place"]["city"] for r in placed} == {"Lisbon", "Porto"}
    plain = cli("search", "--place", "Île-de-France").stdout.split()
    assert plain[-1] == str(geo["paris"])
    assert json.loads(cli("search", "--place", "Atlantis", "--json").stdout)["results"] == []
