"""Opt-in online sources, cached on disk, with a clear message when offline.

Nothing here runs unless ``spatial.settings.allow_online`` is true (or the
environment sets ``PLANATLAS_ALLOW_ONLINE=1``). Answers are cached under
``settings.cache_dir()`` as small JSON files written atomically, so a cache
entry is either complete or absent, and a second call needs no network.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from . import settings
from ._atomic import atomic_path
from ._errors import OfflineError, ParameterError, UnknownPlaceError


def require_online(what: str, *, what_en: str | None = None) -> None:
    """Raise :class:`OfflineError` unless online sources are switched on.

    ``what`` names the request in the message (Chinese), ``what_en`` in its
    English part (default ``what``).
    """
    if not settings.allow_online:
        msg = (f"{what} 需要联网，而 planatlas 默认不联网：请设置环境变量 PLANATLAS_ALLOW_ONLINE=1"
               "（或 spatial.settings.allow_online = True） "
               f"({what_en or what} needs the internet, which planatlas does not use unless asked: "
               "set PLANATLAS_ALLOW_ONLINE=1 or spatial.settings.allow_online = True)")
        raise OfflineError(msg)


def _cache_file(kind: str, *parts: object) -> Path:
    folder = settings.cache_dir() / kind
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{settings.cache_key(*parts)}.json"


def read_cache(kind: str, *parts: object) -> Any:
    """Cached answer (any JSON value) or None (a corrupt entry counts as absent and is removed)."""
    path = _cache_file(kind, *parts)
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        path.unlink(missing_ok=True)
        return None


def write_cache(kind: str, value: Any, *parts: object) -> None:
    """Store an answer atomically (temporary file, then :func:`os.replace`)."""
    path = _cache_file(kind, *parts)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")


def geocode_online(name: str, *, city: str = "济南市", province: str = "山东省") -> dict[str, Any]:
    """Look a place up in OpenStreetMap's Nominatim (WGS-84) through osmnx.

    Returns a GeoJSON Feature with provenance; precision is ``approximate``
    since Nominatim returns the first match of a free-text query.

    Raises
    ------
    ParameterError
        When ``name`` is blank or not a str.
    OfflineError
        When online sources are off, or the server cannot be reached or refuses.
    UnknownPlaceError
        When Nominatim knows no such place (the answer is cached).
    """
    if not isinstance(name, str) or not name.strip():
        msg = f"地名须为非空文本，收到 {name!r} (a place name must be a non-blank str)"
        raise ParameterError(msg)
    require_online(f"在线地名查询 {name!r}", what_en=f"online geocoding of {name!r}")
    query = f"{name}, {city}, {province}, 中国"
    cached = read_cache("geocode", "nominatim", query)
    if isinstance(cached, dict):
        if cached.get("geometry") is None:
            msg = (f"在线地名查询找不到 {name!r}（缓存的结果） "
                   f"({name!r} not found online, cached answer)")
            raise UnknownPlaceError(msg)
        return cached
    import osmnx as ox
    from osmnx._errors import InsufficientResponseError, ResponseStatusCodeError

    ox.settings.requests_timeout = settings.ONLINE_TIMEOUT_S
    try:
        lat, lon = ox.geocode(query)
    except InsufficientResponseError:  # Nominatim answered: no such place
        write_cache("geocode", {"geometry": None}, "nominatim", query)
        msg = f"在线地名查询找不到 {name!r} ({name!r} not found online)"
        raise UnknownPlaceError(msg) from None
    except ResponseStatusCodeError as exc:  # HTTP 429 / 5xx: try later, cache nothing
        msg = (f"在线地名查询 {name!r} 失败：服务器返回 {exc}，请稍后再试 "
               f"(online geocoding of {name!r} failed: the server answered {exc})")
        raise OfflineError(msg) from None
    except (ConnectionError, TimeoutError, OSError) as exc:
        msg = (f"在线地名查询 {name!r} 失败：{exc}，请检查网络 "
               f"(online geocoding of {name!r} failed: {exc})")
        raise OfflineError(msg) from None
    except Exception as exc:  # requests' own errors, without importing requests here
        if type(exc).__module__.startswith(("requests", "urllib3")):
            msg = (f"在线地名查询 {name!r} 失败：{exc}，请检查网络 "
                   f"(online geocoding of {name!r} failed: {exc})")
            raise OfflineError(msg) from None
        raise
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"name": name, "query": query, "source": "OpenStreetMap Nominatim (online, cached)",
                       "source_datum": "WGS84", "precision": "approximate"},
    }
    write_cache("geocode", feature, "nominatim", query)
    return feature
