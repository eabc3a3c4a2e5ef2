"""The map's view as state: where it looks, how a fly-to is sent, what marks its target.

A live map in Streamlit (``st_folium``) moves only when it is handed a
``center`` or ``zoom`` that *differs from the last one it was handed*. So a
second fly-to to the same place after the planner panned away does nothing,
and a fly-to that sends only a centre keeps whatever zoom the planner left
(10, or 5 after zooming out), where a wetland of a few km² cannot be seen.
This module keeps the view as a value and sends every change explicitly:

* :func:`view_for_bounds` picks the zoom that shows a box (a district, a park
  polygon, the whole city) in a map of a given size, Web-Mercator maths;
  :func:`view_for_geometry` does it for any geometry (a point gets a street
  zoom);
* :func:`sendable` turns a view and a serial number (one more per fly-to) into
  the ``center``/``zoom`` handed to ``st_folium``: the centre moves by 1e-7°
  (1 cm) and the zoom by 1e-6 levels between odd and even serials, so two
  fly-tos in a row always differ; Leaflet rounds the zoom to its snap, so
  nothing the planner sees changes;
* :func:`focus_group` draws the target: a ring that no cluster swallows (it
  is a layer of its own, never clustered), the outline of an area, and its
  label.

Written here rather than taken from a library: ``st_folium`` has no "fit these
bounds" argument, and folium's ``fit_bounds`` is a script that reloads the
live map.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import folium
import geopandas as gpd
import shapely
from branca.element import MacroElement
from jinja2 import Template

from .. import datum as _datum
from .basemaps import get_basemap
from .popups import escape

__all__ = [
    "FOCUS_COLOUR",
    "FOCUS_TITLE",
    "LIVE_MAP_CSS",
    "POINT_ZOOM",
    "LayerMemory",
    "MapView",
    "focus_group",
    "sendable",
    "view_for_bounds",
    "view_for_geometry",
]

#: Zoom a fly-to to a point uses (streets and blocks readable).
POINT_ZOOM = 15

#: Highest zoom a fly-to to an area uses (a tiny polygon is still shown with its surroundings).
MAX_FIT_ZOOM = 16

#: Lowest zoom a view ever gets.
MIN_ZOOM = 3

#: Layer-control title of the target marker.
FOCUS_TITLE = "定位目标"

#: Colour of the target ring and outline (magenta: no layer of planatlas uses it).
FOCUS_COLOUR = "#e7298a"

_TILE_PX = 256.0


@dataclass(frozen=True)
class MapView:
    """Where a map looks.

    Attributes
    ----------
    center : (float, float)
        (lat, lon), WGS-84 degrees.
    zoom : int
        Leaflet zoom level.
    """

    center: tuple[float, float]
    zoom: int


def _mercator_y(lat: float) -> float:
    """Web-Mercator y of a latitude, in units of the world's width (0 at the equator)."""
    lat = max(min(lat, 85.0), -85.0)
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) / (2 * math.pi)


def view_for_bounds(bounds: tuple[float, float, float, float], *, width_px: float, height_px: float,
                    padding_px: float = 24.0, max_zoom: int = MAX_FIT_ZOOM) -> MapView:
    """The view that shows a box whole in a map of ``width_px`` × ``height_px`` pixels.

    Parameters
    ----------
    bounds : (minx, miny, maxx, maxy)
        WGS-84 degrees (lon, lat).
    width_px, height_px : float, keyword-only
        Size of the map on screen, pixels.
    padding_px : float, keyword-only
        Margin kept free on each side, pixels.
    max_zoom : int, keyword-only
        Highest zoom returned (a point-sized box gets this).

    Returns
    -------
    MapView
        Centre of the box (in Mercator, so it is the visual centre) and the
        highest whole zoom at which the box fits.
    """
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    y0, y1 = _mercator_y(miny), _mercator_y(maxy)
    centre_y = (y0 + y1) / 2
    centre_lat = math.degrees(2 * math.atan(math.exp(centre_y * 2 * math.pi)) - math.pi / 2)
    width = max(float(width_px) - 2 * padding_px, 64.0)
    height = max(float(height_px) - 2 * padding_px, 64.0)
    span_x = max((maxx - minx) / 360.0, 1e-9)
    span_y = max(y1 - y0, 1e-9)
    fit = math.log2(min(width / (span_x * _TILE_PX), height / (span_y * _TILE_PX)))
    zoom = int(max(MIN_ZOOM, min(max_zoom, math.floor(fit))))
    return MapView((centre_lat, (minx + maxx) / 2), zoom)


def view_for_geometry(geometry: shapely.Geometry, *, width_px: float, height_px: float,
                      point_zoom: int = POINT_ZOOM) -> MapView:
    """The view that shows a geometry: a point at ``point_zoom``, anything else fitted.

    Parameters
    ----------
    geometry : shapely geometry
        WGS-84 (lon, lat).
    width_px, height_px : float, keyword-only
        Size of the map on screen, pixels.
    point_zoom : int, keyword-only
        Zoom of a point (and of a line or area smaller than a few metres).
    """
    minx, miny, maxx, maxy = shapely.bounds(geometry).tolist()
    if shapely.get_type_id(geometry) == 0 or (maxx - minx < 1e-5 and maxy - miny < 1e-5):
        return MapView((float(miny + maxy) / 2, float(minx + maxx) / 2), int(point_zoom))
    return view_for_bounds((minx, miny, maxx, maxy), width_px=width_px, height_px=height_px,
                           max_zoom=max(point_zoom, MAX_FIT_ZOOM))


def sendable(view: MapView, serial: int, *, basemap: str = "osm") -> tuple[tuple[float, float], float]:
    """``(center, zoom)`` to hand ``st_folium`` so that it applies this view (see the module notes).

    Parameters
    ----------
    view : MapView
        WGS-84.
    serial : int
        One more for every view sent (a fly-to, a page switch): consecutive
        serials always give different values.
    basemap : str, keyword-only
        The centre is given in the basemap's datum (GCJ-02 on AMap).

    Returns
    -------
    ((lat, lon), zoom)
    """
    from .basemaps import display_point

    lat, lon = display_point(*view.center, basemap=basemap)
    odd = int(serial) % 2
    return (lat + odd * 1e-7, lon), float(view.zoom) + odd * 1e-6


def is_unmoved_base(lat: float, lng: float, zoom: float, *, basemap: str = "osm") -> bool:
    """Whether a view the live map reports is the base map's own built-in view.

    The live map's script always starts at
    :data:`~spatial.webmap.DEFAULT_CENTER` and
    :data:`~spatial.webmap.DEFAULT_ZOOM` (:func:`spatial.webmap.make_live_map`);
    a freshly mounted map (another basemap, a reload) can report that view
    before the view sent to it is applied. Taken as the planner's view, it
    would be written to the URL and a reload at that moment would open on
    the wrong place. Returns True only for exactly that view (to 1e-6
    degrees, in the basemap's datum, at that zoom).

    >>> from spatial.webmap import DEFAULT_CENTER, DEFAULT_ZOOM
    >>> is_unmoved_base(*DEFAULT_CENTER, DEFAULT_ZOOM)
    True
    >>> is_unmoved_base(36.7652, 117.05, DEFAULT_ZOOM)
    False
    """
    from .basemaps import DEFAULT_CENTER, DEFAULT_ZOOM, display_point

    base_lat, base_lng = display_point(*DEFAULT_CENTER, basemap=basemap)
    return (abs(float(lat) - base_lat) < 1e-6 and abs(float(lng) - base_lng) < 1e-6
            and abs(float(zoom) - DEFAULT_ZOOM) < 1e-9)


def focus_group(geometry: shapely.Geometry, label: str, *, basemap: str = "osm") -> folium.FeatureGroup:
    """A layer marking a fly-to's target: a ring at its point, its outline if it is an area or line.

    Parameters
    ----------
    geometry : shapely geometry
        WGS-84.
    label : str
        What the target is (shown beside the ring; escaped here).
    basemap : str, keyword-only
        The mark is drawn in the basemap's datum.

    Returns
    -------
    folium.FeatureGroup
        Named :data:`FOCUS_TITLE`; never clustered, drawn above the other layers.
    """
    frame = gpd.GeoDataFrame(geometry=[geometry], crs="EPSG:4326")
    bm = get_basemap(basemap)
    if bm.datum != "WGS84":
        frame = _datum.convert_frame(frame, source="WGS84", target=bm.datum)
    shape = frame.geometry.iloc[0]
    group = folium.FeatureGroup(name=FOCUS_TITLE, show=True)
    if shape.geom_type != "Point":
        outline = {"color": FOCUS_COLOUR, "weight": 3, "opacity": 0.95, "fillOpacity": 0.0, "dashArray": "6 4",
                   "className": "pa-focus-outline"}
        folium.GeoJson(shapely.geometry.mapping(shape), style_function=lambda _f: outline,
                       name=FOCUS_TITLE).add_to(group)
    point = shape.representative_point() if shape.geom_type != "Point" else shape
    text = escape(label)
    folium.CircleMarker([point.y, point.x], radius=16, color=FOCUS_COLOUR, weight=4, fill=False,
                        class_name="pa-focus",
                        tooltip=folium.Tooltip(text, permanent=True, direction="right",
                                               class_name="pa-focus-label")).add_to(group)
    folium.CircleMarker([point.y, point.x], radius=3, color=FOCUS_COLOUR, weight=1, fill=True,
                        fill_opacity=1.0, class_name="pa-focus-dot").add_to(group)
    return group


#: CSS of a live map: the map fills its frame (whose height follows the window, see the app's CSS),
#: the layer control scrolls instead of running off the map, the target's label stands out.
LIVE_MAP_CSS = """
<style>
  html, body { height: 100%; margin: 0; }
  #map_div { height: 100vh !important; }
  .leaflet-control-layers-expanded { max-height: calc(100vh - 70px); overflow-y: auto; max-width: 260px; }
  .leaflet-control-layers-overlays label { font-size: 12px; line-height: 16px; }
  .pa-focus-label { font-weight: bold; border: 2px solid #e7298a; }
</style>
"""


class LayerMemory(MacroElement):
    """Layers the planner switched off in the layer control stay off when the overlays are redrawn.

    ``st_folium`` removes and re-adds every overlay when anything about them
    changes (a colour figure, clustering, a fly-to's mark), which ticks every
    box again. Added to a feature group, this element keeps, in the map
    frame's ``window``, the names the planner unticked *with a click* (not the
    removals ``st_folium`` makes itself) and switches such a layer off again
    right after it is redrawn. The layer control shows it unticked.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var group = {{ this._parent.get_name() }};
            var map = {{ this._parent._parent.get_name() }};
            var name = {{ this.layer_name|tojson }};
            var hidden = window.__paHidden = window.__paHidden || {};
            if (!map.__paWired) {
                map.__paWired = true;
                var clicked = function () {
                    var c = window.layer_control;
                    if (c && c._handlingClick) { return true; }
                    return false;
                };
                map.on("overlayremove", function (e) { if (clicked()) { hidden[e.name] = true; } });
                map.on("overlayadd", function (e) { if (clicked()) { delete hidden[e.name]; } });
            }
            if (hidden[name]) {
                setTimeout(function () { if (group._map) { group._map.removeLayer(group); } }, 0);
            }
        })();
        {% endmacro %}
        """
    )

    def __init__(self, layer_name: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # branca is not annotated
        self._name = "LayerMemory"
        self.layer_name = layer_name
