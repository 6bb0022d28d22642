"""Running an export on ONNX Runtime: sessions (with its telemetry off), the model's fast tokenizer, and the
text tower's inputs prepared as the model was trained."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from photofinder.core.gcpause import collector_paused

# ONNX Runtime (1.2x+, Linux too) starts Microsoft's 1DS telemetry when it loads: it writes a device id and an
# event database under ~/.cache/Microsoft/DeveloperTools/.onnxruntime and queues device, OS and process data for
# upload. Only this variable, set before onnxruntime is imported, stops it (disable_telemetry_events() after
# the import still leaves the files written); see no_telemetry().
os.environ["ORT_DISABLE_TELEMETRY"] = "1"


def onnxruntime() -> Any:
    """onnxruntime, imported with its telemetry off; every use in photofinder goes through here."""
    os.environ["ORT_DISABLE_TELEMETRY"] = "1"
    import onnxruntime as ort

    ort.disable_telemetry_events()
    return ort


def normalise(v: np.ndarray) -> np.ndarray:
    v = v.astype(np.float32, copy=False)
    return (v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def session(path: Path, threads: int | None) -> Any:
    ort = onnxruntime()

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads or min(os.cpu_count() or 2, 8)
    opts.inter_op_num_threads = 1
    # Idle workers sleep instead of spinning: the decode threads need those cycles (the torch path's
    # OMP_WAIT_POLICY=PASSIVE lesson; spinning cost 20-30 % here, measured on 2 cores).
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


_STRING = r'"(?:[^"\\]|\\.)*"'
_VOCAB_AT = re.compile(r'"vocab"\s*:\s*\{')
_MERGES_AT = re.compile(r'"merges"\s*:\s*\[')
_VOCAB_ITEM = re.compile(r"\s*(" + _STRING + r")\s*:\s*(-?\d+)\s*([,}])")
_MERGE_ITEM = re.compile(
    r"\s*(?:(" + _STRING + r")|\[\s*(" + _STRING + r")\s*,\s*(" + _STRING + r")\s*\])\s*([,\]])"
)
_EMPTY = re.compile(r"\s*[}\]]")


def _unquote(s: str) -> str:
    return s[1:-1] if "\\" not in s else json.loads(s)


def read_tokenizer_json(text: str) -> dict[str, Any]:
    """tokenizer.json as json.loads reads it, its BPE vocabulary and merges an entry per step.

    json.loads parses the whole file in one C call that holds the interpreter lock: 37 ms for a CLIP-sized file
    on an idle 2-core machine, 56 ms with the cores shared, the longest stall of the window's first search at a
    million photos. Here the vocabulary and merges (nearly all of the file) are read by a Python loop, which lets
    other threads run every few milliseconds, and the rest by json.loads. Anything unexpected (another layout,
    a vocabulary that is not a flat object) falls back to json.loads of the whole text: the same result, only
    not in steps.
    """
    try:
        v = _VOCAB_AT.search(text)
        if v is None:
            raise ValueError("no vocab")
        vocab: dict[str, int] = {}
        pos = v.end()
        if (e := _EMPTY.match(text, pos)) is not None:
            pos = e.end()
        else:
            while True:
                item = _VOCAB_ITEM.match(text, pos)
                if item is None:
                    raise ValueError("vocab entry")
                vocab[_unquote(item[1])] = int(item[2])
                pos = item.end()
                if item[3] == "}":
                    break
        vocab_end = pos
        m = _MERGES_AT.search(text, vocab_end)
        if m is None:
            raise ValueError("no merges after the vocab")
        merges: list[Any] = []
        pos = m.end()
        if (e := _EMPTY.match(text, pos)) is not None:
            pos = e.end()
        else:
            while True:
                item = _MERGE_ITEM.match(text, pos)
                if item is None:
                    raise ValueError("merge entry")
                if item[1] is not None:
                    merges.append(_unquote(item[1]))
                else:
                    merges.append([_unquote(item[2]), _unquote(item[3])])
                pos = item.end()
                if item[4] == "]":
                    break
        rest = json.loads(text[: v.end() - 1] + "{}" + text[vocab_end : m.end() - 1] + "[]" + text[pos:])
        model = rest.get("model")
        if not isinstance(model, dict) or model.get("vocab") != {} or model.get("merges") != []:
            raise ValueError("vocab and merges are not the model's")
    except ValueError:  # json.JSONDecodeError included
        return json.loads(text)
    model["vocab"], model["merges"] = vocab, merges
    return rest


def fast_tokenizer(folder: Path, meta: dict[str, Any]) -> Any:
    """The model's fast tokenizer, read in steps that each hold the interpreter lock briefly.

    `Tokenizer.from_file` parses and builds CLIP's 49k-token BPE in one native call that holds the lock
    ~100 ms (the window froze for the first search while it ran on the search thread). Here the JSON is parsed
    by Python, the BPE model is built from its vocabulary and merges, and the rest (normaliser, pre-tokeniser,
    post-processor) from the file without them: the same tokenizer, with the lock let go between steps.
    """
    # ~100k small objects made at once, kept for the app's life: no full collection of the heap meanwhile, and
    # none walking them later (the first search's stall at 1M photos: 72-90 ms, a collection, not the tokenizer)
    with collector_paused(keep=True):
        return _fast_tokenizer(folder, meta)


def _fast_tokenizer(folder: Path, meta: dict[str, Any]) -> Any:
    from tokenizers import Tokenizer, models

    spec = read_tokenizer_json((folder / "tokenizer.json").read_text(encoding="utf-8"))
    model = spec.get("model") or {}
    if model.get("type") != "BPE":  # not CLIP's kind: read it whole
        tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    else:
        merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ", 1)) for m in model["merges"]]
        options = {
            k: model[k]
            for k in (
                "dropout",
                "unk_token",
                "continuing_subword_prefix",
                "end_of_word_suffix",
                "fuse_unk",
                "byte_fallback",
                "ignore_merges",
            )
            if model.get(k) is not None
        }
        bpe = models.BPE(vocab=model["vocab"], merges=merges, **options)
        spec["model"] = {
            **{k: v for k, v in model.items() if k not in ("vocab", "merges")},
            "vocab": {},
            "merges": [],
        }
        tok = Tokenizer.from_str(json.dumps(spec))
        tok.model = bpe
    tok.enable_truncation(int(meta["max_length"]))
    tok.enable_padding(
        pad_id=int(meta["pad_id"]),
        pad_token=meta["pad_token"],
        length=int(meta["max_length"]) if meta.get("pad_to_max") else None,
        direction=meta.get("padding_side", "right"),
    )
    return tok


def text_inputs(tokenizer: Any, meta: dict[str, Any], texts: list[str]) -> dict[str, np.ndarray]:
    """The text tower's inputs, prepared as the model was trained (see models.TextRules)."""
    if meta.get("lowercase"):
        texts = [t.lower() for t in texts]
    enc = tokenizer.encode_batch(texts)
    ids = np.array([e.ids for e in enc], dtype=np.int64)
    if meta.get("use_mask", True):
        mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
    else:  # the model's tokenizer gives no mask: every position is attended to, padding included
        mask = np.ones_like(ids)
    return {"input_ids": ids, "attention_mask": mask}
