"""photofinder models: the curated model menu, with each model's speed measured on this machine."""

from __future__ import annotations

import argparse
import json
import sys


def cmd_models(args: argparse.Namespace) -> int:
    """Print the menu; a model not measured yet here is measured once (a few seconds each) and kept."""
    from photofinder.core.encode.speed import menu_with_speeds

    if not args.no_measure and not args.json and sys.stderr.isatty():
        print("measuring each model's speed on this machine (once, a few seconds each) ...", file=sys.stderr)
    rows = menu_with_speeds(measure=not args.no_measure)
    if args.json:
        print(json.dumps({"models": rows}, ensure_ascii=False))
        return 0
    for r in rows:
        speed = f"{r['images_per_s']:.1f} images/s here" if r["images_per_s"] else "speed not measured"
        mark = "  (recommended for new libraries)" if r["recommended"] else ""
        if r["existing_default"]:
            mark = "  (libraries made before the menu)"
        print(f"{r['id']}{mark}")
        print(f"    {r['name']}: {r['good_at']}")
        print(
            f"    languages: {r['languages']}; download about {r['download_mb']:,} MB; {r['licence']}; {speed}"
        )
        if r["quality"]:
            print(f"    quality: {r['quality']}")
    print("speed: the vision tower alone, torch fp32 on this machine's CPU (ONNX Runtime indexes faster)")
    return 0
