"""Where a new facility could go: candidate sites, and what is ruled out.

Three sources of candidates, as the planner has them:

* :func:`grid_candidates` — the centres of the cells of a regular grid over
  the study area (residential land, or undeveloped land, or the whole area);
  a site is "somewhere in the ``cell_m`` cell around this point", measured
  from the point. This is the default when a planner has no parcels yet: it
  asks "where, roughly?";
* :func:`layer_candidates` — the features of a layer: the green or park
  polygons of an import, or parcels (地块) a planner uploads;
* both carry a ``candidate_id`` and the provenance columns.

:func:`apply_exclusions` then removes what cannot be built on: anything
touching an exclusion layer (water, a protected area, a mask the planner
draws) and anything on or next to an existing facility of the same type.
Every removal is counted, so the result can say what was left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from .. import settings
from .._errors import EmptyLayerError
from ..projection import metric_crs_for, reproject, require_crs, require_features
from ..thresholds import check_positive

__all__ = ["Exclusions", "apply_exclusions", "grid_candidates", "layer_candidates"]


def grid_candidates(
    area: gpd.GeoDataFrame,
    *,
    cell_m: float = 200.0,
    within: gpd.GeoDataFrame | None = None,
    source: str = "",
) -> gpd.GeoDataFrame:
    """Centres of the cells of a grid over ``area`` that lie inside it (and inside ``within``).

    Parameters
    ----------
    area : GeoDataFrame
        The study area (units, districts), polygons in any CRS.
    cell_m : float, keyword-only
        Cell width, metres (> 0).
    within : GeoDataFrame, optional, keyword-only
        Land the sites must be on (residential land, undeveloped land): a
        cell is kept when its centre lies in one of these polygons.
    source : str, keyword-only
        Provenance written in the ``source`` column (what the grid lies on).

    Returns
    -------
    GeoDataFrame
        Cell centres (points) in EPSG:4326 with ``candidate_id``, ``cell_m``,
        ``source``, ``source_datum``, ``precision``.

    Raises
    ------
    EmptyLayerError
        When no cell centre falls inside the area (and ``within``).
    """
    require_crs(area, name="研究范围 area")
    require_features(area, name="研究范围 area")
    cell = check_positive(cell_m, "候选网格大小 cell_m")
    crs = metric_crs_for(area, name="研究范围 area")
    # make_valid: a planner's polygons are often self-touching; a union must not fail on them
    region = shapely.union_all(shapely.make_valid(reproject(area, crs).geometry.to_numpy()))
    if within is not None:
        require_crs(within, name="用地 within")
        land = shapely.union_all(shapely.make_valid(reproject(within, crs).geometry.to_numpy()))
        region = shapely.intersection(region, land)
    minx, miny, maxx, maxy = shapely.bounds(region)
    if not np.isfinite([minx, miny, maxx, maxy]).all():
        msg = "研究范围内没有可作候选点的用地 (no land in the area to place candidates on)"
        raise EmptyLayerError(msg)
    x0, y0 = np.floor(minx / cell) * cell, np.floor(miny / cell) * cell
    xs = x0 + cell / 2 + cell * np.arange(int(np.ceil((maxx - x0) / cell)))
    ys = y0 + cell / 2 + cell * np.arange(int(np.ceil((maxy - y0) / cell)))
    gx, gy = (a.ravel() for a in np.meshgrid(xs, ys))
    shapely.prepare(region)
    inside = shapely.contains_xy(region, gx, gy)
    if not inside.any():
        msg = (f"研究范围内没有 {cell:g} m 网格的格心：请减小 cell_m (no {cell:g} m cell centre falls inside "
               "the area; use smaller cells)")
        raise EmptyLayerError(msg)
    gx, gy = gx[inside], gy[inside]
    frame = gpd.GeoDataFrame(
        {
            "candidate_id": [f"g{int(x // cell)}_{int(y // cell)}" for x, y in zip(gx, gy, strict=True)],
            "cell_m": cell,
            "source": source or f"规划网格 {cell:g} m (planatlas grid)",
            "source_datum": "WGS84",
            "precision": "approximate",
        },
        geometry=shapely.points(gx, gy), crs=crs,
    )
    return reproject(frame, settings.STORAGE_CRS)


def layer_candidates(layer: gpd.GeoDataFrame, *, id_column: str | None = None, source: str = "") -> gpd.GeoDataFrame:
    """The features of a layer as candidate sites (parcels, green polygons), in EPSG:4326.

    Features without geometry are dropped; ``candidate_id`` is the layer's
    ``id_column`` (or ``name`` when unique, else the row number), and the
    layer's own provenance columns are kept when it has them.

    Raises
    ------
    EmptyLayerError
        When the layer has no feature with a geometry.
    """
    require_crs(layer, name="候选图层 candidates")
    ok = layer.geometry.notna() & ~layer.geometry.is_empty
    frame = reproject(layer[ok], settings.STORAGE_CRS).copy()
    if frame.empty:
        msg = "候选图层没有带几何的要素 (the candidate layer has no feature with a geometry)"
        raise EmptyLayerError(msg)
    if id_column and id_column in frame.columns:
        ids = frame[id_column].astype(str)
    elif "name" in frame.columns and frame["name"].notna().all() and frame["name"].is_unique:
        ids = frame["name"].astype(str)
    else:
        ids = [f"c{i}" for i in range(len(frame))]
    frame.insert(0, "candidate_id", list(ids))
    for col, default in (("source", source or "候选图层 (candidate layer)"), ("source_datum", "WGS84"),
                         ("precision", "exact")):
        if col not in frame.columns:
            frame[col] = default
    return frame.reset_index(drop=True)


@dataclass(frozen=True)
class Exclusions:
    """What :func:`apply_exclusions` took out.

    Attributes
    ----------
    by_layer : dict of str to int
        Candidates removed by each exclusion layer (name -> count).
    at_existing : int
        Candidates on or within the clearance of an existing facility.
    kept : int
        Candidates left.
    """

    by_layer: dict[str, int]
    at_existing: int
    kept: int

    def describe(self) -> str:
        """One Chinese line: what was excluded."""
        parts = [f"{name} {n} 个" for name, n in self.by_layer.items()]
        if self.at_existing:
            parts.append(f"现有设施处 {self.at_existing} 个")
        removed = "，".join(parts) if parts else "无"
        return f"排除：{removed}；余 {self.kept} 个候选点"


def apply_exclusions(
    candidates: gpd.GeoDataFrame,
    *,
    masks: Sequence[tuple[str, gpd.GeoDataFrame]] = (),
    existing: gpd.GeoDataFrame | None = None,
    clearance_m: float = 50.0,
) -> tuple[gpd.GeoDataFrame, Exclusions]:
    """Remove candidates that touch an exclusion layer or sit at an existing facility.

    Parameters
    ----------
    candidates : GeoDataFrame
    masks : sequence of (name, GeoDataFrame), keyword-only
        Layers nothing may be built on (water, protected land, a drawn mask).
        A candidate is removed when it intersects any of their features (a
        grid candidate: when its cell centre lies in one).
    existing : GeoDataFrame, optional, keyword-only
        Existing facilities of the type: candidates within ``clearance_m`` of
        one are removed (a new park is not sited on an existing park).
    clearance_m : float, keyword-only
        Metres (>= 0).

    Returns
    -------
    (GeoDataFrame, Exclusions)

    Raises
    ------
    EmptyLayerError
        When no candidate is left.
    """
    clearance = check_positive(clearance_m, "排除距离 clearance_m", allow_zero=True)
    crs = metric_crs_for(candidates, name="候选点 candidates")
    geoms = np.asarray(reproject(candidates, crs).geometry.values, dtype=object)
    probe = geoms  # grid candidates are their cells' centres; parcels count by their whole shape
    keep = np.ones(len(geoms), dtype=bool)
    by_layer: dict[str, int] = {}
    for name, mask in masks:
        require_crs(mask, name=f"排除图层 {name}")
        mgeoms = np.asarray(reproject(mask, crs).geometry.values, dtype=object)
        mgeoms = mgeoms[~(shapely.is_missing(mgeoms) | shapely.is_empty(mgeoms))]
        hit = np.zeros(len(geoms), dtype=bool)
        if len(mgeoms):
            idx, _ = shapely.STRtree(mgeoms).query(probe, predicate="intersects")
            hit[idx] = True
        by_layer[name] = int((hit & keep).sum())
        keep &= ~hit
    at_existing = 0
    if existing is not None and len(existing):
        require_crs(existing, name="现有设施 existing")
        egeoms = np.asarray(reproject(existing, crs).geometry.values, dtype=object)
        egeoms = egeoms[~(shapely.is_missing(egeoms) | shapely.is_empty(egeoms))]
        if len(egeoms):
            idx, _ = shapely.STRtree(egeoms).query(probe, predicate="dwithin", distance=clearance)
            hit = np.zeros(len(geoms), dtype=bool)
            hit[idx] = True
            at_existing = int((hit & keep).sum())
            keep &= ~hit
    report = Exclusions(by_layer, at_existing, int(keep.sum()))
    if not keep.any():
        msg = f"排除后没有候选点 (no candidate left after the exclusions): {report.describe()}"
        raise EmptyLayerError(msg)
    return candidates[keep].reset_index(drop=True), report
