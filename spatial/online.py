"""Opt-in online sources, cached on disk, with a clear message when offline.

Nothing here runs unless ``spatial.settings.allow_online`` is true (or the
environment sets ``PLANATLAS_ALLOW_ONLINE=1``). Answers are cached under
``settings.cache_dir()`` as small JSON files written atomically, so a cache
entry is either complete or absent, and a second call needs no network.
"""

from __future__ import annotations

import json
from pathlib import Path

from . import settings
from ._atomic import atomic_path
from ._errors import OfflineError, UnknownPlaceError


def require_online(what: str) -> None:
    """Raise :class:`OfflineError` unless online sources are switched on."""
    if not settings.allow_online:
        raise OfflineError(
            f"{what} needs the internet, which planatlas does not use unless asked: "
            "set PLANATLAS_ALLOW_ONLINE=1 (or spatial.settings.allow_online = True)"
        )


def _cache_file(kind: str, *parts: object) -> Path:
    folder = settings.cache_dir() / kind
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{settings.cache_key(*parts)}.json"


def read_cache(kind: str, *parts: object):
    """Cached answer or None (a corrupt entry counts as absent and is removed)."""
    path = _cache_file(kind, *parts)
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        path.unlink(missing_ok=True)
        return None


def write_cache(kind: str, value, *parts: object) -> None:
    """Store an answer atomically (temporary file, then :func:`os.replace`)."""
    path = _cache_file(kind, *parts)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")


def geocode_online(name: str, *, city: str = "济南市", province: str = "山东省") -> dict:
    """Look a place up in OpenStreetMap's Nominatim (WGS-84) through osmnx.

    Returns a GeoJSON Feature with provenance; precision is ``approximate``
    since Nominatim returns the first match of a free-text query.
    """
    require_online(f"online geocoding of {name!r}")
    query = f"{name}, {city}, {province}, 中国"
    cached = read_cache("geocode", "nominatim", query)
    if cached is not None:
        if cached.get("geometry") is None:
            raise UnknownPlaceError(f"{name!r} not found online (cached answer)")
        return cached
    import osmnx as ox
    from osmnx._errors import InsufficientResponseError, ResponseStatusCodeError

    ox.settings.requests_timeout = settings.ONLINE_TIMEOUT_S
    try:
        lat, lon = ox.geocode(query)
    except InsufficientResponseError:  # Nominatim answered: no such place
        write_cache("geocode", {"geometry": None}, "nominatim", query)
        raise UnknownPlaceError(f"{name!r} not found online") from None
    except ResponseStatusCodeError as exc:  # HTTP 429 / 5xx: try later, cache nothing
        raise OfflineError(f"online geocoding of {name!r} failed: the server answered {exc}") from None
    except (ConnectionError, TimeoutError, OSError) as exc:
        raise OfflineError(f"online geocoding of {name!r} failed: {exc}") from None
    except Exception as exc:  # requests' own errors, without importing requests here
        if type(exc).__module__.startswith(("requests", "urllib3")):
            raise OfflineError(f"online geocoding of {name!r} failed: {exc}") from None
        raise
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"name": name, "query": query, "source": "OpenStreetMap Nominatim (online, cached)",
                       "source_datum": "WGS84", "precision": "approximate"},
    }
    write_cache("geocode", feature, "nominatim", query)
    return feature
