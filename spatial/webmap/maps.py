"""The two maps planatlas draws: a whole map, and a live map split for ``st_folium``.

Both draw what they are given. Each layer comes with its
:class:`~spatial.layerspec.LayerSpec` (the store's specs from
:func:`spatial.store.read_specs`, or ``RESULT_SPECS`` of an analysis); the
spec decides drawing order, default visibility, style, popup template and
title, so the map never needs to know a layer by name and a new layer is
drawn properly the day it is declared.

:func:`make_map` returns one Folium map (for a notebook, the coverage page and
the standalone HTML export). :func:`make_live_map` returns the same overlays
split from a base map of tiles only: ``st_folium`` reloads the whole Leaflet
page whenever the map's own script changes, but swaps feature groups passed
separately in place, so a layer or colour change redraws in about 0.4 s
instead of reloading the map in more than one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import folium
import geopandas as gpd
from folium.elements import JSCSSMixin
from folium.plugins import MarkerCluster

from .. import vocab
from .._errors import ParameterError
from ..layerspec import LayerSpec
from ._draw import DISPLAY_NOTE, add_overlays
from .assets import STATIC_URL, localise_assets, localise_element, walk
from .basemaps import new_map
from .legends import LegendControl
from .view import LIVE_MAP_CSS, LayerMemory

__all__ = ["LiveMap", "figure_choices", "make_live_map", "make_map"]


def figure_choices(specs: Mapping[str, LayerSpec]) -> dict[str, str]:
    """The figures a map can colour districts by, ``column -> heading``, for a picker.

    Parameters
    ----------
    specs : mapping of str to LayerSpec
        Specs of the layers (e.g. :func:`spatial.store.read_specs`).

    Returns
    -------
    dict of str to str
        The ``style.figures`` of every spec whose role is ``districts``, with
        their headings from :func:`spatial.vocab.column_label`.
    """
    return {figure: vocab.column_label(figure)
            for spec in specs.values() if spec.role == "districts" for figure in spec.style.figures}


def make_map(
    layers: Mapping[str, gpd.GeoDataFrame | None],
    *,
    specs: Mapping[str, LayerSpec] | None = None,
    basemap: str = "osm",
    center: tuple[float, float] | None = None,
    zoom: int | None = None,
    color_by: str | None = None,
    cluster_items: bool = True,
    hidden: Iterable[str] | None = None,
    fit_to: str | None = None,
    collapsed_control: bool = True,
    asset_url: str = STATIC_URL,
    height: str | int = "100%",
) -> folium.Map:
    """Draw layers on a Leaflet map with a layer control, each as its spec says.

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame
        Layers by name. Frames need a CRS; they are shown in WGS-84 (GCJ-02
        on AMap). Rows with no geometry (ungeocoded report items) are left
        out; None values are skipped.
    specs : mapping of str to LayerSpec, optional, keyword-only
        Spec of each layer; a layer without one gets
        :func:`spatial.layerspec.default_spec`. Drawing order is
        ``spec.order``, default visibility ``spec.visible``, style
        ``spec.style``, layer-control title ``spec.title_zh``.
    basemap : {"osm", "carto", "amap", "tianditu"}, keyword-only
        ``"amap"`` shifts every overlay to GCJ-02 so it lines up with Gaode's
        tiles; ``"tianditu"`` needs ``TIANDITU_KEY``.
    center : (lat, lon), optional, keyword-only
        WGS-84 degrees (default :data:`~spatial.webmap.DEFAULT_CENTER`).
    zoom : int, optional, keyword-only
        Leaflet zoom level (default :data:`~spatial.webmap.DEFAULT_ZOOM`).
    color_by : str, optional, keyword-only
        One of the ``style.figures`` of the layer whose role is
        ``districts``, e.g. ``"density"``: a choropleth of 5 quantile
        classes with its legend inside the map.
    cluster_items : bool, keyword-only
        Cluster the points of layers whose ``style.cluster`` is set
        (Leaflet.markercluster).
    hidden : iterable of str, optional, keyword-only
        Layer names to add switched off; when given, every other layer is
        shown (default: each spec's ``visible``).
    fit_to : str, optional, keyword-only
        Name of a layer to zoom to (overrides ``center`` and ``zoom``).
    collapsed_control : bool, keyword-only
        Fold the layer control into Leaflet's layers button (it unfolds on
        hover); with one entry per report category it would cover the map.
    asset_url : str, keyword-only
        Where the page finds the vendored JS/CSS (default :data:`~spatial.webmap.STATIC_URL`).
    height : str or int, keyword-only
        Map height, CSS length or pixels.

    Returns
    -------
    folium.Map
        Render it with ``st_folium`` or save it with :func:`~spatial.webmap.standalone_html`.

    Raises
    ------
    ParameterError
        Unknown basemap, Tianditu without a key, a ``color_by`` that is not a
        figure of a drawn districts layer, a ``fit_to`` that is not a layer,
        or a layer that is not a GeoDataFrame.
    CRSError
        A layer has no CRS.
    """
    if fit_to is not None and fit_to not in layers:
        msg = f"没有要缩放到的图层 {fit_to} (fit_to={fit_to!r} is not one of the layers)"
        raise ParameterError(msg)
    m = new_map(basemap, center=center, zoom=zoom, height=height)
    drawn = add_overlays(m, layers, specs=specs, basemap=basemap, color_by=color_by,
                         cluster_items=cluster_items, hidden=hidden)
    target = drawn.get(fit_to) if fit_to is not None else None
    if target is not None and len(target):
        minx, miny, maxx, maxy = (float(v) for v in target.total_bounds)
        m.fit_bounds([[miny, minx], [maxy, maxx]], padding=(20, 20))
    folium.LayerControl(collapsed=collapsed_control).add_to(m)
    return localise_assets(m, base_url=asset_url)


@dataclass
class LiveMap:
    """A map split for ``st_folium``'s dynamic layers.

    Attributes
    ----------
    base : folium.Map
        The basemap only (assets localised; Leaflet.markercluster always
        linked, since scripts load once per page). Its script does not depend
        on the overlays, so changing them never reloads the page.
    groups : list of folium.FeatureGroup
        The overlays, not attached to ``base`` (``st_folium(feature_group_to_add=)``).
        Legends travel inside their layer's group and show inside the map.
    control : folium.LayerControl
        Layer control for ``st_folium(layer_control=)``.
    legends : list of str
        Escaped HTML of the legends the groups draw inside the map (already
        shown: for a caption or a test, not to draw again).
    notes : list of str
        Chinese-first notes on layers drawn simplified or summarised on a
        grid because they were too large for the browser (to show beside the map).
    """

    base: folium.Map
    groups: list[folium.FeatureGroup]
    control: folium.LayerControl
    legends: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def make_live_map(
    layers: Mapping[str, gpd.GeoDataFrame | None],
    *,
    specs: Mapping[str, LayerSpec] | None = None,
    basemap: str = "osm",
    color_by: str | None = None,
    cluster_items: bool = True,
    hidden: Iterable[str] | None = None,
    collapsed_control: bool = True,
    asset_url: str = STATIC_URL,
    height: str | int = "100%",
    focus: folium.FeatureGroup | None = None,
) -> LiveMap:
    """Like :func:`make_map`, split into a base map and its overlays (see :class:`LiveMap`).

    The base map is always built at :data:`~spatial.webmap.DEFAULT_CENTER` and
    :data:`~spatial.webmap.DEFAULT_ZOOM` so its script stays the same; move it
    with ``st_folium(center=, zoom=)`` (:func:`spatial.webmap.view.sendable`).
    The map fills its frame (:data:`~spatial.webmap.view.LIVE_MAP_CSS`), and
    layers the planner unticks in the layer control stay unticked when the
    overlays are redrawn (:class:`~spatial.webmap.view.LayerMemory`).
    ``focus`` (:func:`spatial.webmap.view.focus_group`) is drawn last, above
    every layer and outside any cluster. Other parameters and errors as for
    :func:`make_map`.
    """
    base = new_map(basemap, height=height)
    root: Any = base.get_root()  # a branca Figure (branca is not annotated)
    root.header.add_child(folium.Element(LIVE_MAP_CSS), name="pa_live_css")
    scratch = new_map(basemap, height=height)
    drawn = add_overlays(scratch, layers, specs=specs, basemap=basemap, color_by=color_by,
                         cluster_items=cluster_items, hidden=hidden)
    notes = [str(f.attrs.get(DISPLAY_NOTE)) for f in drawn.values() if f.attrs.get(DISPLAY_NOTE)]
    groups = [child for child in scratch._children.values() if isinstance(child, folium.FeatureGroup)]
    if focus is not None:
        groups.append(focus)
    for group in groups:  # detached: st_folium attaches them to the live map itself
        LayerMemory(str(group.layer_name)).add_to(group)
        group._parent = None
        for element in walk(group):
            if isinstance(element, JSCSSMixin):
                localise_element(element, base_url=asset_url)
    # scripts load once per page: link markercluster even while nothing is clustered
    base.default_js = [*folium.Map.default_js, ("markerclusterjs", MarkerCluster.default_js[0][1])]
    base.default_css = [*folium.Map.default_css, *MarkerCluster.default_css]
    localise_assets(base, base_url=asset_url)
    legends = [e.html for g in groups for e in walk(g) if isinstance(e, LegendControl)]
    return LiveMap(base, groups, folium.LayerControl(collapsed=collapsed_control), legends, notes)
