"""Opt-in online sources, cached on disk, with a clear message when offline.

Nothing here runs unless ``spatial.settings.allow_online`` is true (or the
environment sets ``PLANATLAS_ALLOW_ONLINE=1``). Answers are cached under
``settings.cache_dir()`` as small JSON files written atomically, so a cache
entry is either complete or absent, and a second call needs no network.

Three web geocoders stand behind one call, :func:`geocode_online` (``service=``):

``nominatim``
    OpenStreetMap's Nominatim through osmnx (WGS-84, no key).
``amap``
    AMap (高德) web geocoding, ``/v3/geocode/geo``, with the user's key from
    the environment variable ``AMAP_KEY``. AMap answers in GCJ-02: the point
    is converted to WGS-84 (:mod:`spatial.datum`) and ``source_datum`` says GCJ02.
``tianditu``
    Tianditu (天地图) geocoding, ``/geocoder?ds={"keyWord": …}``, with the
    key ``TIANDITU_KEY``; CGCS2000, within a metre of WGS-84 at map scale.

Each returns a GeoJSON Feature with provenance (``source``, ``source_datum``,
``precision`` ``approximate``, ``coord_basis`` ``sourced``: an online answer is
a source, but the first hit of a free-text query, so check it). Tests never
reach the network: they replace :func:`_http_json` and feed responses written
for them in the services' documented shapes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import settings
from ._atomic import atomic_path
from ._errors import OfflineError, ParameterError, UnknownPlaceError

#: Web geocoders :func:`geocode_online` knows, with the environment variable holding each one's key.
GEOCODERS: dict[str, str | None] = {"nominatim": None, "amap": "AMAP_KEY", "tianditu": "TIANDITU_KEY"}

AMAP_URL = "https://restapi.amap.com/v3/geocode/geo"
TIANDITU_URL = "https://api.tianditu.gov.cn/geocoder"


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


def _http_json(url: str, params: dict[str, str]) -> Any:
    """GET ``url`` with ``params`` and decode the JSON answer (the one place a web geocoder goes online).

    Raises
    ------
    OfflineError
        No network, a timeout, an HTTP error status or an answer that is not JSON.
    """
    import requests  # installed with osmnx

    try:
        response = requests.get(url, params=params, timeout=settings.ONLINE_TIMEOUT_S)
        response.raise_for_status()
        return response.json()
    except (requests.RequestException, ValueError) as exc:
        host = url.split("/")[2]
        msg = f"在线地名查询失败：无法从 {host} 取得有效回答（{exc}），请检查网络 (online geocoding failed: {exc})"
        raise OfflineError(msg) from None


def _key(service: str) -> str:
    variable = GEOCODERS[service]
    key = os.environ.get(variable or "", "").strip()
    if not key:
        msg = (f"{service} 在线地名查询需要密钥：请设置环境变量 {variable} "
               f"(the {service} geocoder needs your key in the environment variable {variable})")
        raise ParameterError(msg)
    return key


def _point_feature(name: str, lon: float, lat: float, *, query: str, service: str, source_datum: str,
                   extra: dict[str, Any] | None = None) -> dict[str, Any]:
    from . import vocab

    props = {"name": name, "query": query, "source": f"{vocab.label('geocoder', service)} (online, cached)",
             "source_datum": source_datum, "precision": "approximate", "coord_basis": "sourced",
             "geocoder": service, **(extra or {})}
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": props}


def _parse_amap(answer: Any, name: str, query: str) -> dict[str, Any] | None:
    """A Feature from AMap's answer (GCJ-02 converted to WGS-84), or None when it found nothing."""
    from .datum import convert

    if not isinstance(answer, dict) or str(answer.get("status")) != "1":
        info = answer.get("info") if isinstance(answer, dict) else answer
        msg = f"高德地理编码拒绝了请求：{info} (AMap refused the request: {info})"
        raise OfflineError(msg)
    hits = answer.get("geocodes") or []
    if not hits:
        return None
    first = hits[0]
    try:
        glon, glat = (float(v) for v in str(first["location"]).split(","))
    except (KeyError, ValueError):
        msg = f"高德地理编码的回答没有可读的坐标：{first!r} (AMap answered without a location)"
        raise OfflineError(msg) from None
    lon, lat = convert(glon, glat, source="GCJ02", target="WGS84")
    return _point_feature(name, round(float(lon), 7), round(float(lat), 7), query=query, service="amap",
                          source_datum="GCJ02", extra={
                              "formatted_address": first.get("formatted_address"), "level": first.get("level"),
                              "adcode": first.get("adcode"), "location_as_answered": [glon, glat]})


def _parse_tianditu(answer: Any, name: str, query: str) -> dict[str, Any] | None:
    """A Feature from Tianditu's answer (CGCS2000, read as WGS-84), or None when it found nothing."""
    if not isinstance(answer, dict):
        msg = f"天地图地理编码的回答无法读取：{answer!r} (Tianditu's answer is not an object)"
        raise OfflineError(msg)
    status = str(answer.get("status"))
    location = answer.get("location")
    if status != "0" or not isinstance(location, dict):
        if status in ("0", "101"):  # answered, nothing found
            return None
        msg = f"天地图地理编码拒绝了请求：{answer.get('msg')} (Tianditu refused the request: status {status})"
        raise OfflineError(msg)
    try:
        lon, lat = float(location["lon"]), float(location["lat"])
    except (KeyError, TypeError, ValueError):
        msg = f"天地图地理编码的回答没有可读的坐标：{location!r} (Tianditu answered without a location)"
        raise OfflineError(msg) from None
    return _point_feature(name, lon, lat, query=query, service="tianditu", source_datum="WGS84",
                          extra={"level": location.get("level"), "score": location.get("score")})


#: service -> (request builder, parser): what each web geocoder is asked and how its answer is read.
_WEB: dict[str, tuple[Callable[[str, str, str], tuple[str, dict[str, str]]],
                      Callable[[Any, str, str], dict[str, Any] | None]]] = {
    "amap": (lambda query, city, key: (AMAP_URL, {"address": query, "city": city, "key": key, "output": "JSON"}),
             _parse_amap),
    "tianditu": (lambda query, city, key: (TIANDITU_URL, {"ds": json.dumps({"keyWord": query}, ensure_ascii=False),
                                                          "tk": key}), _parse_tianditu),
}


def _geocode_web(service: str, name: str, city: str) -> dict[str, Any]:
    query = name if city in name else f"{city}{name}"
    cached = read_cache("geocode", service, query)
    if isinstance(cached, dict):
        if cached.get("geometry") is None:
            msg = f"在线地名查询找不到 {name!r}（缓存的结果） ({name!r} not found online, cached answer)"
            raise UnknownPlaceError(msg)
        return cached
    build, parse = _WEB[service]
    url, params = build(query, city, _key(service))
    feature = parse(_http_json(url, params), name, query)
    if feature is None:
        write_cache("geocode", {"geometry": None}, service, query)
        msg = f"在线地名查询找不到 {name!r} ({name!r} not found online)"
        raise UnknownPlaceError(msg)
    write_cache("geocode", feature, service, query)
    return feature


def geocode_online(name: str, *, city: str = "济南市", province: str = "山东省",
                   service: str = "nominatim") -> dict[str, Any]:
    """Look a place up online: Nominatim (default), AMap or Tianditu (see the module notes).

    Returns a GeoJSON Feature (WGS-84) with provenance; precision is
    ``approximate`` since a web geocoder returns the first match of a free-text query.

    Raises
    ------
    ParameterError
        When ``name`` is blank or not a str, ``service`` is unknown, or the
        service's key is not set.
    OfflineError
        When online sources are off, or the server cannot be reached or refuses.
    UnknownPlaceError
        When the service knows no such place (the answer is cached).
    """
    if not isinstance(name, str) or not name.strip():
        msg = f"地名须为非空文本，收到 {name!r} (a place name must be a non-blank str)"
        raise ParameterError(msg)
    if service not in GEOCODERS:
        msg = (f"未知的在线地理编码服务 {service!r}，可选：{'、'.join(GEOCODERS)} "
               f"(unknown geocoder {service!r}; choose from {', '.join(GEOCODERS)})")
        raise ParameterError(msg)
    require_online(f"在线地名查询 {name!r}", what_en=f"online geocoding of {name!r}")
    if service != "nominatim":
        return _geocode_web(service, name.strip(), city)
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
                       "source_datum": "WGS84", "precision": "approximate", "coord_basis": "sourced",
                       "geocoder": "nominatim"},
    }
    write_cache("geocode", feature, "nominatim", query)
    return feature
