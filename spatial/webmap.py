"""Interactive web maps of the planning layers (Folium / Leaflet), offline-ready.

:func:`make_map` draws the layers of the store on one Leaflet map with a layer
control: districts coloured by a chosen figure, the 起步区 (starting zone), the
都市圈 rings, the Yellow River and its crossings coloured by status, parks,
greenways and the report items by category.

Two rules shape this module:

* **Everything from data is HTML-escaped.** Popup and tooltip HTML is built here
  in Python from escaped strings and stored as one pre-rendered property per
  feature; the raw data columns never reach the page. Leaflet's layer control
  renders layer names as HTML too, so names are escaped as well.
* **No CDN.** Folium points Leaflet, jQuery and MarkerCluster at jsdelivr /
  cdnjs and adds Bootstrap and Font Awesome. Here every element's assets are
  re-pointed to copies served by the app (``./static/vendor`` at
  ``/app/static/vendor``, filled from the ``xstatic`` packages by
  :func:`install_assets`), and the parts planatlas does not use (Bootstrap,
  Font Awesome, awesome-markers) are dropped. :func:`standalone_html` inlines
  the same files for a map that opens from disk with no internet at all.
  Only the basemap tiles themselves still need a tile server.

:func:`make_live_map` builds the same map split in two for ``st_folium``: a
base map of tiles only, and the overlays as feature groups that the component
swaps without reloading Leaflet (a layer or colour change redraws in about
0.4 s instead of reloading the map in more than one).

Basemaps: OpenStreetMap and CARTO positron (WGS-84), AMap/Gaode (GCJ-02: every
overlay is shifted to GCJ-02 with :func:`spatial.datum.convert_frame` while it
is shown on it, else features sit 300-600 m off in Jinan) and Tianditu
(WGS-84/CGCS2000, needs a key in the ``TIANDITU_KEY`` environment variable).
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
import re
import shutil
import uuid
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element
from folium.elements import JSCSSMixin
from folium.plugins import MarkerCluster
from folium.utilities import JsCode

from . import datum as _datum
from ._errors import EmptyLayerError, UnknownLayerError
from .projection import require_crs

__all__ = [
    "BASEMAPS",
    "CATEGORY_ZH",
    "DEFAULT_CENTER",
    "DEFAULT_ZOOM",
    "DISTRICT_FIGURES",
    "LAYER_ORDER",
    "STATIC_URL",
    "Basemap",
    "available_basemaps",
    "category_colour",
    "class_breaks",
    "display_point",
    "from_display_point",
    "escape",
    "install_assets",
    "layer_title",
    "LiveMap",
    "legend_html",
    "localise_assets",
    "make_live_map",
    "make_map",
    "popup_html",
    "standalone_html",
]

#: Centre of the map when none is given: Jinan, between the old city and the
#: 起步区 north of the Yellow River (latitude, longitude; WGS-84).
DEFAULT_CENTER: tuple[float, float] = (36.72, 117.05)

#: Zoom level showing the central districts of Jinan.
DEFAULT_ZOOM: int = 10

#: URL under which the app serves ``./static/vendor`` (Streamlit serves
#: ``./static`` at ``/app/static`` when ``server.enableStaticServing`` is on).
STATIC_URL: str = "/app/static/vendor"


# --------------------------------------------------------------------------- escaping


def escape(value: object) -> str:
    """HTML-escape any value for popup, tooltip or layer-control HTML.

    Besides ``& < > " '`` (what :func:`html.escape` covers) the backtick, ``$``
    and backslash are written as character references too: Folium places some
    HTML inside JavaScript template literals, where ``${...}`` would run as
    code; escaped here they are inert wherever the string ends up.

    Parameters
    ----------
    value : object
        Anything; ``None`` and NaN give an empty string.

    Returns
    -------
    str
        Text safe to place inside HTML elements and attribute values.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = html.escape(str(value), quote=True)
    return text.replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;")


def _fmt_number(value: object) -> str:
    if value is None:
        return ""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(number):
        return ""
    if (number.is_integer() or abs(number) >= 100) and abs(number) < 1e15:
        return f"{round(number):,}"
    return f"{number:,.2f}"


def _fmt_year(value: object) -> str:
    try:
        return str(int(float(value)))
    except (TypeError, ValueError):
        return "" if value is None else str(value)


def _fmt_json_list(value: object) -> str:
    """Render a JSON text column (quantities, mentions) as short readable text."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        return ""
    try:
        data = json.loads(value) if isinstance(value, str) else value
    except (TypeError, ValueError):
        return str(value)
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        return str(data)
    parts = []
    for entry in data:
        if isinstance(entry, dict):
            # the raw text of a quantity, when kept, is what a planner recognises
            raw = entry.get("text") or entry.get("raw") or entry.get("name")
            if raw:
                parts.append(str(raw))
            else:
                parts.append(
                    " ".join(str(v) for k, v in entry.items() if v not in (None, "") and k != "span")
                )
        else:
            parts.append(str(entry))
    return "；".join(p for p in parts if p)


def popup_html(
    title: object,
    rows: Iterable[tuple[str, object]] = (),
    *,
    quote: object = None,
    provenance: Mapping[str, object] | None = None,
) -> str:
    """Build escaped popup HTML: a title, an optional quoted sentence, a table.

    Parameters
    ----------
    title : object
        Heading (escaped).
    rows : iterable of (label, value)
        Table rows; empty values are skipped. Labels and values are escaped.
    quote : object, optional
        The original report sentence, shown as a block quote (escaped).
    provenance : mapping, optional
        ``source``, ``source_datum`` and ``precision`` of the feature.

    Returns
    -------
    str
        HTML in which every data string is escaped.
    """
    out = [f'<div class="pa-popup" style="max-width:340px;font-size:13px"><b>{escape(title)}</b>']
    if quote not in (None, "") and not (isinstance(quote, float) and math.isnan(quote)):
        out.append(
            '<blockquote class="pa-quote" style="margin:4px 0;padding-left:6px;'
            f'border-left:3px solid #999">{escape(quote)}</blockquote>'
        )
    table = [
        f"<tr><th style='text-align:left;padding-right:6px;white-space:nowrap;vertical-align:top'>"
        f"{escape(label)}</th>"
        f"<td>{escape(value)}</td></tr>"
        for label, value in rows
        if value not in (None, "") and not (isinstance(value, float) and math.isnan(value))
    ]
    if provenance:
        for label, key in (("来源", "source"), ("坐标系", "source_datum"), ("精度", "precision")):
            value = provenance.get(key)
            if value not in (None, "") and not (isinstance(value, float) and math.isnan(value)):
                table.append(
                    f"<tr class='pa-prov'><th style='text-align:left;padding-right:6px;"
                    f"white-space:nowrap;vertical-align:top;color:#666'>{label}</th><td style='color:#666'>{escape(value)}</td></tr>"
                )
    if table:
        out.append("<table>" + "".join(table) + "</table>")
    out.append("</div>")
    return "".join(out)


# --------------------------------------------------------------------------- assets


@dataclass(frozen=True)
class _Asset:
    package: str  # xstatic module path
    file: str  # path inside the package's data folder
    target: str  # path under static/vendor


_ASSETS: tuple[_Asset, ...] = (
    _Asset("xstatic.pkg.leaflet", "leaflet.js", "leaflet/leaflet.js"),
    _Asset("xstatic.pkg.leaflet", "leaflet.css", "leaflet/leaflet.css"),
    *(
        _Asset("xstatic.pkg.leaflet", f"images/{name}", f"leaflet/images/{name}")
        for name in ("layers.png", "layers-2x.png", "marker-icon.png", "marker-icon-2x.png", "marker-shadow.png")
    ),
    _Asset("xstatic.pkg.leaflet_markercluster", "leaflet.markercluster.js", "markercluster/leaflet.markercluster.js"),
    _Asset("xstatic.pkg.leaflet_markercluster", "MarkerCluster.css", "markercluster/MarkerCluster.css"),
    _Asset("xstatic.pkg.leaflet_markercluster", "MarkerCluster.Default.css", "markercluster/MarkerCluster.Default.css"),
    _Asset("xstatic.pkg.jquery", "jquery.min.js", "jquery/jquery.min.js"),
)

# Folium's resource names -> our vendor path. Anything not listed (bootstrap,
# font awesome, awesome-markers, glyphicons) is dropped: planatlas draws circle
# markers and plain HTML popups, which need none of them.
_JS_BY_NAME = {
    "leaflet": "leaflet/leaflet.js",
    "jquery": "jquery/jquery.min.js",
    "markerclusterjs": "markercluster/leaflet.markercluster.js",
}
_CSS_BY_NAME = {
    "leaflet_css": "leaflet/leaflet.css",
    "markerclustercss": "markercluster/MarkerCluster.css",
    "markerclusterdefaultcss": "markercluster/MarkerCluster.Default.css",
}
_DROPPED = {
    "bootstrap", "awesome_markers", "bootstrap_css", "glyphicons_css",
    "awesome_markers_font_css", "awesome_markers_css", "awesome_rotate_css",
}


def _asset_source(asset: _Asset) -> Path:
    import importlib

    try:
        module = importlib.import_module(asset.package)
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise FileNotFoundError(
            f"{asset.package} is not installed; pip install xstatic-leaflet "
            "xstatic-leaflet-markercluster xstatic-jquery"
        ) from exc
    return Path(module.BASE_DIR) / asset.file


def install_assets(static_dir: str | os.PathLike | None = None) -> Path:
    """Copy Leaflet, Leaflet.markercluster and jQuery into ``static_dir/vendor``.

    Idempotent: a file is copied only when missing or different in size, so
    calling this at every app start costs a few ``stat`` calls.

    Parameters
    ----------
    static_dir : path, optional
        The app's static folder (default: ``static/`` next to ``streamlit_app.py``,
        i.e. in the project root).

    Returns
    -------
    pathlib.Path
        The ``vendor`` folder.
    """
    if static_dir is None:
        from .settings import PROJECT_ROOT

        static_dir = PROJECT_ROOT / "static"
    vendor = Path(static_dir) / "vendor"
    for asset in _ASSETS:
        src = _asset_source(asset)
        dst = vendor / asset.target
        if dst.exists() and dst.stat().st_size == src.stat().st_size:
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        # copy to a name of our own first, so a concurrent reader never sees half
        # a file and two app processes starting together never share one
        tmp = dst.with_name(f".{dst.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
    return vendor


def _walk(element):
    yield element
    for child in getattr(element, "_children", {}).values():
        yield from _walk(child)


def localise_assets(m: folium.Map, *, base_url: str = STATIC_URL) -> folium.Map:
    """Point every JS/CSS link of a map (and its children) at local copies.

    Parameters
    ----------
    m : folium.Map
        Changed in place.
    base_url : str
        URL of the vendor folder (default :data:`STATIC_URL`).

    Returns
    -------
    folium.Map
        ``m``, for chaining.

    Raises
    ------
    UnknownLayerError
        If an element asks for a resource planatlas has no local copy of
        (e.g. a Folium plugin not vendored here); better refused than a map
        that silently breaks offline.
    """
    for element in _walk(m):
        if isinstance(element, JSCSSMixin):
            localise_assets_element(element, base_url=base_url)
    return m


def localise_assets_element(element: JSCSSMixin, *, base_url: str = STATIC_URL) -> None:
    """:func:`localise_assets` for one element (no children)."""
    base = base_url.rstrip("/")
    js, css = [], []
    for name, url in element.default_js:
        if name in _JS_BY_NAME:
            js.append((name, f"{base}/{_JS_BY_NAME[name]}"))
        elif name not in _DROPPED and not url.startswith(base):
            raise UnknownLayerError(f"no local copy of the script {name!r} ({url})")
    for name, url in element.default_css:
        if name in _CSS_BY_NAME:
            css.append((name, f"{base}/{_CSS_BY_NAME[name]}"))
        elif name not in _DROPPED and not url.startswith(base):
            raise UnknownLayerError(f"no local copy of the stylesheet {name!r} ({url})")
    # instance attributes shadow Folium's class-level lists
    element.default_js = js
    element.default_css = css


def _inline_css(path: Path) -> str:
    text = re.sub(r"/\*# sourceMappingURL=.*?\*/", "", path.read_text(encoding="utf-8"))

    def _data_uri(match: re.Match) -> str:
        ref = match.group(1).strip("'\"")
        target = path.parent / ref
        if ref.startswith("data:") or not target.is_file():
            return match.group(0)
        payload = base64.b64encode(target.read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{payload})"

    return re.sub(r"url\(([^)]+)\)", _data_uri, text)


def standalone_html(m: folium.Map) -> str:
    """Self-contained HTML of a map: Leaflet & co. inlined, no CDN links.

    Parameters
    ----------
    m : folium.Map
        Map from :func:`make_map` (any Folium map whose resources are vendored).

    Returns
    -------
    str
        A complete HTML document. It opens from disk with no internet; only
        the basemap tiles need a tile server.
    """
    localise_assets(m, base_url=STATIC_URL)
    page = m.get_root().render()
    sources = {f"{STATIC_URL}/{a.target}": a for a in _ASSETS}

    def _script(match: re.Match) -> str:
        asset = sources.get(match.group(1))
        if asset is None:
            return match.group(0)
        code = _asset_source(asset).read_text(encoding="utf-8")
        # the source maps are not shipped with the page
        code = re.sub(r"^//# sourceMappingURL=.*$", "", code, flags=re.MULTILINE).strip()
        # a literal "</script" inside inlined code would end the element early
        code = re.sub(r"</(script)", r"<\\/\1", code, flags=re.IGNORECASE)
        return f"<script>{code}</script>"

    def _link(match: re.Match) -> str:
        asset = sources.get(match.group(1))
        if asset is None:
            return match.group(0)
        return f"<style>{_inline_css(_asset_source(asset))}</style>"

    page = re.sub(r'<script src="([^"]+)"></script>', _script, page)
    page = re.sub(r'<link rel="stylesheet" href="([^"]+)"/>', _link, page)
    return page


# --------------------------------------------------------------------------- basemaps


@dataclass(frozen=True)
class Basemap:
    """A tile basemap: URL template, attribution and the datum of its tiles."""

    key: str
    title: str
    tiles: str
    attribution: str
    datum: str = "WGS84"
    subdomains: str = "abc"
    max_zoom: int = 19
    overlay_tiles: str | None = None  # labels drawn over the base (Tianditu)


BASEMAPS: dict[str, Basemap] = {
    "osm": Basemap(
        "osm", "OpenStreetMap",
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
        subdomains="abc",
    ),
    "carto": Basemap(
        "carto", "CARTO 浅色 (positron)",
        "https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}{r}.png",
        '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors '
        '&copy; <a href="https://carto.com/attributions">CARTO</a>',
        subdomains="abcd", max_zoom=20,
    ),
    "amap": Basemap(
        "amap", "高德地图 (GCJ-02)",
        "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
        "&copy; 高德地图 AutoNavi",
        datum="GCJ02", subdomains="1234", max_zoom=18,
    ),
    "tianditu": Basemap(
        "tianditu", "天地图",
        "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
        "&LAYER=vec&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}"
        "&TILECOL={x}&tk={key}",
        "&copy; 天地图 Tianditu",
        subdomains="01234567", max_zoom=18,
        overlay_tiles="https://t{s}.tianditu.gov.cn/cva_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
        "&VERSION=1.0.0&LAYER=cva&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}"
        "&TILEROW={y}&TILECOL={x}&tk={key}",
    ),
}


def available_basemaps() -> dict[str, str]:
    """Basemaps usable now, ``key -> title``; Tianditu only with ``TIANDITU_KEY`` set."""
    return {
        key: bm.title
        for key, bm in BASEMAPS.items()
        if key != "tianditu" or os.environ.get("TIANDITU_KEY", "").strip()
    }


def display_point(lat: float, lon: float, *, basemap: str) -> tuple[float, float]:
    """A WGS-84 (lat, lon) as drawn on ``basemap`` (GCJ-02 on AMap)."""
    bm = _basemap(basemap)
    if bm.datum == "WGS84":
        return float(lat), float(lon)
    x, y = _datum.convert(lon, lat, source="WGS84", target=bm.datum)
    return float(y), float(x)


def from_display_point(lat: float, lon: float, *, basemap: str) -> tuple[float, float]:
    """Inverse of :func:`display_point`: a map position back to WGS-84 (lat, lon)."""
    bm = _basemap(basemap)
    if bm.datum == "WGS84":
        return float(lat), float(lon)
    x, y = _datum.convert(lon, lat, source=bm.datum, target="WGS84")
    return float(y), float(x)


def _basemap(key: str) -> Basemap:
    if key not in BASEMAPS:
        raise UnknownLayerError(f"unknown basemap {key!r}: use one of {', '.join(BASEMAPS)}")
    if key == "tianditu" and not os.environ.get("TIANDITU_KEY", "").strip():
        raise UnknownLayerError("the Tianditu basemap needs a key in the TIANDITU_KEY environment variable")
    return BASEMAPS[key]


# --------------------------------------------------------------------------- styles

# Colours chosen to stay distinguishable on both light and OSM basemaps.
_STATUS_COLOURS = {"open": "#1a9850", "under_construction": "#f46d43", "planned": "#7b3294"}
_STATUS_ZH = {"open": "已通车", "under_construction": "在建", "planned": "规划"}
_RING_COLOURS = {"core": "#b2182b", "tight": "#ef8a62", "radiating": "#67a9cf"}
_RING_ZH = {"core": "核心圈", "tight": "紧密圈", "radiating": "辐射圈"}
_CATEGORY_PALETTE = (
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf",
    "#8c564b", "#e377c2", "#bcbd22", "#7f7f7f",
)
_CHOROPLETH = ("#ffffcc", "#fed976", "#fd8d3c", "#e31a1c", "#800026")  # YlOrRd, 5 classes
#: Chinese names of the report's categories (spatial.report.CATEGORY_KEYWORDS keys).
CATEGORY_ZH: dict[str, str] = {
    "parks": "公园", "greenways": "绿道", "river_crossings": "跨黄河通道", "transport": "交通",
    "water": "水务", "ecology": "生态环境", "education": "教育", "health": "医疗卫生",
    "culture": "文化旅游", "industry": "产业", "housing": "住房城建", "commerce": "商贸",
    "technology": "科技创新", "government": "政务", "social": "社会民生", "other": "其他",
}
_GEOCODE_ZH = {"place": "地点", "district": "仅区县", "unresolved": "未找到地点", "none": "无地名"}
_PRECISION_ZH = {
    "exact": "精确", "approximate": "约1公里内", "area_centroid": "区域中心",
    "district_fallback": "仅到区县", "unresolved": "未定位",
}

#: Layer titles used when ``layers.LAYERS`` is not importable.
_FALLBACK_TITLES = {
    "districts": "区县", "starting_zone": "起步区", "metro_rings": "都市圈",
    "yellow_river": "黄河", "river_crossings": "跨黄河通道", "parks": "公园",
    "greenways": "绿道", "report_items": "报告条目", "places": "地名",
    # analysis results drawn by the app
    "service_area": "服务范围", "gaps": "覆盖缺口", "facilities": "设施",
}

#: Fixed colours of analysis layers (others get a stable colour from their name).
_ANALYSIS_COLOURS = {"service_area": "#2b8cbe", "gaps": "#e31a1c", "facilities": "#252525"}

#: Numeric district columns worth colouring by, with their Chinese labels.
DISTRICT_FIGURES: dict[str, str] = {
    "population_2020_alloc": "常住人口 (2020)",
    "area_km2": "面积 (km²)",
    "density": "人口密度 (人/km²)",
}


def layer_title(name: str) -> str:
    """Chinese title of a store layer (from ``layers.LAYERS`` when available)."""
    try:
        from layers import LAYERS  # noqa: PLC0415 - optional at import time

        meta = LAYERS.get(name)
        # LAYERS values are LayerSpec records (attributes), or plain dicts
        title = getattr(meta, "title_zh", None) or (meta.get("title_zh") if isinstance(meta, dict) else None)
        if title:
            return str(title)
    except ImportError:
        pass
    return _FALLBACK_TITLES.get(name, name)


def category_colour(category: object, categories: list[str]) -> str:
    """Stable colour of a report-item category within a sorted category list."""
    try:
        return _CATEGORY_PALETTE[categories.index(str(category)) % len(_CATEGORY_PALETTE)]
    except ValueError:
        return "#555555"


def class_breaks(values, *, k: int = 5) -> np.ndarray:
    """Quantile class breaks (k+1 edges) of the finite values, duplicates removed."""
    arr = np.asarray(pd.to_numeric(pd.Series(values), errors="coerce"), dtype=float)
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        return np.array([])
    return np.unique(np.quantile(arr, np.linspace(0, 1, k + 1)))


def _class_colour(value: object, breaks: np.ndarray) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "#cccccc"
    if not np.isfinite(number) or breaks.size == 0:
        return "#cccccc"
    if breaks.size == 1:
        return _CHOROPLETH[-1]
    idx = int(np.searchsorted(breaks, number, side="right") - 1)
    idx = min(max(idx, 0), breaks.size - 2)
    # spread the classes over the palette when quantiles collapsed into fewer
    pos = round(idx * (len(_CHOROPLETH) - 1) / max(breaks.size - 2, 1))
    return _CHOROPLETH[pos]


# --------------------------------------------------------------------------- popups per layer


def _prov(row: Mapping) -> dict:
    return {k: row.get(k) for k in ("source", "source_datum", "precision")}


def _precision_label(value: object) -> str:
    return _PRECISION_ZH.get(str(value), str(value)) if value not in (None, "") else ""


def _item_popup(row: Mapping) -> str:
    section = " / ".join(str(v) for v in (row.get("part_title"), row.get("section_title")) if v not in (None, "") and not (isinstance(v, float) and math.isnan(v)))
    year = row.get("year")
    prov = _prov(row)
    if prov.get("precision"):
        prov["precision"] = f"{prov['precision']} ({_precision_label(prov['precision'])})"
    return popup_html(
        row.get("place_name") or row.get("topic") or row.get("item_id"),
        [
            ("条目", row.get("item_id")),
            ("章节", section),
            ("类别", CATEGORY_ZH.get(str(row.get("category")), row.get("category"))),
            ("年份", _fmt_year(year)),
            ("数量", _fmt_json_list(row.get("quantities"))),
            ("地点", row.get("place_name")),
            ("定位", _GEOCODE_ZH.get(str(row.get("geocode_status")), row.get("geocode_status"))),
        ],
        quote=row.get("text"),
        provenance=prov,
    )


def _district_popup(row: Mapping) -> str:
    rows = [(label, _fmt_number(row.get(col))) for col, label in DISTRICT_FIGURES.items() if col in row]
    return popup_html(row.get("name"), rows, provenance=_prov(row))


def _crossing_popup(row: Mapping) -> str:
    status = row.get("status")
    return popup_html(
        row.get("name"),
        [
            ("状态", _STATUS_ZH.get(str(status), status)),
            ("形式", row.get("mode")),
            ("承载", row.get("carries")),
            ("通车年份", _fmt_number(row.get("opened")) if row.get("opened") not in (None, "") else None),
        ],
        provenance=_prov(row),
    )


def _ring_popup(row: Mapping) -> str:
    ring = row.get("ring")
    return popup_html(
        row.get("name"),
        [
            ("圈层", _RING_ZH.get(str(ring), ring)),
            ("距离 (km)", _fmt_number(row.get("distance_km"))),
            ("人口 (2020)", _fmt_number(row.get("population_2020"))),
        ],
        quote=row.get("sentence"),
        provenance=_prov(row),
    )


_SKIP_COLUMNS = {"geometry", "source", "source_datum", "precision", "_popup", "_tooltip", "_style"}


def _generic_popup(row: Mapping, title: str) -> str:
    name = row.get("name") or row.get("place_name") or title
    rows = [(str(k), v) for k, v in row.items() if k not in _SKIP_COLUMNS and not str(k).startswith("_")][:12]
    return popup_html(name, rows, provenance=_prov(row))


# --------------------------------------------------------------------------- drawing


def _drawable(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    geom = gdf.geometry
    keep = geom.notna() & ~geom.is_empty
    out = gdf.loc[keep].copy()
    if out.crs is not None and not out.crs.equals("EPSG:4326"):
        out = out.to_crs("EPSG:4326")
    return out.reset_index(drop=True)


def _records(gdf: gpd.GeoDataFrame) -> list[dict]:
    frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    frame = frame.astype(object).where(frame.notna(), None)
    return frame.to_dict("records")


_BIND_POPUP = JsCode(
    """function(feature, layer) {
        var p = feature.properties;
        if (p._popup) { layer.bindPopup(p._popup, {maxWidth: 360}); }
        if (p._tooltip) { layer.bindTooltip(p._tooltip, {sticky: true}); }
    }"""
)


#: Display-only simplification, degrees (about 10 m in Jinan): invisible at city
#: zoom, and it shrinks the page several-fold (district outlines carry
#: thousands of vertices). Stored and exported layers keep every vertex.
DISPLAY_TOLERANCE_DEG = 1e-4

#: Coarser tolerances for regional layers, seen at province or city scale.
_LAYER_TOLERANCE_DEG = {"metro_rings": 2e-3, "districts": 3e-4}


def display_geometry(geoms: np.ndarray, *, tolerance: float = DISPLAY_TOLERANCE_DEG) -> np.ndarray:
    """Lines and polygons simplified for drawing; all coordinates rounded to 1e-6 degrees (0.1 m)."""
    geoms = np.asarray(geoms)
    shaped = ~np.isin(shapely.get_type_id(geoms), (0, 4))  # points stay as they are
    out = geoms.copy()
    out[shaped] = shapely.simplify(geoms[shaped], tolerance, preserve_topology=True)
    return shapely.transform(out, lambda xy: np.round(xy, 6))


def _geojson(
    gdf: gpd.GeoDataFrame,
    popups: list[str],
    tooltips: list[str],
    styles: list[dict],
    *,
    name: str,
    tolerance: float = DISPLAY_TOLERANCE_DEG,
) -> folium.GeoJson:
    # Only pre-escaped HTML and style values reach the page, never raw columns.
    # The FeatureCollection is built directly (shapely.to_geojson is vectorised);
    # GeoDataFrame.__geo_interface__ walks rows and was most of make_map's time.
    geoms = display_geometry(gdf.geometry.values, tolerance=tolerance)
    features = [
        {"type": "Feature", "id": str(i), "geometry": json.loads(g),
         "properties": {"_popup": p, "_tooltip": t, "_style": sty}}
        for i, (g, p, t, sty) in enumerate(zip(shapely.to_geojson(np.asarray(geoms)), popups, tooltips, styles))
    ]
    has_points = bool(np.isin(shapely.get_type_id(np.asarray(geoms)), (0, 4)).any())  # Point, MultiPoint
    return folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=name,
        style_function=lambda feature: feature["properties"]["_style"],
        marker=folium.CircleMarker(radius=6, fill=True) if has_points else None,
        # bound per feature (not on the GeoJson group) so popups also open when
        # Leaflet.markercluster has taken the features out of their group
        on_each_feature=_BIND_POPUP,
    )


def _add_layer(
    m: folium.Map,
    key: str,
    gdf: gpd.GeoDataFrame,
    *,
    color_districts_by: str | None,
    cluster_items: bool,
    show: bool = True,
) -> list[folium.FeatureGroup]:
    """Add one layer's feature group(s) to ``m``; return them."""
    title = layer_title(key)
    gdf = _drawable(gdf)
    rows = _records(gdf)
    groups: list[folium.FeatureGroup] = []

    if key == "report_items":
        categories = sorted({str(r.get("category") or "其他") for r in rows})
        cats = np.array([str(r.get("category") or "其他") for r in rows], dtype=object)
        for cat in categories:
            idx = np.flatnonzero(cats == cat)
            colour = category_colour(cat, categories)
            cat_zh = CATEGORY_ZH.get(cat, cat)
            group = folium.FeatureGroup(name=escape(f"{title} · {cat_zh}"), show=show)
            sub = gdf.iloc[idx]
            popups = [_item_popup(rows[i]) for i in idx]
            tips = [escape(f"{rows[i].get('place_name') or ''} · {cat_zh}") for i in idx]
            styles = [
                {"color": colour, "fillColor": colour, "fillOpacity": 0.8, "weight": 1,
                 "radius": 6, "className": "pa-item"}
                for _ in idx
            ]
            layer = _geojson(sub, popups, tips, styles, name=escape(cat))
            if cluster_items:
                cluster = MarkerCluster(name=escape(cat), control=False)
                layer.add_to(cluster)
                cluster.add_to(group)
            else:
                layer.add_to(group)
            group.add_to(m)
            groups.append(group)
        return groups

    group = folium.FeatureGroup(name=escape(title), show=show)
    if key == "districts":
        figure = color_districts_by if color_districts_by and color_districts_by in gdf.columns else None
        breaks = class_breaks(gdf[figure]) if figure else np.array([])
        popups = [_district_popup(r) for r in rows]
        tips = [escape(f"{r.get('name') or ''}" + (f" · {_fmt_number(r.get(figure))}" if figure else "")) for r in rows]
        styles = [
            {"color": "#444444", "weight": 1,
             "fillColor": _class_colour(r.get(figure), breaks) if figure else "#9ecae1",
             "fillOpacity": 0.6 if figure else 0.15, "className": "pa-district"}
            for r in rows
        ]
        if figure and breaks.size:
            legend = legend_html(DISTRICT_FIGURES.get(figure, figure), breaks)
            m.get_root().html.add_child(Element(legend), name="pa_legend")
    elif key == "starting_zone":
        popups = [popup_html(r.get("name") or title, [], provenance=_prov(r)) for r in rows]
        tips = [escape(r.get("name") or title) for r in rows]
        styles = [{"color": "#d95f02", "weight": 3, "dashArray": "6 4", "fillOpacity": 0.08} for _ in rows]
    elif key == "metro_rings":
        popups = [_ring_popup(r) for r in rows]
        tips = [escape(f"{r.get('name') or ''} · {_RING_ZH.get(str(r.get('ring')), r.get('ring') or '')}") for r in rows]
        styles = [
            {"color": _RING_COLOURS.get(str(r.get("ring")), "#999999"), "weight": 2,
             "fillColor": _RING_COLOURS.get(str(r.get("ring")), "#999999"), "fillOpacity": 0.1, "radius": 7}
            for r in rows
        ]
    elif key == "yellow_river":
        popups = [popup_html(r.get("name") or title, [], provenance=_prov(r)) for r in rows]
        tips = [escape(r.get("name") or title) for r in rows]
        styles = [{"color": "#c89f3c", "weight": 5, "opacity": 0.85, "fillOpacity": 0.3} for _ in rows]
    elif key == "river_crossings":
        popups = [_crossing_popup(r) for r in rows]
        tips = [escape(f"{r.get('name') or ''} · {_STATUS_ZH.get(str(r.get('status')), r.get('status') or '')}") for r in rows]
        styles = [
            {"color": _STATUS_COLOURS.get(str(r.get("status")), "#555555"), "weight": 4,
             "fillColor": _STATUS_COLOURS.get(str(r.get("status")), "#555555"), "fillOpacity": 0.9,
             "radius": 6, "className": "pa-crossing"}
            for r in rows
        ]
    elif key in ("parks", "greenways"):
        popups = [_generic_popup(r, title) for r in rows]
        tips = [escape(r.get("name") or title) for r in rows]
        colour = "#238b45" if key == "parks" else "#41ab5d"
        styles = [{"color": colour, "weight": 3 if key == "greenways" else 1, "fillColor": colour,
                   "fillOpacity": 0.35, "radius": 5} for _ in rows]
    else:
        popups = [_generic_popup(r, title) for r in rows]
        tips = [escape(r.get("name") or r.get("place_name") or title) for r in rows]
        # crc32, not hash(): str hashes change between processes, colours must not
        colour = "#555555" if key == "places" else _ANALYSIS_COLOURS.get(
            key, _CATEGORY_PALETTE[zlib.crc32(key.encode("utf-8")) % len(_CATEGORY_PALETTE)]
        )
        # gaps are context, the service area is the result: fill them accordingly
        fill = {"gaps": 0.18, "service_area": 0.55}.get(key, 0.35)
        radius = {"places": 4, "facilities": 3}.get(key, 6)
        styles = [{"color": colour, "weight": 1 if key in ("gaps", "facilities") else 2, "fillColor": colour,
                   "fillOpacity": fill, "radius": radius} for _ in rows]
    _geojson(gdf, popups, tips, styles, name=escape(title),
             tolerance=_LAYER_TOLERANCE_DEG.get(key, DISPLAY_TOLERANCE_DEG)).add_to(group)
    group.add_to(m)
    groups.append(group)
    return groups


def legend_html(label: str, breaks: np.ndarray, *, floating: bool = True) -> str:
    """HTML legend of a choropleth (escaped); ``floating`` places it over the map.

    A plain HTML legend: branca's colormap legend would pull d3 from a CDN.
    """
    n = breaks.size - 1
    rows = []
    for i in range(max(n, 1)):
        colour = _class_colour(breaks[min(i, breaks.size - 1)], breaks)
        hi = breaks[min(i + 1, breaks.size - 1)]
        item = "div" if floating else "span"  # a column over the map, a row under it
        rows.append(
            f'<{item} style="margin-right:10px"><span style="display:inline-block;width:12px;height:12px;'
            f'background:{colour};margin-right:4px"></span>'
            f"{escape(_fmt_number(breaks[i]))} – {escape(_fmt_number(hi))}</{item}>"
        )
    place = "position:absolute;bottom:56px;left:10px;z-index:1000;" if floating else "display:inline-block;"
    title_style = "" if floating else ' style="margin-right:10px"'
    return (
        f'<div class="pa-legend" style="{place}'
        'background:rgba(255,255,255,.9);padding:6px 8px;font-size:12px;border-radius:4px">'
        f"<b{title_style}>{escape(label)}</b>{''.join(rows)}</div>"
    )


#: Drawing order: areas first, points last, so points stay clickable.
LAYER_ORDER: tuple[str, ...] = (
    "districts", "metro_rings", "starting_zone", "parks", "yellow_river", "greenways",
    "river_crossings", "places", "report_items",
)

#: Layers hidden until ticked in the layer control (dense or secondary).
HIDDEN_BY_DEFAULT: frozenset[str] = frozenset({"places"})


def make_map(
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    basemap: str = "osm",
    center: tuple[float, float] | None = None,
    zoom: int | None = None,
    color_districts_by: str | None = None,
    cluster_items: bool = True,
    hidden: Iterable[str] | None = None,
    fit_to: str | None = None,
    collapsed_control: bool = True,
    asset_url: str = STATIC_URL,
    height: str | int = "100%",
) -> folium.Map:
    """Draw planning layers on a Leaflet map with a layer control.

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame
        Layers by name. Store layer names (``districts``, ``report_items``, ...)
        get their own styling and Chinese popups; any other name (an uploaded
        layer, an analysis result) is drawn with a generic style. Frames must
        have a CRS; they are shown in WGS-84 (or GCJ-02 on AMap). Rows with no
        geometry (e.g. ungeocoded report items) are skipped.
    basemap : {"osm", "carto", "amap", "tianditu"}
        Tile basemap. ``"amap"`` shifts every overlay to GCJ-02 so it lines up
        with Gaode's tiles; ``"tianditu"`` needs ``TIANDITU_KEY``.
    center : (lat, lon), optional
        Map centre in WGS-84 degrees (default :data:`DEFAULT_CENTER`).
    zoom : int, optional
        Zoom level (default :data:`DEFAULT_ZOOM`).
    color_districts_by : str, optional
        Numeric ``districts`` column for the choropleth, e.g. ``"density"``
        (quantile classes, 5 colours, legend shown).
    cluster_items : bool
        Cluster report items with Leaflet.markercluster.
    hidden : iterable of str, optional
        Layer names to add switched off (default :data:`HIDDEN_BY_DEFAULT`).
    fit_to : str, optional
        Name of a layer to zoom the map to (overrides ``center``/``zoom``),
        e.g. an analysis result.
    collapsed_control : bool
        Fold the layer control into Leaflet's layers button (it unfolds on
        hover); with one entry per report category it would cover the map.
    asset_url : str
        Where the page finds the vendored JS/CSS (default :data:`STATIC_URL`).
    height : str or int
        Map height (CSS length or pixels).

    Returns
    -------
    folium.Map
        The map; render it with ``st_folium`` or save it with :func:`standalone_html`.

    Raises
    ------
    UnknownLayerError
        Unknown basemap, or Tianditu without a key.
    CRSError
        A layer has no CRS.
    """
    m = _base_map(basemap, center=center, zoom=zoom, height=height)
    drawn = _add_overlays(m, layers, basemap=basemap, color_districts_by=color_districts_by,
                          cluster_items=cluster_items, hidden=hidden)
    if fit_to is not None and fit_to in drawn and len(drawn[fit_to]):
        minx, miny, maxx, maxy = drawn[fit_to].total_bounds
        m.fit_bounds([[miny, minx], [maxy, maxx]], padding=(20, 20))
    folium.LayerControl(collapsed=collapsed_control).add_to(m)
    return localise_assets(m, base_url=asset_url)


def _base_map(basemap: str, *, center, zoom, height) -> folium.Map:
    """An empty map on a basemap (centre converted to the basemap's datum)."""
    bm = _basemap(basemap)
    center = tuple(center) if center is not None else DEFAULT_CENTER
    zoom = int(zoom) if zoom is not None else DEFAULT_ZOOM
    if bm.datum != "WGS84":
        lon, lat = _datum.convert(center[1], center[0], source="WGS84", target=bm.datum)
        center = (float(lat), float(lon))

    m = folium.Map(location=list(center), zoom_start=zoom, tiles=None, control_scale=True,
                   height=height, prefer_canvas=False)
    key = os.environ.get("TIANDITU_KEY", "").strip()
    folium.TileLayer(
        tiles=bm.tiles.replace("{key}", key), attr=bm.attribution, name=escape(bm.title),
        subdomains=bm.subdomains, max_zoom=bm.max_zoom, overlay=False, control=True,
    ).add_to(m)
    if bm.overlay_tiles:
        folium.TileLayer(
            tiles=bm.overlay_tiles.replace("{key}", key), attr=bm.attribution, name="注记",
            subdomains=bm.subdomains, max_zoom=bm.max_zoom, overlay=True, control=False,
        ).add_to(m)
    return m


def _add_overlays(
    m: folium.Map,
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    basemap: str,
    color_districts_by: str | None,
    cluster_items: bool,
    hidden: Iterable[str] | None,
) -> dict[str, gpd.GeoDataFrame]:
    """Add every layer's feature groups to ``m``; return the frames as drawn."""
    bm = _basemap(basemap)
    hidden_set = set(HIDDEN_BY_DEFAULT if hidden is None else hidden)
    drawn: dict[str, gpd.GeoDataFrame] = {}
    ordered = [k for k in LAYER_ORDER if k in layers] + [k for k in layers if k not in LAYER_ORDER]
    for name in ordered:
        gdf = layers[name]
        if gdf is None:
            continue
        if not isinstance(gdf, gpd.GeoDataFrame):
            raise EmptyLayerError(f"layer {name!r} is not a GeoDataFrame")
        require_crs(gdf, name=name)
        if bm.datum != "WGS84" and len(gdf):
            gdf = _datum.convert_frame(_drawable(gdf), source="WGS84", target=bm.datum)
        drawn[name] = _drawable(gdf)
        _add_layer(m, name, gdf, color_districts_by=color_districts_by,
                   cluster_items=cluster_items, show=name not in hidden_set)
    return drawn


@dataclass
class LiveMap:
    """A map split for ``st_folium``'s dynamic layers.

    ``st_folium`` reloads the whole Leaflet page whenever the map's own script
    changes; feature groups passed separately (``feature_group_to_add``) are
    swapped in place. So the base map holds only the basemap, and a change of
    layers, colours or clustering costs a redraw, not a reload.

    Attributes
    ----------
    base : folium.Map
        The basemap only (assets localised; Leaflet.markercluster always linked,
        since scripts load once per page).
    groups : list of folium.FeatureGroup
        The overlays, not attached to ``base``.
    control : folium.LayerControl
        Layer control for ``st_folium(layer_control=...)``.
    legend : str
        Escaped HTML legend of the choropleth ("" when none), to show beside the map.
    """

    base: folium.Map
    groups: list
    control: folium.LayerControl
    legend: str = ""


def make_live_map(
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    basemap: str = "osm",
    color_districts_by: str | None = None,
    cluster_items: bool = True,
    hidden: Iterable[str] | None = None,
    collapsed_control: bool = True,
    asset_url: str = STATIC_URL,
    height: str | int = "100%",
) -> LiveMap:
    """Like :func:`make_map`, split into a base map and its overlays (see :class:`LiveMap`).

    The base map is always built at :data:`DEFAULT_CENTER` / :data:`DEFAULT_ZOOM`
    so its script stays the same; move it with ``st_folium(center=, zoom=)``.
    Parameters as for :func:`make_map`.
    """
    base = _base_map(basemap, center=None, zoom=None, height=height)
    scratch = _base_map(basemap, center=None, zoom=None, height=height)
    _add_overlays(scratch, layers, basemap=basemap, color_districts_by=color_districts_by,
                  cluster_items=cluster_items, hidden=hidden)
    groups = [child for child in scratch._children.values() if isinstance(child, folium.FeatureGroup)]
    for group in groups:  # detached: st_folium attaches them to the live map itself
        group._parent = None
    legend = ""
    districts = layers.get("districts")
    if color_districts_by and districts is not None and color_districts_by in districts.columns:
        breaks = class_breaks(districts[color_districts_by])
        if breaks.size:
            legend = legend_html(DISTRICT_FIGURES.get(color_districts_by, color_districts_by), breaks,
                                 floating=False)
    # scripts load once per page: link markercluster even while nothing is clustered
    base.default_js = [*folium.Map.default_js, ("markerclusterjs", MarkerCluster.default_js[0][1])]
    base.default_css = [*folium.Map.default_css, *MarkerCluster.default_css]
    localise_assets(base, base_url=asset_url)
    for group in groups:
        for element in _walk(group):
            if isinstance(element, JSCSSMixin):
                localise_assets_element(element, base_url=asset_url)
    control = folium.LayerControl(collapsed=collapsed_control)
    return LiveMap(base, groups, control, legend)
