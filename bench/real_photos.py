"""Gather a folder of real photographs from Debian's wallpaper packages, for bench/indexing.py.

    apt-get install mate-backgrounds plasma-workspace-wallpapers
    python bench/real_photos.py /tmp/real-photos
    python bench/indexing.py /tmp/real-photos

The photographs (not the digital art) of those packages: 13 from mate-backgrounds' nature set and 8 from Plasma,
each Plasma one at its largest JPEG size up to 5 MP: 21 JPEGs of 1.3 to 4.9 MP.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from PIL import Image

MATE = Path("/usr/share/backgrounds/mate/nature")
PLASMA = Path("/usr/share/wallpapers")
PLASMA_PHOTOS = [
    "Autumn",
    "BytheWater",
    "ColdRipple",
    "ColorfulCups",
    "DarkestHour",
    "EveningGlow",
    "FallenLeaf",
    "Kite",
    "Path",
]


def main() -> None:
    dest = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/real-photos")
    dest.mkdir(parents=True, exist_ok=True)
    picked = sorted(MATE.glob("*.jpg"))
    for name in PLASMA_PHOTOS:
        sizes = []
        for p in (PLASMA / name / "contents" / "images").glob("*.jpg"):
            with Image.open(p) as im:
                if im.size[0] * im.size[1] <= 5_000_000:
                    sizes.append((im.size[0] * im.size[1], p))
        if sizes:
            picked.append(max(sizes)[1])
    if not picked:
        sys.exit("no wallpapers found: apt-get install mate-backgrounds plasma-workspace-wallpapers")
    for p in picked:
        shutil.copyfile(
            p, dest / (p.parent.parent.parent.name + "-" + p.name if p.is_relative_to(PLASMA) else p.name)
        )
    print(f"{len(picked)} photos in {dest}")


if __name__ == "__main__":
    main()
