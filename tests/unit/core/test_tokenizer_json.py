"""tokenizer.json read in steps (so the first search does not stall the window) reads what json.loads reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from photofinder.core.encode.onnx_run import read_tokenizer_json

MODELS = Path(__file__).resolve().parents[2] / "models"


@pytest.mark.parametrize("model", ["tiny-clip", "tiny-siglip"])
def test_a_shipped_tokenizer_reads_as_json_loads_reads_it(model):
    text = (MODELS / model / "tokenizer.json").read_text(encoding="utf-8")
    assert read_tokenizer_json(text) == json.loads(text)


def _spec(vocab, merges, **model):
    return {
        "version": "1.0",
        "added_tokens": [{"id": 0, "content": "vocab"}],
        "model": {"type": "BPE", **model, "vocab": vocab, "merges": merges},
        "decoder": {"type": "ByteLevel"},
    }


@pytest.mark.parametrize(
    "spec",
    [
        _spec({'"': 0, "\\": 1, 'a"b,}': 2, "é": 3, "vocab": 4, "merges": 5}, ["a b", '" \\']),
        _spec({"a": 0, "b": 1}, [["a", "b"], ['a"]', ",b"]]),  # pairs, as tokenizers >= 0.20 write them
        _spec({}, []),
        _spec({"a": 0}, [], dropout=None, unk_token="a"),
    ],
)
@pytest.mark.parametrize("indent", [None, 2])
def test_escapes_pairs_empties_and_layouts_read_the_same(spec, indent):
    text = json.dumps(spec, indent=indent, ensure_ascii=indent is None)
    assert read_tokenizer_json(text) == json.loads(text) == spec


def test_an_unexpected_layout_falls_back_to_json_loads():
    merges_first = '{"model": {"type": "BPE", "merges": ["a b"], "vocab": {"a": 0, "b": 1, "ab": 2}}}'
    assert read_tokenizer_json(merges_first) == json.loads(merges_first)
    nested = '{"model": {"type": "Unigram", "vocab": [["a", -1.0]]}, "merges": []}'
    assert read_tokenizer_json(nested) == json.loads(nested)
