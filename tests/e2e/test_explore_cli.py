"""`photofinder explore` lists the library's groups (JSON: id, name, count, a few example paths) and
`photofinder search --group ID` lists a group's photos; a group that doesn't exist is one line, exit 1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


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


def test_explore_lists_groups_and_search_lists_one(cli, photos, tiny_model):
    folder, kinds = photos
    cli("index", str(folder), "--model", tiny_model, "--ocr", "off")  # no words pass: not what is tested here
    out = json.loads(cli("explore", "--json").stdout)
    groups = out["groups"]
    assert groups and sum(g["count"] for g in groups) == len(kinds)
    for g in groups:
        assert set(g) >= {"id", "name", "count", "examples"} and g["name"]
        assert 1 <= len(g["examples"]) <= 4
        assert len({kinds[Path(p)] for p in g["examples"]}) == 1  # alike photos: one kind of shape
    big = max(groups, key=lambda g: g["count"])
    found = json.loads(cli("search", "--group", str(big["id"]), "--top", "100", "--json").stdout)["results"]
    assert len(found) == big["count"]
    assert {r["path"] for r in found} >= set(big["examples"])
    text = cli("explore").stdout.splitlines()
    assert any(big["name"] in line and str(big["id"]) in line for line in text)

    missing = cli("search", "--group", "99999", check=False)
    assert missing.returncode == 1 and "no group 99999" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_explore_before_anything_is_indexed_says_so(tmp_path):
    r = pf("explore", check=False)
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1
