"""The map of an analysis result (服务圈分析, 生活圈体检): drawn so that a new result never reloads Leaflet.

Built as one folium map per result, the map's script changed with every run
(the layers and the fitted view are in it), so streamlit-folium mounted a new
map each time: tiles, Leaflet and every layer loaded again, 2.5 s of a
coverage run in ``benchmarks/bench_app.py`` against 0.2 s of computing it.
Here the base map stays the same (:func:`spatial.webmap.make_live_map`), the
result's layers travel as ``feature_group_to_add`` and the view as
``center``/``zoom``: sent when the result's box changes or the page is opened
again, never on other reruns, so the planner's own panning stays.

A page passes a ``token`` that names what the map shows (the result object,
the facilities' choice): while it stays the same, the layers drawn and
rendered to script on the first rerun are sent again as they are
(:class:`app_pages.map_overlays.ScriptGroup`), so a widget that has nothing
to do with the map (a number typed, a table sorted) costs no drawing.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np

from app_pages import map_overlays, state
from spatial import webmap
from spatial.layerspec import LayerSpec
from spatial.projection import reproject

#: Width of a result map, pixels, as the pages lay it out on a 1280×720 screen (the results column);
#: the view is fitted to it, so on wider screens the result shows with more room around it.
NOMINAL_WIDTH_PX = 540


def _box(frame: gpd.GeoDataFrame | None) -> tuple[float, float, float, float] | None:
    """WGS-84 bounds of a frame, rounded (a token of what the view was fitted to); None when empty."""
    if frame is None or frame.crs is None or frame.empty:
        return None
    bounds = reproject(frame, 4326).total_bounds
    if not np.isfinite(bounds).all():  # only empty geometries
        return None
    minx, miny, maxx, maxy = (round(float(v), 6) for v in bounds)
    return (minx, miny, maxx, maxy)


def _view_to_send(key: str, box: tuple[float, float, float, float] | None,
                  *, height_px: int) -> tuple[tuple[float, float] | None, float | None]:
    """``(center, zoom)`` for ``st_folium`` when the map must move (new box, page opened again), else (None, None)."""
    if box is None:
        return None, None
    views = dict(state.get(state.RESULT_MAP_VIEWS) or {})
    last = views.get(key)
    opened = state.get(state.PREVIOUS_PAGE) != state.get(state.CURRENT_PAGE)
    if last is not None and last[0] == box and not opened:
        return None, None
    serial = (last[1] + 1) if last is not None else 1
    views[key] = (box, serial)
    state.put(state.RESULT_MAP_VIEWS, views)
    view = webmap.view.view_for_bounds(box, width_px=NOMINAL_WIDTH_PX, height_px=height_px, padding_px=16)
    return webmap.view.sendable(view, serial)


Layers = Mapping[str, gpd.GeoDataFrame | None]


@dataclass(frozen=True)
class _Drawn:
    """What a result map drew last: its token, the object the token names, its groups as script, its box."""

    token: Hashable
    keep: object  # holds the object whose id() is in the token, so that id cannot be reused meanwhile
    groups: tuple[map_overlays.GroupScript, ...]
    box: tuple[float, float, float, float] | None
    serial: int  # the drawing's number for this map: its script's variable names differ from the last one's


def _drawn(layers: Layers | Callable[[], Layers], *, specs: Mapping[str, LayerSpec], key: str, fit_to: str,
           height_px: int, token: Hashable | None, keep: object) -> _Drawn:
    """The groups of ``layers`` as script, from the last rerun when ``token`` is the one they were drawn for."""
    cache = dict(state.get(state.RESULT_MAP_DRAWN) or {})
    last = cache.get(key)
    if token is not None and isinstance(last, _Drawn) and last.token == token:
        return last
    frames = layers() if callable(layers) else layers
    live = webmap.make_live_map(frames, specs=specs, basemap="osm", height=height_px, hidden=())
    serial = last.serial + 1 if isinstance(last, _Drawn) else 1
    groups = tuple(map_overlays.to_script(g, key=f"{key}_{serial}_{i}", basemap="osm")
                   for i, g in enumerate(live.groups))
    cache[key] = drawn = _Drawn(token, keep, groups, _box(frames.get(fit_to)), serial)
    state.put(state.RESULT_MAP_DRAWN, cache)
    return drawn


def draw(layers: Layers | Callable[[], Layers], *, specs: Mapping[str, LayerSpec], key: str,
         fit_to: str, height_px: int, token: Hashable | None = None, keep: object = None) -> None:
    """Draw a result's layers on a map that keeps its Leaflet between results.

    Parameters
    ----------
    layers : mapping of name to GeoDataFrame, or a callable returning one
        The result's layers, any CRS; a callable is called only when the
        layers must be drawn (``token`` changed).
    specs : mapping of name to LayerSpec, keyword-only
        How each is drawn (labels, styles, legends).
    key : str, keyword-only
        The map's widget key (one per page).
    fit_to : str, keyword-only
        The layer whose box the view fits when a new result comes.
    height_px : int, keyword-only
        Height of the map, pixels.
    token : hashable, optional, keyword-only
        What the layers are (e.g. ``("result", id(result))``): the same token
        as on the last rerun reuses that rerun's drawing. ``None`` draws every time.
    keep : object, optional, keyword-only
        The object whose ``id()`` is in ``token``, kept alive with the drawing.
    """
    from streamlit_folium import st_folium

    drawn = _drawn(layers, specs=specs, key=key, fit_to=fit_to, height_px=height_px, token=token, keep=keep)
    frame = webmap.make_live_map({}, basemap="osm", height=height_px)  # base map and control: new each rerun
    center, zoom = _view_to_send(key, drawn.box, height_px=height_px)
    st_folium(frame.base, key=key, feature_group_to_add=[map_overlays.ScriptGroup(g) for g in drawn.groups],
              layer_control=frame.control, height=height_px, use_container_width=True, center=center, zoom=zoom,
              returned_objects=[])
