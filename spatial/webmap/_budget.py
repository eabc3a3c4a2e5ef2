"""How much of a layer a web map can carry: every feature, simplified lines, or a grid summary.

A browser draws a few thousand features with their popups well; 200,000
uploaded points become a page of 213 MB that Streamlit refuses to send. So
each layer is fitted to a budget before it is drawn (:func:`fit_for_display`):

1. up to :data:`spatial.settings.MAX_DRAWN_FEATURES` features and
   :data:`spatial.settings.MAX_DRAWN_VERTICES` vertices: drawn as they are
   (points clustered where the style and the map ask for it);
2. too many vertices: lines and polygons are simplified further, four times
   coarser at each try, up to about 1 km, until they fit;
3. too many features (or vertices even then): the layer is summarised on a
   square grid, one cell per square with the number of features whose
   representative point falls in it.

A layer drawn otherwise than feature by feature says so in its title (the
layer control) and in the note returned, which the app shows beside the map.
The stored layer and its exports keep every feature and vertex.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import settings
from ..layerspec import LayerSpec, LayerStyle

#: Coarsest display simplification tried before summarising, degrees (about 1 km).
MAX_TOLERANCE_DEG: float = 0.01

_POINT_TYPES = (0, 4)


@dataclass(frozen=True)
class Fitted:
    """A layer as it will be drawn.

    Attributes
    ----------
    frame : GeoDataFrame
        The features to draw (the layer itself, simplified, or grid cells).
    spec : LayerSpec
        The spec to draw them with (title carrying the note when changed).
    note : str
        Chinese-first note on what was changed ("" when drawn as it is).
    """

    frame: gpd.GeoDataFrame
    spec: LayerSpec
    note: str = ""


def _vertices(geoms: np.ndarray) -> int:
    return int(shapely.get_num_coordinates(geoms).sum())


def fit_for_display(frame: gpd.GeoDataFrame, spec: LayerSpec, *, max_features: int | None = None,
                    max_vertices: int | None = None) -> Fitted:
    """The layer fitted to the drawing budget (see the module's docstring).

    Parameters
    ----------
    frame : GeoDataFrame
        Drawable features (geometry present), in the basemap's datum.
    spec : LayerSpec
    max_features, max_vertices : int, optional, keyword-only
        The budget (default :data:`~spatial.settings.MAX_DRAWN_FEATURES`,
        :data:`~spatial.settings.MAX_DRAWN_VERTICES`).
    """
    most_features = settings.MAX_DRAWN_FEATURES if max_features is None else int(max_features)
    most_vertices = settings.MAX_DRAWN_VERTICES if max_vertices is None else int(max_vertices)
    if len(frame) > most_features:
        return summarise(frame, spec, max_cells=most_features)
    geoms = np.asarray(frame.geometry.values, dtype=object)
    if _vertices(geoms) <= most_vertices:
        return Fitted(frame, spec)
    shaped = ~np.isin(shapely.get_type_id(geoms), _POINT_TYPES)
    tolerance = max(spec.style.tolerance_deg, 1e-5)
    while tolerance < MAX_TOLERANCE_DEG:
        tolerance = min(tolerance * 4, MAX_TOLERANCE_DEG)
        simpler = geoms.copy()
        simpler[shaped] = shapely.simplify(geoms[shaped], tolerance, preserve_topology=True)
        if _vertices(simpler) <= most_vertices:
            metres = tolerance * 111_000
            note = (f"{spec.title_zh or spec.name}：线和面的节点过多，地图上按约 {metres:,.0f} m 简化显示 "
                    f"(导出与分析使用原始几何) ({spec.name}: simplified to about {metres:,.0f} m for display; "
                    "exports and analyses use every vertex)")
            out = frame.set_geometry(gpd.GeoSeries(simpler, index=frame.index, crs=frame.crs))
            title = f"{spec.title_zh or spec.name} (简化显示)"
            style = replace(spec.style, tolerance_deg=0.0)
            return Fitted(out, replace(spec, title_zh=title, style=style), note)
    return summarise(frame, spec, max_cells=most_features)


def summarise(frame: gpd.GeoDataFrame, spec: LayerSpec, *, max_cells: int) -> Fitted:
    """The layer as square grid cells counting its features (at most ``max_cells`` cells).

    The cell side is the layer's extent divided so the grid has at most
    ``max_cells`` squares, rounded up to a whole number of arc-seconds.
    """
    points = shapely.point_on_surface(np.asarray(frame.geometry.values, dtype=object))
    x, y = shapely.get_x(points), shapely.get_y(points)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    x0, y0 = float(x.min()), float(y.min())
    width, height = max(float(x.max()) - x0, 1e-6), max(float(y.max()) - y0, 1e-6)
    side = max(math.sqrt(width * height / max(max_cells, 1)), width / max_cells, height / max_cells)
    side = math.ceil(side * 3600 * 1.05) / 3600  # whole arc-seconds, a little slack
    col = np.floor((x - x0) / side).astype(np.int64)
    row = np.floor((y - y0) / side).astype(np.int64)
    cells, counts = np.unique(np.stack([col, row], axis=1), axis=0, return_counts=True)
    boxes = shapely.box(x0 + cells[:, 0] * side, y0 + cells[:, 1] * side,
                        x0 + (cells[:, 0] + 1) * side, y0 + (cells[:, 1] + 1) * side)
    km = side * 111.0
    title = spec.title_zh or spec.name
    n = len(frame)
    table = pd.DataFrame({
        "name": [f"{title}：本格 {int(c):,} 个要素" for c in counts],
        "features_in_cell": counts.astype(np.int64),
        "source": f"{title} 按约 {km:.1f} km 网格汇总 (planatlas)",
        "source_datum": frame["source_datum"].iloc[0] if "source_datum" in frame.columns and n else "WGS84",
        "precision": "grid_summary",
    })
    cells_frame = gpd.GeoDataFrame(table, geometry=list(boxes), crs=frame.crs)
    note = (f"{title} 有 {n:,} 个要素，超过地图逐个显示的上限 {max_cells:,}，已按约 {km:.1f} km 网格汇总显示 "
            f"(导出与分析使用全部要素) ({spec.name} has {n:,} features, more than a map draws one by one: "
            f"shown as counts on a grid of about {km:.1f} km; exports and analyses use every feature)")
    style = LayerStyle(color=spec.style.color, fill_color=spec.style.fill_color or spec.style.color,
                       weight=0.5, fill_opacity=0.45, tolerance_deg=0.0)
    summary_spec = replace(spec, title_zh=f"{title} (共 {n:,} 个，网格汇总)", style=style)
    return Fitted(cells_frame, summary_spec, note)
