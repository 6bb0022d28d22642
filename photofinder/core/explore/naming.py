"""Names for groups of photos: the phrase of a shipped vocabulary that the group's photos match and the rest don't.

The vocabulary (resources/explore_vocabulary.txt, about 1,750 everyday subjects: objects, animals, food, scenes,
people, events, documents, colours and shapes) is encoded once per model with the library's own text encoder and
kept beside the model's exports (a few seconds with CLIP on a CPU, every time otherwise).

A phrase names a group when most of the group's photos are good matches for it (at or above the library's
calibrated text cut-off, the same one searches use) and it tells the group apart from the rest: its score on the
group's typical photo (the median) is above what it scores on nine in ten photos outside the group. Among those,
the one that tells the group apart best wins, each name used once. A group no phrase fits is called "mixed":
rather no name than a wrong one. So a name, typed as a search, finds the group's photos as good matches.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

MIXED = "mixed"
FITTING = 0.5  # the share of a group's photos that must be good matches for its name (the median's)
OUTSIDE_QUANTILE = 90.0  # a name scores its group's median photo above this percentile of the other photos


VOCABULARY_FILE = "explore_vocabulary.txt"


def vocabulary_text() -> str:
    """The vocabulary: the user's own `explore_vocabulary.txt` in the data folder if there is one (their pets'
    names, their hobbies), else the shipped file (package data of photofinder.resources)."""
    from photofinder.core.paths import data_dir

    own = data_dir() / VOCABULARY_FILE
    if own.is_file():
        return own.read_text(encoding="utf-8", errors="replace")
    try:
        return (resources.files("photofinder.resources") / VOCABULARY_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:  # a source tree run beside an editable install of another checkout
        return (Path(__file__).resolve().parents[3] / "resources" / VOCABULARY_FILE).read_text(
            encoding="utf-8"
        )


def vocabulary() -> list[str]:
    """The phrases, in file order (comments and blank lines left out)."""
    lines = (line.strip() for line in vocabulary_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def shown(phrase: str) -> str:
    """The name shown and searched for: the phrase without its article ("a red circle" -> "red circle")."""
    for article in ("a ", "an ", "the "):
        if phrase.startswith(article):
            return phrase[len(article) :]
    return phrase


class Vocabulary:
    """The phrases and their unit text vectors for one model, cached on disk per model and vocabulary."""

    def __init__(self, phrases: list[str], vectors: np.ndarray):
        self.phrases = phrases
        self.vectors = np.asarray(vectors, np.float32)

    @classmethod
    def for_embedder(cls, embedder, cache_dir: Path | None = None) -> Vocabulary:
        phrases = vocabulary()
        key = hashlib.sha256(
            ("\n".join(phrases) + "\0" + str(getattr(embedder, "fingerprint", embedder.model_id))).encode()
        ).hexdigest()[:24]
        path = (cache_dir or _cache_root()) / f"vocabulary-{key}.npy"
        try:
            vectors = np.load(path, allow_pickle=False)
            if vectors.shape == (len(phrases), embedder.dim):
                return cls(phrases, vectors)
        except (OSError, ValueError):
            pass
        vectors = np.concatenate(
            [embedder.encode_text(phrases[i : i + 256]) for i in range(0, len(phrases), 256)]
        ).astype(np.float32)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            with open(tmp, "wb") as f:
                np.save(f, vectors, allow_pickle=False)
            os.replace(tmp, path)
        except OSError as e:  # a read-only cache encodes again next time
            log.debug("vocabulary vectors not cached: %s", e)
        return cls(phrases, vectors)


def _cache_root() -> Path:
    from photofinder.core.encode.onnx_encoder import model_cache_root

    return model_cache_root()


@dataclass(frozen=True)
class Named:
    name: str  # shown(phrase), or MIXED
    fit: float  # the chosen phrase's median score on the group (0 for mixed)


def name_groups(
    members: list[np.ndarray],
    sizes: list[int],
    vocab: Vocabulary,
    threshold: float,
    taken: set[str] = frozenset(),
) -> list[Named]:
    """A name for each group, from a sample of each group's vectors (`members`) and its size in the library.

    `threshold` is the library's good-match cut-off for a text query; `taken` names that may not be used again
    (a sub-group's parent's siblings, say). Groups are named largest first, each name once.
    """
    if not members:
        return []
    scores = [m @ vocab.vectors.T for m in members]  # (group sample, phrases) each
    median = np.stack([np.median(s, axis=0) if len(s) else np.full(len(vocab.phrases), -1.0) for s in scores])
    good = np.stack(
        [(s >= threshold).mean(axis=0) if len(s) else np.zeros(len(vocab.phrases)) for s in scores]
    )
    # the other photos, each group weighted by its size: a sample of the rest of the library
    outside = np.empty_like(median)
    typical = np.empty_like(median)
    total = max(1, sum(sizes))
    for g in range(len(members)):
        rows = [_take(scores[h], sizes[h] / total) for h in range(len(members)) if h != g and len(scores[h])]
        rest = np.concatenate(rows) if rows else np.empty((0, len(vocab.phrases)), np.float32)
        outside[g] = (
            np.percentile(rest, OUTSIDE_QUANTILE, axis=0) if len(rest) else np.full(len(vocab.phrases), -1.0)
        )
        typical[g] = np.median(rest, axis=0) if len(rest) else np.full(len(vocab.phrases), -1.0)
    margin = median - outside
    # fits: a good match for most of the group's photos, and more so than for the library's typical photo
    fits = (good >= FITTING) & (median >= threshold) & (median > typical)
    high = np.stack([np.percentile(x, OUTSIDE_QUANTILE, axis=0) if len(x) else median[0] for x in scores])
    owner: dict[str, int] = {name: -1 for name in taken}
    out: list[Named] = [Named(MIXED, 0.0)] * len(members)
    for g in sorted(range(len(members)), key=lambda g: -sizes[g]):
        ranked = [int(j) for j in np.argsort(-np.where(fits[g], margin[g], -np.inf)) if fits[g, j]]
        if not ranked:
            continue
        free = [j for j in ranked if shown(vocab.phrases[j]) not in owner]
        if free and (free[0] == ranked[0] or margin[g, free[0]] >= 0.5 * margin[g, ranked[0]]):
            j = free[0]
            name = shown(vocab.phrases[j])
        else:
            # Its best name is another group's: add what tells it apart from that group, if anything does.
            j = ranked[0]
            other = owner[shown(vocab.phrases[j])]
            apart = median[g] - (high[other] if other >= 0 else outside[g])
            extra = [k for k in np.argsort(-apart) if fits[g, k] and apart[k] > 0 and k != j]
            name = shown(vocab.phrases[j])
            if extra:
                name = f"{name}, {shown(vocab.phrases[int(extra[0])])}"
        owner.setdefault(name, g)
        owner.setdefault(shown(vocab.phrases[j]), g)
        out[g] = Named(name, float(median[g, j]))
    return out


def _take(rows: np.ndarray, share: float, most: int = 400) -> np.ndarray:
    """About `share` of `most` rows (at least one): a group's part in a sample of the library."""
    k = max(1, min(len(rows), round(share * most)))
    return rows[np.linspace(0, len(rows) - 1, k).astype(int)]
