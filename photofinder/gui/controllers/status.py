"""The status line: the library's size, its folders, the model and where it runs, when it was last indexed."""

from __future__ import annotations

import time

from photofinder.core.store.library import LibrarySummary
from photofinder.gui.controllers.pages import format_duration
from photofinder.gui.settings import AppSettings
from photofinder.gui.workers.model_pool import EmbedderPool


def status_text(s: LibrarySummary | None, settings: AppSettings, pool: EmbedderPool, extra: str = "") -> str:
    """“1,204 photos  ·  3 folders  ·  model clip-vit-base-patch32 (CPU, ONNX)  ·  indexed 5 min ago”."""
    if s is None:
        return "No library yet: add a folder of photos to start."
    model = (s.model_id or settings.model).rstrip("/")
    short = model if len(model) < 40 else "…" + model[-38:]
    parts = [
        f"{s.photos:,} photos",
        f"{len(s.folders)} folder{'s' if len(s.folders) != 1 else ''}",
        f"model {short} ({engine_text(s.model_id or settings.model, settings, pool)})",
    ]
    if s.last_indexed:
        parts.append(f"indexed {format_duration(max(0.0, time.time() - s.last_indexed))} ago")
    if extra:
        parts.insert(0, extra)
    return "  ·  ".join(parts)


def engine_text(model: str, settings: AppSettings, pool: EmbedderPool) -> str:
    """Where the model runs: "CPU, ONNX" once loaded; before that the settings ("auto", "cpu, ONNX")."""
    device = pool.loaded_device(model)
    runtime = pool.loaded_runtime(model)
    if device is None:
        device = settings.device
        runtime = {"onnx": "ONNX", "torch": "torch"}.get(settings.runtime)
    shown = {"cpu": "CPU", "cuda": "GPU", "mps": "GPU (Apple)", "gpu": "GPU"}.get(device, device)
    return f"{shown}, {runtime}" if runtime else shown
