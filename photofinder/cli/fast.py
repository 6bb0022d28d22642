"""`photofinder index --fast`: the int8 vision tower where it agrees with fp32 on the user's own photos."""

from __future__ import annotations

from typing import Any


def fast_embedder(catalog: Any, model: str, embedder: Any) -> tuple[Any, Any, tuple[bool, str] | None]:
    """(embedder, probe, note): the int8 tower where it proved itself before on this library, else a probe that
    decides on the first photos this run encodes (a library's first index included)."""
    from photofinder.core.encode.choose import CpuEmbedder, Int8Probe, open_embedder, stored_int8_verdict
    from photofinder.core.encode.onnx_encoder import OnnxEmbedder

    if not isinstance(embedder, CpuEmbedder):
        return embedder, None, (False, "int8 runs on ONNX Runtime on the CPU; this index runs on torch")
    try:
        embedder.load()
    except Exception:  # noqa: BLE001 - the indexer reports an unusable model in its own words
        return embedder, None, None
    verdict = stored_int8_verdict(catalog, embedder.fingerprint)
    if verdict is not None:
        ok, agreement = verdict
        why = (
            f"it agreed with fp32 on {agreement:.0%} of the nearest neighbours of your photos, checked before"
        )
        if ok:
            return open_embedder(model, runtime="onnx", fast=True), None, (True, why)
        return embedder, None, (False, why + "; 90 % needed")
    if embedder.runtime != "onnx":
        return embedder, None, (False, "ONNX Runtime can't be used for this model here")
    probe = Int8Probe(embedder.onnx, OnnxEmbedder(model, int8=True))
    return probe, probe, None


def fast_verdict(lib: Any, probe: Any) -> tuple[bool, str]:
    """What the probe decided, kept in the catalog for later runs, as (int8 used, why) for the output."""
    from photofinder.core.encode.choose import PROBE_MIN, store_int8_verdict

    ok, agreement, photos = probe.finish()
    if photos < PROBE_MIN:
        return False, f"only {photos} photos to index, {PROBE_MIN} needed to check int8 on"
    with lib.open_catalog() as c:
        store_int8_verdict(c, probe.fingerprint, ok, agreement, photos)
    return ok, (
        f"checked on the first {photos} photos: int8 agreed with fp32 on {agreement:.0%} of the nearest "
        f"neighbours{'' if ok else ', 90 % needed'}; the check took {probe.probe_seconds:.1f} s"
    )
