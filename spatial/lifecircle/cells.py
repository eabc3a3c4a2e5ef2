"""Residential cells: where people live, in 100 m pieces, each in one unit, with its residents.

The evaluation asks its question of every place people live, not of the
whole area of a district: a 100 m grid (aligned to multiples of the cell size
in the metric CRS) is cut by the residential land and by the units, so each
cell is the residential part of one grid square inside one unit. Where no
residential land is known, the units themselves are the land (said in
:attr:`Cells.land`).

What a cell weighs, the first of these that is known:

``residents``
    * a population raster (:class:`~spatial.population.PopulationRaster`):
      the residents of each grid square go to its residential land (split by
      area between the square's cells); residents of squares with no
      residential land are counted in ``Cells.lost_residents`` and said;
    * or each unit's population (a ``population`` column) spread over the
      unit's residential floor area (buildings with ``floor_area_m2``) or,
      failing that, its residential land area (dasymetric mapping, the method
      named in ``Cells.population_method``);
``floor_area_m2`` / ``land_area_m2``
    no residents known: figures are residential floor area or land area, and
    every table says so (never a head count that was not given).

Each cell also carries the point its distances are measured from
(``x``, ``y``: its centroid, or a point on its surface when the centroid
falls outside it) so the same cells serve the evaluation and siting
(:mod:`spatial.lifecircle.reach` measures from them).
"""

from __future__ import annotations

import itertools
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from .._errors import EmptyLayerError, ParameterError
from ..population import PopulationRaster
from ..projection import metric_crs_for, reproject, require_crs, require_features
from ..thresholds import check_positive

__all__ = ["Cells", "build_cells", "unit_labels"]

#: Largest number of grid squares a build may make (a 100 m grid over 10,000 km² is 1,000,000).
MAX_SQUARES = 4_000_000

#: Pieces of a square smaller than this share of it are slivers, not cells (1 m² of a 100 m square).
SLIVER_SHARE = 1e-4

#: Unit columns read as a population, in order of preference.
POPULATION_COLUMNS = ("population", "population_2020_alloc", "population_2020")


@dataclass(eq=False)
class Cells:
    """Residential cells of a study area.

    Attributes
    ----------
    frame : geopandas.GeoDataFrame
        One row per cell, in ``crs`` (metres): ``cell_id`` (0..n-1),
        ``square`` (grid square id), ``unit`` (label of the unit it lies in),
        ``area_m2`` (residential land area), ``floor_area_m2`` (residential
        floor area; NaN when unknown), ``population`` (residents; NaN when
        none are known), ``weight`` (what figures count: see ``weight_kind``),
        ``x``, ``y`` (the point distances are measured from, metres).
    units : geopandas.GeoDataFrame
        The units in ``crs`` with a ``unit`` label column, in their order.
    crs : pyproj.CRS
        Metric CRS of the cells.
    cell_m : float
        Grid square side, metres.
    weight_kind : str
        ``residents``, ``floor_area_m2`` or ``land_area_m2`` (vocab domain ``weight_kind``).
    land : str
        What the cells cut: ``residential`` land, ``buildings`` (their
        footprints), or the ``units`` themselves.
    land_source, population_source, population_method : str
        What the cells stand on, said next to every figure.
    lost_residents : float
        Residents of the population raster on squares with no residential
        land (not in any cell); 0 for other population sources.
    notes : list of str
        Plain-language remarks made while building (Chinese, English in brackets).
    square_corner : numpy.ndarray, shape (n, 2)
        Lower-left corner of each cell's grid square, metres.
    """

    frame: gpd.GeoDataFrame
    units: gpd.GeoDataFrame
    crs: CRS
    cell_m: float
    weight_kind: str
    land: str
    land_source: str = ""
    population_source: str = ""
    population_method: str = ""
    lost_residents: float = 0.0
    notes: list[str] = field(default_factory=list)
    square_corner: np.ndarray = field(default_factory=lambda: np.empty((0, 2)), repr=False)

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def xy(self) -> np.ndarray:
        """The cells' measuring points as an (n, 2) array, metres."""
        return np.column_stack([self.frame["x"].to_numpy(), self.frame["y"].to_numpy()])

    @property
    def weight(self) -> np.ndarray:
        """What each cell counts (residents, or floor / land area in m²)."""
        return np.asarray(self.frame["weight"].to_numpy(dtype="float64"))

    def demand(self) -> gpd.GeoDataFrame:
        """Cells with a positive weight as demand points (EPSG:4326 points with ``cell_id``, ``unit``, ``weight``).

        The input a siting model needs: where the demand is and how much.
        """
        keep = self.frame["weight"].to_numpy() > 0
        f = self.frame[keep]
        points = gpd.GeoDataFrame({"cell_id": f["cell_id"].to_numpy(), "unit": f["unit"].to_numpy(),
                                   "weight": f["weight"].to_numpy()},
                                  geometry=shapely.points(f["x"].to_numpy(), f["y"].to_numpy()), crs=self.crs)
        return reproject(points, "EPSG:4326")


def unit_labels(units: gpd.GeoDataFrame, *, name_column: str = "name") -> pd.Series:
    """A unique text label per unit: its name (numbered when names repeat), else its index."""
    if name_column in units.columns:
        names = units[name_column].astype(str).where(units[name_column].notna(), None)
    else:
        names = pd.Series([None] * len(units), index=units.index, dtype=object)
    labels = [str(n) if n not in (None, "", "None", "nan") else f"单元{i}" for i, n in zip(units.index, names,
                                                                                        strict=True)]
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return pd.Series(out, index=units.index, name="unit")


def _population_column(units: gpd.GeoDataFrame, column: str | None) -> str | None:
    if column is not None:
        if column not in units.columns:
            msg = f"单元图层没有人口字段 {column} (the units have no {column!r} column)"
            raise EmptyLayerError(msg)
        return column
    for name in POPULATION_COLUMNS:
        if name in units.columns and pd.to_numeric(units[name], errors="coerce").notna().any():
            return name
    return None


def _polygons(frame: gpd.GeoDataFrame, crs: CRS) -> tuple[np.ndarray, np.ndarray]:
    """Valid polygonal geometries of a frame in ``crs``, and their row positions."""
    geoms = shapely.make_valid(reproject(frame, crs).geometry.to_numpy())
    keep = np.flatnonzero(np.isin(shapely.get_type_id(geoms), (3, 6, 7)) & ~shapely.is_empty(geoms))
    return geoms[keep], keep


def _clip_to_units(geoms: np.ndarray, ugeoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pieces of ``geoms`` inside each unit: (piece, unit position). Whole ones are kept without an overlay."""
    shapely.prepare(ugeoms)
    ui, gi = shapely.STRtree(geoms).query(ugeoms, predicate="intersects")
    inside = shapely.contains_properly(ugeoms[ui], geoms[gi])
    pieces = np.empty(len(ui), dtype=object)
    pieces[inside] = geoms[gi[inside]]
    edge = ~inside
    if edge.any():
        pieces[edge] = shapely.intersection(geoms[gi[edge]], ugeoms[ui[edge]])
    parts, owner = shapely.get_parts(pieces, return_index=True)
    poly = (shapely.get_type_id(parts) == 3) & (shapely.area(parts) > 0)
    return parts[poly], ui[owner[poly]]


def _land(units_m: gpd.GeoDataFrame, residential: gpd.GeoDataFrame | None, buildings: gpd.GeoDataFrame | None,
          crs: CRS) -> tuple[np.ndarray, np.ndarray, str]:
    """Non-overlapping land parts and the unit (position) each lies in, and what the land is.

    Residential land is dissolved (its polygons may overlap or adjoin); building
    footprints are taken as they are (they do not overlap); without either,
    the units are the land.
    """
    ugeoms = shapely.make_valid(units_m.geometry.to_numpy())
    if residential is not None:
        geoms, _rows = _polygons(residential, crs)
        if len(geoms):
            dissolved = shapely.get_parts(shapely.union_all(geoms))
            parts, owner = _clip_to_units(np.asarray(dissolved, dtype=object), ugeoms)
            return parts, owner, "residential"
    if buildings is not None:
        geoms, _rows = _polygons(buildings, crs)
        if len(geoms):
            parts, owner = _clip_to_units(geoms, ugeoms)
            return parts, owner, "buildings"
    parts, owner = shapely.get_parts(ugeoms, return_index=True)
    return parts, owner, "units"


def _floor_area(cell_geoms: np.ndarray, buildings: gpd.GeoDataFrame | None, crs: CRS) -> np.ndarray | None:
    """Residential floor area in each cell, m²: each building's floor area by the share of its footprint there."""
    if buildings is None or "floor_area_m2" not in buildings.columns:
        return None
    geoms, rows = _polygons(buildings, crs)
    floor = pd.to_numeric(buildings["floor_area_m2"], errors="coerce").to_numpy(dtype="float64")[rows]
    known = np.isfinite(floor) & (floor > 0)
    if not known.any():
        return None
    geoms, floor = geoms[known], floor[known]
    shapely.prepare(cell_geoms)
    ci, bi = shapely.STRtree(geoms).query(cell_geoms, predicate="intersects")
    inside = shapely.contains_properly(cell_geoms[ci], geoms[bi])
    share = np.ones(len(ci))
    edge = ~inside
    if edge.any():
        footprint = shapely.area(geoms[bi[edge]])
        with np.errstate(invalid="ignore", divide="ignore"):
            share[edge] = np.where(footprint > 0, shapely.area(shapely.intersection(cell_geoms[ci[edge]],
                                                                                     geoms[bi[edge]])) / footprint,
                                   0.0)
    return np.bincount(ci, weights=floor[bi] * share, minlength=len(cell_geoms))


def _squares(bounds: np.ndarray, cell: float, origin: tuple[float, float]) -> tuple[np.ndarray, np.ndarray,
                                                                                    np.ndarray, int]:
    """Lower-left corners of the grid squares over ``bounds`` (aligned to ``origin`` + k * cell) and the row width."""
    ox, oy = origin
    x0 = ox + np.floor((bounds[0] - ox) / cell) * cell
    y0 = oy + np.floor((bounds[1] - oy) / cell) * cell
    nx = int(np.ceil((bounds[2] - x0) / cell)) or 1
    ny = int(np.ceil((bounds[3] - y0) / cell)) or 1
    if nx * ny > MAX_SQUARES:
        msg = (f"{cell:g} m 网格在此范围需要 {nx * ny:,} 个格子，过多：请加大 cell_m "
               f"(a {cell:g} m grid here needs {nx * ny:,} squares; use a larger cell_m)")
        raise ParameterError(msg)
    return np.arange(nx) * cell + x0, np.arange(ny) * cell + y0, np.array([x0, y0]), nx


def _parallel(op: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A vectorised shapely operation in chunks on a thread pool (GEOS releases the GIL): the cores share it."""
    workers = min(os.cpu_count() or 1, 8)
    if workers == 1 or len(a) < 20_000:
        return np.asarray(op(a, b), dtype=object)
    cuts = np.linspace(0, len(a), workers + 1).astype(int)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        parts = list(pool.map(lambda r: op(a[r[0]:r[1]], b[r[0]:r[1]]), itertools.pairwise(cuts)))
    return np.concatenate(parts)


def _cut(parts: np.ndarray, cell: float,
         origin: tuple[float, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cells = parts cut by the grid: (geometry, square id, part position, whole-square flag, square corner).

    Only the squares of each part's own bounding box are made (a city whose
    residential land covers 30 % of its box makes a third of the squares);
    squares wholly inside a part are kept as they are (a prepared containment
    test), only squares on a part's edge are intersected.
    """
    bounds = np.asarray(shapely.total_bounds(parts))
    _xs, _ys, corner, nx = _squares(bounds, cell, origin)
    pb = shapely.bounds(parts)
    c0 = np.floor((pb[:, 0] - corner[0]) / cell).astype(np.int64)
    c1 = np.maximum(c0 + 1, np.ceil((pb[:, 2] - corner[0]) / cell).astype(np.int64))
    r0 = np.floor((pb[:, 1] - corner[1]) / cell).astype(np.int64)
    r1 = np.maximum(r0 + 1, np.ceil((pb[:, 3] - corner[1]) / cell).astype(np.int64))
    w, h = c1 - c0, r1 - r0
    count = w * h
    if int(count.sum()) > MAX_SQUARES:
        msg = (f"{cell:g} m 网格在此范围需要 {int(count.sum()):,} 个格子，过多：请加大 cell_m "
               f"(a {cell:g} m grid here needs {int(count.sum()):,} squares; use a larger cell_m)")
        raise ParameterError(msg)
    pi = np.repeat(np.arange(len(parts)), count)
    k = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    col = c0[pi] + k % w[pi]
    row = r0[pi] + k // w[pi]
    si = row * nx + col
    x = corner[0] + col * cell
    y = corner[1] + row * cell
    squares = shapely.box(x, y, x + cell, y + cell)
    shapely.prepare(parts)
    inside = shapely.contains_properly(parts[pi], squares)
    geoms = np.empty(len(si), dtype=object)
    geoms[inside] = squares[inside]
    edge = np.flatnonzero(~inside)
    if len(edge):
        near = shapely.intersects(parts[pi[edge]], squares[edge])
        edge = edge[near]
        cut = _parallel(shapely.intersection, squares[edge], parts[pi[edge]])
        # keep the polygonal part of each piece (a square touching a part along its edge gives a line)
        pieces, owner = shapely.get_parts(cut, return_index=True)
        poly = shapely.get_type_id(pieces) == 3
        pieces, owner = pieces[poly], owner[poly]
        if len(pieces):
            has = np.unique(owner)
            geoms[edge[has]] = shapely.multipolygons(pieces, indices=np.searchsorted(has, owner))
    ok = np.array([g is not None for g in geoms], dtype=bool)
    # slivers of a square (reprojection noise along a shared edge) are not cells
    ok[ok] = shapely.area(geoms[ok]) > SLIVER_SHARE * cell * cell
    return geoms[ok], si[ok], pi[ok], inside[ok], np.column_stack([x, y])[ok]


def build_cells(
    units: gpd.GeoDataFrame,
    *,
    residential: gpd.GeoDataFrame | None = None,
    buildings: gpd.GeoDataFrame | None = None,
    population: PopulationRaster | str | None = "auto",
    population_column: str | None = None,
    cell_m: float = 100.0,
    name_column: str = "name",
    crs: Any = None,
) -> Cells:
    """Cut the residential land of the units into grid cells and give each its residents.

    Parameters
    ----------
    units : GeoDataFrame
        Polygons to report by (districts, 街道, 社区, 控规单元), any CRS, with a
        ``name`` and, when known, a population column.
    residential : GeoDataFrame, optional, keyword-only
        Residential land (polygons, any CRS; may overlap).
    buildings : GeoDataFrame, optional, keyword-only
        Residential buildings (polygons) with ``floor_area_m2`` where known:
        their floor area weighs the cells; without residential land their
        footprints are the land. Neither given: the units are the land.
    population : PopulationRaster, "units", "auto" or None, keyword-only
        Residents: a raster; ``"units"`` (the units' population column spread
        over residential floor or land area); ``"auto"`` (``"units"`` when the
        units have a population, else none); None (no residents: figures by
        floor area or land area).
    population_column : str, optional, keyword-only
        The units' population column (default: the first of
        :data:`POPULATION_COLUMNS` that holds numbers).
    cell_m : float, keyword-only
        Grid square side, metres (default 100).
    name_column : str, keyword-only
        Column naming the units.
    crs : optional, keyword-only
        Metric CRS to work in (default :func:`spatial.projection.metric_crs_for` of the units).

    Returns
    -------
    Cells

    Raises
    ------
    CRSError, EmptyLayerError
        A layer has no CRS or no features; the residential land does not meet the units.
    ParameterError
        A bad cell size, a grid too large, an unknown population choice.
    """
    require_crs(units, name="单元 units")
    require_features(units, name="单元 units")
    cell = check_positive(cell_m, "网格大小 cell_m")
    metric = CRS.from_user_input(crs) if crs is not None else metric_crs_for(units, name="单元 units")
    units_m = reproject(units, metric).copy()
    units_m["unit"] = unit_labels(units_m, name_column=name_column).to_numpy()
    if residential is not None:
        require_crs(residential, name="居住用地 residential")
        residential = residential if len(residential) else None
    if buildings is not None:
        require_crs(buildings, name="建筑 buildings")
        buildings = buildings if len(buildings) else None
    parts, part_unit, land = _land(units_m, residential, buildings, metric)
    if len(parts) == 0:
        msg = ("居住用地与单元不相交：没有可评估的居住地块 "
               "(the residential land does not overlap the units: nothing to evaluate)")
        raise EmptyLayerError(msg)
    origin = (0.0, 0.0)
    if isinstance(population, PopulationRaster) and population.crs.equals(metric) and \
            abs(population.cell_size[0] - cell) < 1e-9 and abs(population.cell_size[1] - cell) < 1e-9:
        origin = (population.transform.c, population.transform.f)  # squares on the raster's own cells
    geoms, square, part, whole, corner = _cut(parts, cell, origin)
    area = shapely.area(geoms)
    # measure from the cell's centroid, or from a point on its surface when the centroid falls outside it
    xy = np.column_stack([corner[:, 0] + cell / 2.0, corner[:, 1] + cell / 2.0])
    part_cells = np.flatnonzero(~whole)
    if len(part_cells):
        centroid = shapely.centroid(geoms[part_cells])
        outside = ~shapely.contains(geoms[part_cells], centroid)
        pts = centroid.copy()
        pts[outside] = shapely.point_on_surface(geoms[part_cells[outside]])
        xy[part_cells] = shapely.get_coordinates(pts)
    floor_known = _floor_area(geoms, buildings, metric)
    floor = np.full(len(geoms), np.nan) if floor_known is None else floor_known
    frame = gpd.GeoDataFrame(
        {"cell_id": np.arange(len(geoms)), "square": square, "unit": units_m["unit"].to_numpy()[part_unit[part]],
         "area_m2": area, "floor_area_m2": floor, "x": xy[:, 0], "y": xy[:, 1]},
        geometry=geoms, crs=metric,
    )
    land_source = {
        "residential": (residential.attrs.get("planatlas_source", "") if residential is not None else "")
        or "居住用地图层 (residential land)",
        "buildings": (buildings.attrs.get("planatlas_source", "") if buildings is not None else "")
        or "居住建筑轮廓 (residential building footprints)",
        "units": "单元范围 (no residential land: the units' whole area)",
    }[land]
    cells = Cells(frame=frame, units=units_m, crs=metric, cell_m=cell, weight_kind="land_area_m2", land=land,
                  land_source=land_source, square_corner=corner)
    if land == "units":
        cells.notes.append("没有居住用地图层：以单元全部面积为居住用地 (no residential land: the units' whole area is "
                           "counted as residential)")
    _populate(cells, units_m, population, population_column, floor_known is not None)
    return cells


def _populate(cells: Cells, units_m: gpd.GeoDataFrame, population: PopulationRaster | str | None,
              population_column: str | None, has_floor: bool) -> None:
    """Fill ``population`` and ``weight``; say what they stand on."""
    f = cells.frame
    if isinstance(population, str):
        if population not in ("auto", "units"):
            msg = (f"人口须为人口栅格、'units'、'auto' 或 None，收到 {population!r} "
                   "(population must be a PopulationRaster, 'units', 'auto' or None)")
            raise ParameterError(msg)
        column = _population_column(units_m, population_column)
        if column is None:
            if population == "units":
                msg = "单元图层没有人口字段 (the units have no population column)"
                raise EmptyLayerError(msg)
            population = None
        else:
            _spread_unit_population(cells, units_m, column, has_floor)
            return
    if isinstance(population, PopulationRaster):
        _raster_population(cells, population)
        return
    given: object = population  # checked at run time: callers pass what they have
    if given is not None:
        msg = f"人口须为人口栅格或 'units'，收到 {type(given).__name__} (population must be a PopulationRaster)"
        raise ParameterError(msg)
    f["population"] = np.nan
    if has_floor and np.nansum(f["floor_area_m2"].to_numpy()) > 0:
        f["weight"] = np.nan_to_num(f["floor_area_m2"].to_numpy())
        cells.weight_kind = "floor_area_m2"
        cells.population_method = "无人口数据：按居住建筑面积计 (no residents: figures are residential floor area)"
    else:
        f["weight"] = f["area_m2"].to_numpy()
        cells.weight_kind = "land_area_m2"
        cells.population_method = "无人口数据：按居住用地面积计 (no residents: figures are residential land area)"
    cells.population_source = "无 (none)"
    cells.notes.append(cells.population_method)


def _spread_unit_population(cells: Cells, units_m: gpd.GeoDataFrame, column: str, has_floor: bool) -> None:
    """Each unit's residents spread over its cells by floor area (buildings) or land area."""
    f = cells.frame
    pops = pd.to_numeric(units_m[column], errors="coerce")
    if (pops.dropna() < 0).any():
        msg = f"人口字段 {column} 有负数 ({column!r} holds negative numbers)"
        raise ParameterError(msg)
    by_unit = dict(zip(units_m["unit"], pops.to_numpy(dtype="float64"), strict=True))
    floor = np.nan_to_num(f["floor_area_m2"].to_numpy())
    use_floor = has_floor and floor.sum() > 0
    basis = floor if use_floor else f["area_m2"].to_numpy()
    unit = f["unit"].to_numpy()
    total = pd.Series(basis).groupby(unit).transform("sum").to_numpy()
    unit_pop = np.array([by_unit.get(u, np.nan) for u in unit], dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        pop = np.where(total > 0, unit_pop * basis / total, 0.0)
    f["population"] = pop
    f["weight"] = np.nan_to_num(pop)
    cells.weight_kind = "residents"
    sources = units_m["population_source"].dropna().astype(str).unique() if "population_source" in units_m else []
    cells.population_source = ("；".join(sources) if len(sources) else f"单元人口字段 {column}") + \
        f" ({len(units_m)} 个单元)"
    how = "居住建筑面积" if use_floor else {"residential": "居住用地面积", "buildings": "建筑占地面积"}.get(cells.land,
                                                                                                     "单元面积")
    en = "residential floor area" if use_floor else {"residential": "residential land area",
                                                      "buildings": "building footprint area"}.get(cells.land,
                                                                                                  "unit area")
    cells.population_method = f"各单元人口按{how}分配到网格 (each unit's residents spread by {en})"
    missing = [u for u in units_m["unit"] if not np.isfinite(by_unit.get(u, np.nan))]
    if missing:
        cells.notes.append(f"{len(missing)} 个单元没有人口数，其居民计为 0：{'、'.join(missing[:5])} "
                           f"({len(missing)} units have no population figure; counted as 0)")


def _raster_kind(raster: PopulationRaster) -> str:
    """What a surface's cells count: residents, or (projects without residents) floor or land area in m²."""
    units = (raster.units or "").lower()
    if "floor area" in units:
        return "floor_area_m2"
    if "m²" in units or "m2" in units or "land" in units:
        return "land_area_m2"
    return "residents"


def _raster_population(cells: Cells, raster: PopulationRaster) -> None:
    """Residents of each grid square (raster cells whose centre lies in it) go to its residential cells."""
    f = cells.frame
    cell = cells.cell_m
    square_ids, first, inverse = np.unique(f["square"].to_numpy(), return_index=True, return_inverse=True)
    ll = cells.square_corner[first]
    squares = shapely.box(ll[:, 0], ll[:, 1], ll[:, 0] + cell, ll[:, 1] + cell)
    per_square = raster.zonal_sum(gpd.GeoSeries(squares, crs=cells.crs), overlapping=False).to_numpy()
    area = f["area_m2"].to_numpy()
    square_area = np.bincount(inverse, weights=area, minlength=len(square_ids))
    with np.errstate(invalid="ignore", divide="ignore"):
        pop = np.where(square_area[inverse] > 0, per_square[inverse] * area / square_area[inverse], 0.0)
    kind = _raster_kind(raster)
    f["weight"] = pop
    cells.weight_kind = kind
    if kind == "residents":
        f["population"] = pop
    else:  # a surface of floor or land area where the project has no residents: say m², never people
        f["population"] = np.nan
        if kind == "floor_area_m2" and not np.isfinite(f["floor_area_m2"].to_numpy()).any():
            f["floor_area_m2"] = pop
    cells.population_source = raster.source or "人口栅格 (population raster)"
    cells.population_method = (f"{raster.method}；每个 {cell:g} m 格的居民归入格内居住用地 "
                               "(each square's residents go to its residential land)")
    region = shapely.union_all(cells.units.geometry.to_numpy())
    inside = float(raster.zonal_sum(gpd.GeoSeries([region], crs=cells.crs), overlapping=False).iloc[0])
    lost = max(0.0, inside - float(pop.sum()))
    if kind != "residents":
        return
    cells.lost_residents = lost
    if cells.lost_residents > 0.005 * max(inside, 1.0):
        share = 100 * cells.lost_residents / inside
        cells.notes.append(
            f"人口栅格中有 {cells.lost_residents:,.0f} 人（{share:.1f}%）落在没有居住用地的格内，未计入 "
            f"({cells.lost_residents:,.0f} residents of the raster lie on squares with no residential land)")
