"""Where a photo was taken: GPS coordinates from its EXIF, named offline (country, region, city).

Names come from `reverse-geocode`, which ships GeoNames' places of 1,000+ people inside its wheel: nothing
is downloaded and no coordinate leaves the machine. A place is stored with each photo as one key, "country
\\x1f region \\x1f city", so the Places facet counts (country > region > city) are one stored count per city.
"""

from __future__ import annotations

import logging
import math
import threading
import unicodedata
from dataclasses import dataclass

log = logging.getLogger(__name__)

SEP = "\x1f"
# (people, km): the place is named after a city this big this near, rather than the nearest named place, which
# in a city is one of its quarters ("Lisbon", not "São Jorge de Arroios"); checked from the biggest down
TOWNS = ((500_000, 20.0), (100_000, 12.0), (15_000, 6.0))
FARTHEST_KM = 100.0  # farther than this from any named place (at sea, in a desert): no place
_GPS_IFD = 0x8825
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Place:
    country: str
    region: str
    city: str

    @property
    def key(self) -> str:
        return SEP.join((self.country, self.region, self.city))

    @classmethod
    def from_key(cls, key: str) -> Place:
        country, region, city = (key.split(SEP) + ["", "", ""])[:3]
        return cls(country, region, city)

    def __str__(self) -> str:
        return ", ".join(p for p in (self.city, self.region, self.country) if p)


def gps_of(exif) -> tuple[float, float] | None:
    """(latitude, longitude) in degrees from a Pillow Exif, or None (no GPS, or nonsense)."""
    try:
        gps = exif.get_ifd(_GPS_IFD)
        if not gps:
            return None
        lat = _degrees(gps.get(2), gps.get(1))
        lon = _degrees(gps.get(4), gps.get(3))
    except Exception:  # noqa: BLE001 - broken EXIF must not lose the photo
        return None
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    if lat == 0 and lon == 0:  # a camera that wrote GPS tags with no fix
        return None
    return round(lat, 6), round(lon, 6)


def _degrees(dms, ref) -> float | None:
    if dms is None:
        return None
    parts = [float(x) for x in (dms if isinstance(dms, tuple | list) else (dms,))]
    if not parts or any(math.isnan(p) for p in parts):
        return None
    value = parts[0] + (parts[1] / 60 if len(parts) > 1 else 0) + (parts[2] / 3600 if len(parts) > 2 else 0)
    ref = ref.decode() if isinstance(ref, bytes) else ref
    return -value if isinstance(ref, str) and ref.strip().upper() in ("S", "W") else value


def place_of(lat: float, lon: float) -> Place | None:
    """The place (lat, lon) is in: a big city near enough (TOWNS), else the nearest named place; None far
    from any."""
    import reverse_geocode

    with (
        _LOCK
    ):  # its data loads once per process per size (0.3 s), behind a singleton that is not thread-safe
        near = reverse_geocode.get((lat, lon))
        if _km(lat, lon, near) > FARTHEST_KM:
            return None
        best = near
        for people, km in TOWNS:
            town = reverse_geocode.get((lat, lon), min_population=people)
            if _km(lat, lon, town) <= km:
                best = town
                break
    return Place(best.get("country") or best.get("country_code", ""), best.get("state") or "", best["city"])


def release() -> None:
    """Let go of the place data (about 250 MB once loaded): an index run or a words pass calls it when done."""
    import sys

    module = sys.modules.get("reverse_geocode")
    instances = getattr(getattr(module, "Singleton", None), "_instances", None)
    if isinstance(instances, dict):
        with _LOCK:
            instances.clear()


def _km(lat: float, lon: float, loc: dict) -> float:
    p1, p2 = math.radians(lat), math.radians(loc["latitude"])
    dp, dl = p2 - p1, math.radians(loc["longitude"] - lon)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(min(1.0, math.sqrt(a)))


def fold(text: str) -> str:
    """Case and accents set aside ('Île-de-France' -> 'ile-de-france'): how a typed place name is compared."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip()


def matching_keys(name: str, keys: list[str]) -> list[str]:
    """The place keys with `name` as their country, region or city (case and accents aside); a key itself, or
    its first parts (country SEP region: the filter panel's choice), matches the keys under it."""
    if SEP in name:
        parts = name.split(SEP)
        return [k for k in keys if k.split(SEP)[: len(parts)] == parts]
    want = fold(name)
    return [k for k in keys if want and want in (fold(part) for part in k.split(SEP))]
