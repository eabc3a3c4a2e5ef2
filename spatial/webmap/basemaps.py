"""Tile basemaps and the datum their tiles are drawn in.

planatlas stores WGS-84, but Chinese web maps are not all WGS-84: AMap/Gaode
tiles are drawn in GCJ-02, about half a kilometre east of WGS-84 in Jinan. So
every basemap records its datum; while a GCJ-02 basemap is shown, the map
shifts every overlay and every map position to GCJ-02
(:func:`display_point`, :func:`from_display_point` for positions coming back
from the browser), else features would sit 300-600 m off their streets.

OpenStreetMap and CARTO positron are WGS-84; Tianditu is WGS-84/CGCS2000 and
needs a key in the ``TIANDITU_KEY`` environment variable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import folium
from branca.element import MacroElement
from jinja2 import Template

from .. import datum as _datum
from .._errors import ParameterError
from .popups import escape

__all__ = [
    "BASEMAPS",
    "DEFAULT_CENTER",
    "DEFAULT_ZOOM",
    "Basemap",
    "available_basemaps",
    "display_point",
    "from_display_point",
    "get_basemap",
    "new_map",
]

#: Centre of the map when none is given: Jinan, between the old city and the
#: 起步区 north of the Yellow River (latitude, longitude; WGS-84 degrees).
DEFAULT_CENTER: tuple[float, float] = (36.72, 117.05)

#: Zoom level showing the central districts of Jinan.
DEFAULT_ZOOM: int = 10

#: Environment variable holding the Tianditu key.
TIANDITU_KEY_VAR = "TIANDITU_KEY"


@dataclass(frozen=True)
class Basemap:
    """A tile basemap.

    Attributes
    ----------
    key : str
        Short name (``osm``, ``carto``, ``amap``, ``tianditu``).
    title : str
        Name in the basemap picker and the layer control.
    tiles : str
        Leaflet URL template (``{key}`` is replaced by the Tianditu key).
    attribution : str
        HTML attribution the tile provider asks for.
    datum : str
        Datum of the tiles: ``WGS84`` or ``GCJ02``.
    subdomains : str
        Values of ``{s}`` in ``tiles``.
    max_zoom : int
        Highest zoom level served.
    overlay_tiles : str, optional
        Labels drawn over the base tiles (Tianditu).
    needs_key : bool
        Usable only with ``TIANDITU_KEY`` set.
    """

    key: str
    title: str
    tiles: str
    attribution: str
    datum: str = "WGS84"
    subdomains: str = "abc"
    max_zoom: int = 19
    overlay_tiles: str | None = None
    needs_key: bool = False


_OSM_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> 贡献者'
_TIANDITU_WMTS = ("https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
                  "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}"
                  "&TILECOL={x}&tk={key}")

#: Every basemap planatlas knows, by key.
BASEMAPS: dict[str, Basemap] = {
    "osm": Basemap("osm", "OpenStreetMap", "https://tile.openstreetmap.org/{z}/{x}/{y}.png", _OSM_ATTRIBUTION),
    "carto": Basemap(
        "carto", "CARTO 浅色 (positron)", "https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}{r}.png",
        f'{_OSM_ATTRIBUTION} &copy; <a href="https://carto.com/attributions">CARTO</a>',
        subdomains="abcd", max_zoom=20,
    ),
    "amap": Basemap(
        "amap", "高德地图 (GCJ-02)",
        "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
        "&copy; 高德地图 AutoNavi", datum="GCJ02", subdomains="1234", max_zoom=18,
    ),
    "tianditu": Basemap(
        "tianditu", "天地图", _TIANDITU_WMTS.replace("{layer}", "vec"), "&copy; 天地图 Tianditu",
        subdomains="01234567", max_zoom=18, overlay_tiles=_TIANDITU_WMTS.replace("{layer}", "cva"),
        needs_key=True,
    ),
}


def _tianditu_key() -> str:
    return os.environ.get(TIANDITU_KEY_VAR, "").strip()


def available_basemaps() -> dict[str, str]:
    """Basemaps usable now, ``key -> title``; Tianditu only with ``TIANDITU_KEY`` set."""
    return {key: bm.title for key, bm in BASEMAPS.items() if not bm.needs_key or _tianditu_key()}


def get_basemap(key: str) -> Basemap:
    """The basemap called ``key``.

    Raises
    ------
    ParameterError
        Unknown key, or Tianditu without ``TIANDITU_KEY``.
    """
    bm = BASEMAPS.get(key) if isinstance(key, str) else None
    if bm is None:
        known = ", ".join(BASEMAPS)
        msg = f"未知底图 {key!r}，可选：{known} (unknown basemap {key!r}: use one of {known})"
        raise ParameterError(msg)
    if bm.needs_key and not _tianditu_key():
        msg = (f"天地图底图需要在环境变量 {TIANDITU_KEY_VAR} 中设置密钥 "
               f"(the Tianditu basemap needs a key in the {TIANDITU_KEY_VAR} environment variable)")
        raise ParameterError(msg)
    return bm


def display_point(lat: float, lon: float, *, basemap: str) -> tuple[float, float]:
    """A WGS-84 position as drawn on ``basemap`` (shifted to GCJ-02 on AMap).

    Parameters
    ----------
    lat, lon : float
        WGS-84 latitude and longitude, degrees.
    basemap : str, keyword-only
        A key of :data:`BASEMAPS`.

    Returns
    -------
    (lat, lon)
        Degrees in the basemap's datum.
    """
    bm = get_basemap(basemap)
    if bm.datum == "WGS84":
        return float(lat), float(lon)
    x, y = _datum.convert(lon, lat, source="WGS84", target=bm.datum)
    return float(y), float(x)


def from_display_point(lat: float, lon: float, *, basemap: str) -> tuple[float, float]:
    """Inverse of :func:`display_point`: a position on ``basemap`` back to WGS-84 (lat, lon), degrees."""
    bm = get_basemap(basemap)
    if bm.datum == "WGS84":
        return float(lat), float(lon)
    x, y = _datum.convert(lon, lat, source=bm.datum, target="WGS84")
    return float(y), float(x)


def new_map(
    basemap: str,
    *,
    center: tuple[float, float] | None = None,
    zoom: int | None = None,
    height: str | int = "100%",
) -> folium.Map:
    """An empty Leaflet map on ``basemap``, centred in the basemap's datum.

    Parameters
    ----------
    basemap : str
        A key of :data:`BASEMAPS`.
    center : (lat, lon), optional, keyword-only
        WGS-84 degrees (default :data:`DEFAULT_CENTER`).
    zoom : int, optional, keyword-only
        Leaflet zoom level (default :data:`DEFAULT_ZOOM`).
    height : str or int, keyword-only
        CSS length or pixels.

    Returns
    -------
    folium.Map
        With the basemap's tile layer(s) and a metric scale bar, nothing else.
    """
    bm = get_basemap(basemap)
    lat, lon = center if center is not None else DEFAULT_CENTER
    lat, lon = display_point(lat, lon, basemap=basemap)
    m = folium.Map(location=[lat, lon], zoom_start=int(zoom) if zoom is not None else DEFAULT_ZOOM, tiles=None,
                   control_scale=False, height=height, prefer_canvas=False)
    _MetricScale().add_to(m)  # folium's scale bar shows miles and feet too
    key = _tianditu_key()
    folium.TileLayer(tiles=bm.tiles.replace("{key}", key), attr=bm.attribution, name=escape(bm.title),
                     subdomains=bm.subdomains, max_zoom=bm.max_zoom, overlay=False, control=True).add_to(m)
    if bm.overlay_tiles:
        folium.TileLayer(tiles=bm.overlay_tiles.replace("{key}", key), attr=bm.attribution, name="注记",
                         subdomains=bm.subdomains, max_zoom=bm.max_zoom, overlay=True, control=False).add_to(m)
    return m


class _MetricScale(MacroElement):
    """A scale bar in metres and kilometres only (Leaflet's default adds miles and feet)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        L.control.scale({metric: true, imperial: false}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # branca is not annotated
        self._name = "MetricScale"
