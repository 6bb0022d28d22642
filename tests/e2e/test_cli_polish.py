"""The command line tried as a new user tries it: a query typed wrong, a pipe into head, paths for scripts,
-v anywhere, a mistyped library name, --help that says what happens, and a re-index that starts quickly."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import QUERY_KINDS, make_dng

RED_ON_WHITE = QUERY_KINDS[0].caption


@pytest.mark.parametrize(
    "query, why",
    [
        ('a red circle -"a black background', "not closed"),
        ('a red circle - "a black background', "not closed"),
        ("-", "a lone '-'"),
        ("+", "a lone '+'"),
        ("a red circle -", "a lone '-'"),
        ("a red circle - - people", "a lone '-'"),
    ],
)
def test_a_query_typed_wrong_is_refused_not_searched_as_words(cli, query, why):
    r = cli("search", query, check=False)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.startswith("photofinder search: ") and why in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_an_apostrophe_is_a_letter_and_a_closed_quote_still_excludes(cli, indexed):
    folder, kinds = indexed
    ok = json.loads(cli("search", "a child's red circle", "-n", "3", "--json").stdout)
    assert len(ok["results"]) == 3
    out = json.loads(cli("search", 'a red circle -"a black background"', "-n", "5", "--json").stdout)
    assert [kinds[Path(r["path"])] for r in out["results"]] == [QUERY_KINDS[0]] * 5


class _ClosedPipe(io.StringIO):
    """stdout whose reader went away after the first line (`| head -1`)."""

    def write(self, s: str) -> int:
        if self.tell() and s:
            raise BrokenPipeError(32, "Broken pipe")
        return super().write(s.split("\n", 1)[0] + "\n" if "\n" in s else s)


def test_a_reader_that_stops_early_ends_the_command_quietly(cli, indexed, monkeypatch, capsys):
    from photofinder.cli import main

    pipe = _ClosedPipe()
    monkeypatch.setattr(sys, "stdout", pipe)
    assert main(["search", RED_ON_WHITE, "-n", "20", "--all"]) == 0
    assert len(pipe.getvalue().splitlines()) == 1
    assert "Broken pipe" not in capsys.readouterr().err


def test_a_real_pipe_closed_at_once_is_exit_0_and_silent(cli, indexed):
    """As `photofinder search ... | true` in a shell: a real process, a real pipe, nothing on stderr."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "photofinder", "search", RED_ON_WHITE, "-n", "20", "--all"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=os.environ.copy(),
    )
    proc.stdout.close()  # the reader is gone before the first result is written
    err = proc.stderr.read().decode()
    assert proc.wait(60) == 0 and err == ""


def test_paths_alone_for_scripts_and_nul_ended_for_xargs(cli, photos, tiny_model):
    folder, kinds = photos  # a copy of its own: a photo is added to it
    cli("index", str(folder), "--model", tiny_model, "--ocr", "off")  # no words pass: not what is tested here
    scored = cli("search", RED_ON_WHITE, "-n", "5", "--all").stdout.splitlines()
    paths = cli("search", RED_ON_WHITE, "-n", "5", "--all", "--paths").stdout.splitlines()
    assert paths == [line.split("  ", 1)[1] for line in scored]
    assert all(Path(p).is_file() for p in paths)
    odd = folder / "two words\nand a newline.jpg"
    shutil.copy(next(iter(kinds)), odd)
    cli("index", "--ocr", "off")
    everything = cli("search", RED_ON_WHITE, "-n", "41", "--all", "-0").stdout
    assert everything.endswith("\0") and "\n" in everything  # one name holds a newline: only NUL can end it
    names = everything[:-1].split("\0")
    assert len(names) == 41 and str(odd) in names and {Path(n) for n in names} <= set(kinds) | {odd}
    r = cli("search", "x", "--json", "--paths", check=False)
    assert r.returncode == 2 and "not allowed with" in r.stderr


def test_verbose_is_read_before_and_after_the_command():
    from photofinder.cli import build_parser

    p = build_parser()
    assert p.parse_args(["-v", "index"]).verbose and p.parse_args(["index", "-v"]).verbose
    assert p.parse_args(["libraries", "list", "--verbose"]).verbose
    assert not p.parse_args(["index"]).verbose and not p.parse_args(["search", "x"]).verbose


def test_verbose_after_the_command_logs(cli, indexed, caplog):
    import logging

    caplog.set_level(logging.DEBUG, logger="photofinder")
    cli("index")
    assert not [r for r in caplog.records if r.levelno == logging.INFO]  # main() set the log to warnings
    cli("index", "-v")
    assert [r for r in caplog.records if r.levelno == logging.INFO and r.name.startswith("photofinder")]


def test_hidden_duplicates_print_scores_in_order(cli, tmp_path, shape_folder, tiny_model):
    """A group stands where its best-matching member ranked; the score printed is that member's, not the one
    of the copy kept (the biggest), so the column stays sorted."""
    from PIL import Image

    src, kinds = shape_folder
    folder = tmp_path / "shots"
    shutil.copytree(src, folder)
    shot = folder / sorted(p.name for p, k in kinds.items() if k == QUERY_KINDS[0])[0]
    # the shot's RAW with a smaller preview: one picture, two files (a RAW + JPEG pair is grouped only when its
    # pixels agree, so a JPEG edited into another picture would no longer join it)
    make_dng(shot.with_suffix(".dng"), Image.open(shot).resize((240, 180)))
    cli("index", str(folder), "--model", tiny_model, "--ocr", "off")  # no words pass: not what is tested here
    args = ("search", RED_ON_WHITE, "-n", "20", "--all", "--hide-duplicates")
    out = cli(*args)
    assert re.search(r"\d+ duplicates? hidden", out.stderr)
    lines = out.stdout.splitlines()
    scores = [float(line.split("  ", 1)[0]) for line in lines]
    assert scores == sorted(scores, reverse=True)
    shown = next(
        i for i, line in enumerate(lines) if line.endswith((str(shot), str(shot.with_suffix(".dng"))))
    )
    assert shown < 5  # the group ranks among the red circles on white, shown once
    j = json.loads(cli(*args, "--json").stdout)
    assert [r["score"] for r in j["results"]] == sorted((r["score"] for r in j["results"]), reverse=True)


def test_a_mistyped_library_name_with_a_folder_is_refused_until_new(cli, indexed, tmp_path, tiny_model):
    other = tmp_path / "other"
    other.mkdir()
    r = cli("index", str(other), "--library", "Fotos", check=False)
    assert r.returncode == 2
    assert "no library named 'Fotos' (libraries: Photos)" in r.stderr and "--new" in r.stderr
    assert [lib["name"] for lib in json.loads(cli("libraries", "--json").stdout)["libraries"]] == ["Photos"]
    cli("index", str(other), "--library", "Fotos", "--new", "--model", tiny_model)
    assert cli("folders", "--library", "Fotos").stdout.splitlines() == [str(other)]


def test_search_help_says_a_different_model_is_refused_and_it_is(cli, indexed, tiny_model, tmp_path):
    helptext = " ".join(cli("search", "--help").stdout.split())
    assert "--model MODEL" in helptext and "a different one is refused" in helptext
    assert "instead of" not in helptext
    moved = tmp_path / "moved-model"
    shutil.copytree(tiny_model, moved)  # the same model in another folder: searched with
    assert (
        len(json.loads(cli("search", RED_ON_WHITE, "-n", "2", "--model", moved, "--json").stdout)["results"])
        == 2
    )
    other = tmp_path / "other-model"
    shutil.copytree(tiny_model, other)
    config = json.loads((other / "config.json").read_text())
    (other / "config.json").write_text(json.dumps({**config, "logit_scale_init_value": 1.0}))  # another model
    r = cli("search", RED_ON_WHITE, "--model", other, check=False)
    assert r.returncode == 1 and "was indexed with the model" in r.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="only Linux tells 'no GPU' without torch")
def test_an_unchanged_re_index_never_imports_torch(cli, indexed):
    probe = (
        "import sys; from photofinder.core.encode import choose as encoders; encoders.GPU_DEVICE_FILES = ('/no/gpu/here',); "
        "from photofinder.cli import main; rc = main(['index']); "
        "print('IMPORTED', rc, [m for m in ('torch', 'transformers') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert "IMPORTED 0 []" in out.stdout, out.stdout + out.stderr
