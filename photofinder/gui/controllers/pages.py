"""What the central area shows, and the words the controllers use for waiting."""

from __future__ import annotations

from dataclasses import dataclass

TOP = 500  # results per query; the grid shows them lazily
INDEXING_HINT = "Indexing… you can search while it runs."


@dataclass(frozen=True)
class Page:
    """What the central area shows: "empty" (add a folder), "grid" (results) or "message" (a line of text)."""

    kind: str
    text: str = ""


def model_loading_text(model: str, why: str) -> str:
    """“Loading the model clip-vit-base-patch32 to understand your search (once per session: a few seconds, up to
    a minute on a slow disk)…”."""
    name = model.rstrip("/").replace("\\", "/").rsplit("/", 1)[-1] or model
    return (
        f"Loading the model {name} {why} — once per session, usually a few seconds "
        "(up to a minute on a slow disk)…"
    )


def format_duration(seconds: float) -> str:
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s" if s < 600 else f"{round(s / 60)} min"
    return f"{s // 3600} h {(s % 3600) // 60:02d} min"
