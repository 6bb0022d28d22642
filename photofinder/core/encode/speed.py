"""How fast each menu model runs on this machine: a short self-benchmark of its vision tower, cached."""

from __future__ import annotations

import json
import logging
import os
import platform
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from photofinder.core.encode.architectures import exact_config, vision_tower
from photofinder.core.encode.menu import ModelChoice, choices

log = logging.getLogger(__name__)

SPEED_VERSION = 1


def _machine() -> str:
    import torch

    return f"{platform.machine()}-{os.cpu_count()}cpu-torch{torch.__version__}-{platform.python_version()}"


def _speed_file() -> Path:
    from photofinder.core.encode.onnx_encoder import model_cache_root

    return model_cache_root() / "speeds.json"


def measure_speed(choice: ModelChoice, batch: int = 8, seconds: float = 2.0) -> float:
    """Images per second of `choice`'s vision tower on this CPU (torch, fp32, random weights: the real
    weights cost exactly the same), after one warm-up batch, over at least `seconds` or two batches."""
    import torch

    tower = vision_tower(choice, exact_config(choice)).eval()
    x = torch.randn(batch, 3, choice.image_size, choice.image_size)
    with torch.inference_mode():
        tower(pixel_values=x)
        done, t = 0, time.perf_counter()
        while done < 2 * batch or time.perf_counter() - t < seconds:
            tower(pixel_values=x)
            done += batch
        return done / (time.perf_counter() - t)


def speeds(measure: bool = True, only: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """Each choice's measured images/s on this machine: {id: {"images_per_s", "measured", "machine"}}.

    Kept in the model cache per machine; a choice not measured yet is measured now when `measure` (a few
    seconds each), else left out.
    """
    path = _speed_file()
    try:
        cache = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        cache = {}
    machine = _machine()
    if cache.get("version") != SPEED_VERSION or cache.get("machine") != machine:
        cache = {"version": SPEED_VERSION, "machine": machine, "models": {}}
    changed = False
    for c in choices():
        if (only and c.id not in only) or c.id in cache["models"] or not measure:
            continue
        rate = measure_speed(c)
        cache["models"][c.id] = {
            "images_per_s": round(rate, 2),
            "measured": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "how": "vision tower, torch fp32, batch 8, on this machine's CPU",
        }
        changed = True
    if changed:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(cache, indent=1), encoding="utf-8")
            os.replace(tmp, path)
        except OSError as e:  # a read-only cache: measured again next time
            log.debug("speeds not kept: %s", e)
    return {k: dict(v, machine=machine) for k, v in cache["models"].items()}


def menu_with_speeds(measure: bool = True) -> list[dict[str, Any]]:
    """The menu as plain data, each choice with its measured speed (None when not measured)."""
    measured = speeds(measure)
    out = []
    for c in choices():
        d = asdict(c)
        s = measured.get(c.id)
        d["images_per_s"] = s["images_per_s"] if s else None
        d["speed_how"] = s["how"] if s else None
        out.append(d)
    return out


def relative_cost(rates: dict[str, float], base: str = "openai/clip-vit-base-patch32") -> dict[str, float]:
    """How many times slower each model is than `base` (1.0 = as fast)."""
    b = rates.get(base)
    return {k: float(b / v) if b and v else float(np.nan) for k, v in rates.items()}
