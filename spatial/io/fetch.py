"""Opt-in download of OpenStreetMap data for a place, as an ``.osm`` file the offline importer reads.

``planatlas fetch-osm --place 历下区`` must produce exactly the layers
``planatlas import-osm`` makes from an extract, so it does not build them
another way: it asks Nominatim (through osmnx) for the place's boundary,
asks the Overpass API for the OSM objects inside it that the importer reads
(streets, buildings, facilities, green space, residential land) *as OSM XML*,
keeps the answer in the disk cache, and hands the file to
:func:`spatial.intake.import_osm` clipped to the boundary.

Nothing here runs unless online access is switched on
(``PLANATLAS_ALLOW_ONLINE=1``); offline it fails at once with
:class:`~spatial._errors.OfflineError`. A second call for the same place
reads the cache and needs no network.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import shapely

from .. import facilities, settings
from .._atomic import atomic_path
from .._errors import InputFileError, OfflineError, ParameterError, UnknownPlaceError
from ..online import read_cache, require_online, write_cache

__all__ = ["fetch_osm", "overpass_query"]

#: Most vertices of the boundary sent to Overpass (its ``poly:`` filter).
MAX_POLY_VERTICES = 400


def _poly_filter(area: shapely.Geometry) -> str:
    """The ``poly:"lat lon …"`` of the area's largest ring, simplified to a few hundred vertices."""
    polys = list(getattr(area, "geoms", [area]))
    outer = max(polys, key=lambda p: p.area).exterior
    tolerance = 0.0
    while len(outer.coords) > MAX_POLY_VERTICES:
        tolerance = tolerance * 2 or 1e-4
        outer = shapely.simplify(shapely.Polygon(outer), tolerance).exterior
    return " ".join(f"{lat:.6f} {lon:.6f}" for lon, lat in outer.coords[:-1])


def overpass_query(area: shapely.Geometry) -> str:
    """The Overpass QL asking, as XML, for every object the importer reads inside ``area``."""
    poly = f'(poly:"{_poly_filter(area)}")'
    keys = dict.fromkeys(["highway", "building", *facilities.osm_keys(), *facilities.green_keys(), "landuse"])
    parts = [f'nwr["{key}"]{poly};' for key in keys]
    return "[out:xml][timeout:300];(" + "".join(parts) + ");(._;>;);out meta;"


def _place_area(place: str) -> shapely.Geometry:
    cached = read_cache("osm-place", place)
    if isinstance(cached, dict) and isinstance(cached.get("wkt"), str):
        return shapely.from_wkt(str(cached["wkt"]))
    import osmnx as ox
    from osmnx._errors import InsufficientResponseError

    ox.settings.requests_timeout = settings.ONLINE_TIMEOUT_S
    try:
        gdf = ox.geocode_to_gdf(place)
    except InsufficientResponseError:
        msg = f"OpenStreetMap 找不到地方 {place!r} (OpenStreetMap knows no place {place!r})"
        raise UnknownPlaceError(msg) from None
    except (OSError, ValueError) as exc:
        msg = f"无法查询地方 {place!r} 的边界：{exc} (cannot look up the boundary of {place!r})"
        raise OfflineError(msg) from None
    area = shapely.union_all(gdf.geometry.to_numpy())
    if area.geom_type not in ("Polygon", "MultiPolygon"):
        msg = f"{place!r} 在 OpenStreetMap 中不是一个区域 ({place!r} is not an area in OpenStreetMap)"
        raise UnknownPlaceError(msg)
    write_cache("osm-place", {"wkt": shapely.to_wkt(area, rounding_precision=7)}, place)
    return area


def _download(query: str, dest: Path) -> None:
    """POST the query to the Overpass API and write the answer to ``dest`` (atomically)."""
    import osmnx as ox
    import requests

    url = str(ox.settings.overpass_url).rstrip("/") + "/interpreter"
    try:
        response = requests.post(url, data={"data": query}, timeout=max(settings.ONLINE_TIMEOUT_S, 300))
    except requests.RequestException as exc:
        reason = type(exc).__name__  # the exception's text names URLs and sockets: its kind is enough
        msg = f"无法连接 Overpass 服务器 ({reason})，请检查网络 (cannot reach the Overpass API: {reason})"
        raise OfflineError(msg) from None
    if response.status_code != 200:
        msg = (f"Overpass 服务器返回 {response.status_code}，请稍后再试 "
               f"(the Overpass API answered {response.status_code}; try later)")
        raise OfflineError(msg)
    if not response.content.lstrip().startswith(b"<?xml"):
        msg = "Overpass 服务器的回答不是 OSM XML (the Overpass API did not answer with OSM XML)"
        raise InputFileError(msg)
    with atomic_path(dest) as tmp:
        tmp.write_bytes(response.content)


def _whole_osm(path: Path) -> bool:
    """Whether a cached download is a regular file holding OSM XML to its closing ``</osm>`` tag.

    Writes are atomic, so a cut file means a damaged disk or a hand-made
    entry: it is downloaded again, never imported broken.
    """
    try:
        if not path.is_file() or path.is_symlink():
            return False
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(64)
            fh.seek(max(0, size - 64))
            tail = fh.read()
    except OSError:
        return False
    return head.lstrip().startswith(b"<?xml") and tail.rstrip().endswith(b"</osm>")


def fetch_osm(place: str) -> tuple[Path, Any]:
    """Download (or read from the cache) the OSM data of a place.

    Parameters
    ----------
    place : str
        A place Nominatim knows, e.g. ``"历下区, 济南市"``.

    Returns
    -------
    (pathlib.Path, spatial.intake.ClipArea)
        The ``.osm`` file in the cache, and the place's boundary to clip to.

    Raises
    ------
    OfflineError
        Online access is off, or a server cannot be reached.
    UnknownPlaceError
        Nominatim knows no such area.
    ParameterError
        A blank place.
    """
    if not isinstance(place, str) or not place.strip():
        msg = f"地名须为非空文本，收到 {place!r} (the place must be a non-blank name)"
        raise ParameterError(msg)
    require_online(f"下载 {place} 的 OpenStreetMap 数据", what_en=f"downloading OpenStreetMap data for {place!r}")
    from ..intake import ClipArea

    area = _place_area(place.strip())
    folder = settings.cache_dir() / "osm"
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / f"{settings.cache_key('overpass', place.strip(), shapely.to_wkt(area, rounding_precision=6))}.osm"
    if not _whole_osm(dest):  # a cache entry is reused only when it is a whole OSM XML file
        _download(overpass_query(area), dest)
    return dest, ClipArea(area, f"{place.strip()} (OpenStreetMap 边界)")
