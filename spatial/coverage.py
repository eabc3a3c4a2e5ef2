"""Service coverage: how much of each district, and how many residents, a set of facilities serves.

The questions a planner asks of a 15-minute life circle, answered per
district: what share of the land lies within reach, how many residents live
there, how many are left outside, and where the gaps are.

All areas are measured in EPSG:4548 (Jinan; the UTM zone elsewhere), residents
come from a :class:`~spatial.population.PopulationRaster` (by default the
census surface of :func:`spatial.population.census_surface`), and every frame
returned for mapping is EPSG:4326.
"""

from __future__ import annotations

import hashlib
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio.features
import scipy.ndimage
import shapely
from pyproj import CRS

from . import settings
from ._errors import CRSError, EmptyLayerError, NetworkDataError, ParameterError
from .circles import service_circles
from .isochrones import service_areas
from .layerspec import LayerSpec, LayerStyle
from .network import StreetNetwork
from .population import PopulationRaster, census_surface
from .projection import metric_crs_for, reproject, require_crs, require_features
from .standards import ServicePreset
from .thresholds import Threshold, check_positive, resolve_threshold

#: Ways to draw a service area.
METHODS: tuple[str, ...] = ("buffer", "network")

#: How the layers of a coverage result are drawn and described.
RESULT_SPECS: dict[str, LayerSpec] = {
    "service_area": LayerSpec("service_area", "服务范围", "Service area", role="analysis", order=300,
                              style=LayerStyle(color="#2b8cbe", weight=2, fill_opacity=0.55)),
    "gaps": LayerSpec("gaps", "覆盖缺口", "Coverage gaps", role="analysis", order=290,
                      style=LayerStyle(color="#e31a1c", weight=1, fill_opacity=0.18)),
    "grid": LayerSpec("grid", "覆盖网格", "Coverage grid", role="analysis", order=280, visible=False,
                      style=LayerStyle(color="#756bb1", weight=1, fill_opacity=0.3)),
    "facilities": LayerSpec("facilities", "设施", "Facilities", role="facilities", order=310,
                            style=LayerStyle(color="#252525", weight=1, radius=3)),
}

#: Columns of the per-district table, in order.
TABLE_COLUMNS = [
    "area_km2", "covered_km2", "area_covered_pct", "population", "population_covered",
    "population_covered_pct", "residents_outside",
]


def _as_frame(layer: object, *, name: str) -> gpd.GeoDataFrame:
    if isinstance(layer, gpd.GeoSeries):
        layer = gpd.GeoDataFrame(geometry=layer)
    if not isinstance(layer, gpd.GeoDataFrame):
        msg = f"{name} 须为 GeoDataFrame，收到 {type(layer).__name__} (must be a GeoDataFrame)"
        raise ParameterError(msg)
    require_crs(layer, name=name)
    return layer


def _checked(layer: object, *, name: str) -> gpd.GeoDataFrame:
    """A frame with a CRS and at least one feature: the check done once at the boundary."""
    frame = _as_frame(layer, name=name)
    require_features(frame, name=name)
    return frame


def _whole_units(units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Units to report on must each have a shape (a unit without one, e.g. from a damaged store, has no area).

    Raises
    ------
    EmptyLayerError
    """
    geoms = units.geometry
    missing = int((geoms.isna() | geoms.is_empty).sum())
    if missing:
        msg = (f"区县 districts 中有 {missing} 个 (共 {len(units)} 个) 没有几何，无法按区县统计；"
               f"如来自数据库，数据库可能已损坏，请重建 ({missing} of {len(units)} districts have no geometry; "
               "if they come from the store, it may be damaged: rebuild it)")
        raise EmptyLayerError(msg)
    invalid = ~shapely.is_valid(units.geometry.to_numpy())
    if invalid.any():  # a ring that crosses itself (a damaged blob, a careless edit): repaired, area kept
        units = units.copy()
        units.loc[units.index[invalid], units.geometry.name] = shapely.make_valid(
            units.geometry.to_numpy()[invalid])
    return units


def _check_cell(cell_m: object) -> float:
    return check_positive(cell_m, "网格大小 cell_m")


def _union(covered: gpd.GeoDataFrame | gpd.GeoSeries, crs: CRS) -> shapely.Geometry:
    """The covered area as one metric geometry (empty polygon when nothing is covered)."""
    frame = _as_frame(covered, name="covered")
    geoms = reproject(frame, crs).geometry.to_numpy()
    geoms = geoms[~shapely.is_missing(geoms)]
    union = shapely.union_all(geoms) if len(geoms) else shapely.Polygon()
    # make_valid: a union of buffers is valid, but user layers need not be.
    union = shapely.make_valid(union)
    shapely.prepare(union)
    return union


def _label_columns(districts: gpd.GeoDataFrame) -> list[str]:
    return [c for c in ("adcode", "name", "name_en") if c in districts.columns]


def coverage_by_district(
    covered: gpd.GeoDataFrame | gpd.GeoSeries,
    districts: gpd.GeoDataFrame,
    population: PopulationRaster | None,
) -> pd.DataFrame:
    """Covered land and residents, district by district.

    Parameters
    ----------
    covered : GeoDataFrame or GeoSeries
        Service areas (circles, isochrones) in any CRS; overlaps are merged.
    districts : GeoDataFrame
        District polygons (e.g. the store's ``districts`` layer) or any units.
    population : PopulationRaster or None
        Residents per cell. ``None`` leaves the population columns NaN.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``districts``, with ``adcode``/``name``/``name_en`` when
        present and ``area_km2``, ``covered_km2``, ``area_covered_pct`` (0-100),
        ``population``, ``population_covered``, ``population_covered_pct``
        (0-100), ``residents_outside``.

    Notes
    -----
    A district's residents are the raster cells whose centre lies in it, so
    with the census surface they equal the census figure; covered residents
    are the cells whose centre lies in the covered part of the district.
    """
    districts = _checked(districts, name="区县 districts")
    crs = metric_crs_for(districts)
    return _by_district(_union(covered, crs), reproject(districts, crs), population)


def _by_district(union: shapely.Geometry, d: gpd.GeoDataFrame, population: PopulationRaster | None) -> pd.DataFrame:
    """The coverage table of metric districts ``d`` against a metric union."""
    geoms = d.geometry.to_numpy()
    inter = shapely.intersection(geoms, union)
    table = pd.DataFrame(d[_label_columns(d)].copy(), index=d.index)
    table["area_km2"] = shapely.area(geoms) / 1e6
    table["covered_km2"] = shapely.area(inter) / 1e6
    with np.errstate(invalid="ignore", divide="ignore"):
        table["area_covered_pct"] = 100.0 * table["covered_km2"] / table["area_km2"]
    if population is None:
        for col in TABLE_COLUMNS[3:]:
            table[col] = np.nan
        return table
    # the districts' label grid is kept with the raster: a rerun with a new radius rasterises the cover only
    pop, pop_cov = population.partition_sums(gpd.GeoSeries(geoms, index=d.index, crs=d.crs), within=union)
    table["population"] = pop.to_numpy()
    table["population_covered"] = pop_cov.to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        table["population_covered_pct"] = np.where(
            table["population"] > 0, 100.0 * table["population_covered"] / table["population"], np.nan
        )
    table["residents_outside"] = table["population"] - table["population_covered"]
    return table


def warm_up(districts: gpd.GeoDataFrame, population: PopulationRaster) -> None:
    """Do ahead what the first :func:`run_coverage` on these units would do once per process.

    Finds PROJ's pipelines between the units' CRS and their metric CRS (both
    ways) and rasterises the units' label grid, which ``population`` keeps
    (:meth:`~spatial.population.PopulationRaster.partition_sums`): 0.2-0.3 s
    of a server's first coverage run, moved to its start.
    """
    units = _whole_units(_checked(districts, name="区县 districts"))
    metric = reproject(units, metric_crs_for(units))
    reproject(metric.head(1), units.crs)
    population.partition_sums(metric.geometry, within=shapely.Polygon())


def coverage_gaps(
    covered: gpd.GeoDataFrame | gpd.GeoSeries, districts: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """The parts of each district outside the covered area.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326, one row per district that has a gap, with the district's
        ``adcode``/``name``/``name_en`` and ``gap_km2``.
    """
    districts = _checked(districts, name="区县 districts")
    crs = metric_crs_for(districts)
    return _gaps(_union(covered, crs), reproject(districts, crs))


def _gaps(union: shapely.Geometry, d: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    gaps = shapely.difference(d.geometry.to_numpy(), union)
    out = gpd.GeoDataFrame(d[_label_columns(d)].copy(), geometry=gaps, crs=d.crs)
    out["gap_km2"] = shapely.area(gaps) / 1e6
    out = out[~out.geometry.is_empty & (out["gap_km2"] > 0)]
    return reproject(out, settings.STORAGE_CRS)


def _hex_cells(bounds: tuple[float, float, float, float], cell_m: float) -> np.ndarray:
    """Flat-topped hexagons of area ``cell_m²`` tiling ``bounds``."""
    side = cell_m * math.sqrt(2.0 / (3.0 * math.sqrt(3.0)))
    half_h = side * math.sqrt(3.0) / 2.0
    minx, miny, maxx, maxy = bounds
    cols = np.arange(int(np.floor(minx / (1.5 * side))) - 1, int(np.ceil(maxx / (1.5 * side))) + 2)
    rows = np.arange(int(np.floor(miny / (2 * half_h))) - 1, int(np.ceil(maxy / (2 * half_h))) + 2)
    ci, ri = np.meshgrid(cols, rows)
    cx = (ci * 1.5 * side).ravel()
    cy = (ri * 2 * half_h + np.where(ci % 2 == 1, half_h, 0.0)).ravel()
    angles = np.deg2rad(np.arange(0, 360, 60))
    xs = cx[:, None] + side * np.cos(angles)[None, :]
    ys = cy[:, None] + side * np.sin(angles)[None, :]
    ring = np.stack([xs, ys], axis=-1)
    ring = np.concatenate([ring, ring[:, :1]], axis=1)
    return np.asarray(shapely.polygons(ring))


def _square_cells(bounds: tuple[float, float, float, float], cell_m: float) -> np.ndarray:
    minx, miny, maxx, maxy = bounds
    x0 = np.floor(minx / cell_m) * cell_m
    y0 = np.floor(miny / cell_m) * cell_m
    xs = np.arange(x0, maxx, cell_m)
    ys = np.arange(y0, maxy, cell_m)
    gx, gy = np.meshgrid(xs, ys)
    return np.asarray(shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + cell_m, gy.ravel() + cell_m))


#: Grid cells and their residents by (raster, cell size, shape, extent): they do not
#: depend on the facilities, so an analysis rerun with other facilities or
#: distances skips the costliest step (rasterising ~10,000 cells for Jinan).
_GRID_CACHE: dict[tuple[object, ...], tuple[np.ndarray, np.ndarray]] = {}
_GRID_CACHE_SIZE = 8


def _fingerprint(*parts: np.ndarray | bytes, extra: object = ()) -> str:
    """Content hash of arrays / bytes, read in place (a 100 m raster of Jinan, 22 MB, in about 15 ms).

    SHA-256, as CPUs hash it in hardware: 2.5 times faster here than BLAKE2b
    on the same raster.
    """
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else np.ascontiguousarray(part).data)
    digest.update(repr(extra).encode())
    return digest.hexdigest()


def _grid_population(population: PopulationRaster, cell: float, shape: str,
                     within: gpd.GeoDataFrame | None) -> tuple[np.ndarray, np.ndarray]:
    """Cells (shapely array in the raster's CRS) and residents per cell, cached."""
    crs = population.crs
    within_geoms = None
    if within is not None:
        within_geoms = reproject(_as_frame(within, name="within"), crs).geometry.to_numpy()
    key = (
        _fingerprint(population.array, extra=(population.nodata, tuple(population.transform), crs.to_wkt())),
        cell, shape,
        None if within_geoms is None else _fingerprint(b"".join(shapely.to_wkb(within_geoms))),
    )
    if key in _GRID_CACHE:
        return _GRID_CACHE[key]
    cells = _hex_cells(population.bounds, cell) if shape == "hex" else _square_cells(population.bounds, cell)
    if within_geoms is not None:
        area = shapely.union_all(within_geoms)
        shapely.prepare(area)
        cells = cells[shapely.intersects(area, cells)]
    pop = population.zonal_sum(gpd.GeoSeries(cells, crs=crs), overlapping=False).to_numpy()
    if len(_GRID_CACHE) >= _GRID_CACHE_SIZE:
        _GRID_CACHE.pop(next(iter(_GRID_CACHE)))
    _GRID_CACHE[key] = (cells, pop)
    return cells, pop


def coverage_grid(
    covered: gpd.GeoDataFrame | gpd.GeoSeries,
    population: PopulationRaster,
    *,
    cell_m: float = 1000,
    shape: str = "hex",
    within: gpd.GeoDataFrame | None = None,
    drop_empty: bool = True,
) -> gpd.GeoDataFrame:
    """Share covered and residents per hexagon or square.

    Parameters
    ----------
    covered : GeoDataFrame or GeoSeries
        Service areas.
    population : PopulationRaster
        Residents per cell; the grid spans its extent, in its CRS.
    cell_m : float, default 1000
        Square side in metres; hexagons have the same area (``cell_m²``).
    shape : {"hex", "square"}
        Cell shape.
    within : GeoDataFrame, optional
        Keep only cells that touch these polygons (e.g. the districts).
    drop_empty : bool, default True
        Drop cells with neither residents nor coverage.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326 with ``cell_id``, ``area_km2``, ``covered_share`` (0-1),
        ``population``, ``population_covered``, ``population_outside``.
    """
    cell = _check_cell(cell_m)
    if not population.crs.is_projected:
        msg = "网格统计需要米制人口栅格 (coverage_grid needs a population raster on a metric grid)"
        raise CRSError(msg)
    if shape not in ("hex", "square"):
        msg = f"网格形状须为 hex 或 square，收到 {shape!r} (shape must be 'hex' or 'square')"
        raise ParameterError(msg)
    return _grid(_union(covered, population.crs), population, cell=cell, shape=shape, within=within,
                 drop_empty=drop_empty)


def _grid(
    union: shapely.Geometry, population: PopulationRaster, *, cell: float, shape: str,
    within: gpd.GeoDataFrame | None, drop_empty: bool = True,
) -> gpd.GeoDataFrame:
    """Grid cells of ``population`` with the share of each covered by ``union`` (in the raster's CRS)."""
    crs = population.crs
    cells, pop = _grid_population(population, cell, shape, within)
    inter = np.array([shapely.Polygon()] * len(cells), dtype=object)
    hit = shapely.intersects(union, cells)
    inside = hit & shapely.contains_properly(union, cells)
    partial = hit & ~inside
    inter[inside] = cells[inside]
    inter[partial] = shapely.intersection(cells[partial], union)
    cell_area = shapely.area(cells)
    share = np.where(hit, shapely.area(inter) / cell_area, 0.0)
    pop_cov = population.zonal_sum(gpd.GeoSeries(inter, crs=crs), overlapping=False).to_numpy()
    out = gpd.GeoDataFrame(
        {
            "cell_id": np.arange(len(cells)),
            "area_km2": cell_area / 1e6,
            "covered_share": np.clip(share, 0.0, 1.0),
            "population": pop,
            "population_covered": pop_cov,
            "population_outside": pop - pop_cov,
        },
        geometry=cells,
        crs=crs,
    )
    if drop_empty:
        out = out[(out["population"] > 0) | (out["covered_share"] > 0)].reset_index(drop=True)
    return reproject(out, settings.STORAGE_CRS)


def distance_surface_geotiff(
    facilities: gpd.GeoDataFrame,
    path: str | os.PathLike[str],
    *,
    like: PopulationRaster,
    max_distance_m: float | None = None,
) -> PopulationRaster:
    """Write a GeoTIFF of straight-line distance (m) to the nearest facility.

    Parameters
    ----------
    facilities : GeoDataFrame
        Points, lines or polygons (cells they touch are distance 0).
    path : str or path-like
        Output GeoTIFF, written atomically.
    like : PopulationRaster
        Grid to use (its CRS must be metric), e.g. the census surface.
    max_distance_m : float, optional
        Cells farther than this are written as no-data.

    Returns
    -------
    PopulationRaster
        The distance grid (``units`` = "metres to nearest facility").
    """
    facilities = _as_frame(facilities, name="facilities")
    require_features(facilities, name="facilities")
    if not like.crs.is_projected:
        msg = "distance_surface_geotiff needs a grid on a metric CRS"
        raise CRSError(msg)
    geoms = reproject(facilities, like.crs).geometry.to_numpy()
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    mask = rasterio.features.rasterize(
        ((g, 1) for g in geoms), out_shape=like.shape, transform=like.transform, fill=0,
        all_touched=True, dtype="uint8",
    )
    if not mask.any():
        msg = "no facility falls on the grid"
        raise EmptyLayerError(msg)
    w, h = like.cell_size
    dist = scipy.ndimage.distance_transform_edt(mask == 0, sampling=(h, w))
    if max_distance_m is not None:
        dist = np.where(dist <= float(max_distance_m), dist, np.nan)
    surface = PopulationRaster(
        dist, like.transform, like.crs, source=f"{len(geoms)} facilities",
        method="Euclidean distance transform from cells the facilities touch",
        units="metres to nearest facility",
    )
    surface.to_geotiff(path)
    return surface


@dataclass
class CoverageResult:
    """Everything :func:`run_coverage` computes.

    Attributes
    ----------
    service_area : GeoDataFrame
        The dissolved service area (EPSG:4326).
    gaps : GeoDataFrame
        District parts outside it (EPSG:4326).
    table : DataFrame
        :func:`coverage_by_district` table.
    grid : GeoDataFrame
        :func:`coverage_grid` cells (EPSG:4326), computed on first access (the
        app's coverage page does not show it; the CLI writes it) and kept;
        its time is then added to ``parameters["timings"]["grid_s"]``.
    parameters : dict
        What was run: preset, distance, method, counts, totals, timings.
    population : PopulationRaster or None
        The population raster used.
    """

    service_area: gpd.GeoDataFrame
    gaps: gpd.GeoDataFrame
    table: pd.DataFrame
    make_grid: Callable[[], gpd.GeoDataFrame] = field(repr=False)
    parameters: dict[str, Any] = field(default_factory=dict)
    population: PopulationRaster | None = None
    _grid: gpd.GeoDataFrame | None = field(default=None, init=False, repr=False)

    @property
    def grid(self) -> gpd.GeoDataFrame:
        """The coverage grid (computed once, on first access)."""
        if self._grid is None:
            t = time.perf_counter()
            self._grid = self.make_grid()
            timings = self.parameters.get("timings")
            if isinstance(timings, dict):
                timings["grid_s"] = time.perf_counter() - t
        return self._grid


def _filter_by_area(facilities: gpd.GeoDataFrame, preset: ServicePreset | None) -> tuple[gpd.GeoDataFrame, str]:
    """Keep facilities in the preset's size band (park tiers); say what was done."""
    if preset is None or (preset.min_area_m2 is None and preset.max_area_m2 is None):
        return facilities, "none"
    geom_types = set(facilities.geom_type.dropna())
    if geom_types and geom_types <= {"Polygon", "MultiPolygon"}:
        area = reproject(facilities, metric_crs_for(facilities)).area.to_numpy()
        how = "按多边形面积 (polygon area)"
    elif "area_m2" in facilities.columns:
        area = pd.to_numeric(facilities["area_m2"], errors="coerce").to_numpy(dtype="float64")
        how = "按 area_m2 字段 (area_m2 column)"
    else:
        return facilities, "未筛选：设施不是多边形且无 area_m2 字段 (not applied: no polygons, no area_m2)"
    keep = np.ones(len(facilities), dtype=bool)
    if preset.min_area_m2 is not None:
        keep &= area >= preset.min_area_m2
    if preset.max_area_m2 is not None:
        keep &= area < preset.max_area_m2
    return facilities[keep], f"{how}：保留 {int(keep.sum())} / {len(facilities)}"


#: Census surfaces by content of the districts they were built from.
_SURFACE_CACHE: dict[str, PopulationRaster] = {}


def census_surface_for(districts: gpd.GeoDataFrame, *, population_column: str = "population_2020") -> PopulationRaster:
    """:func:`spatial.population.census_surface` of ``districts``, built once per content.

    The surface does not depend on the facilities, so a rerun of the same
    analysis with other facilities or distances reuses it.
    """
    geoms = reproject(districts, settings.METRIC_CRS).geometry.to_numpy()
    pops = pd.to_numeric(districts.get(population_column), errors="coerce")
    key = _fingerprint(b"".join(shapely.to_wkb(geoms)), extra=(population_column, tuple(pops.fillna(-1))))
    if key not in _SURFACE_CACHE:
        if len(_SURFACE_CACHE) >= 4:
            _SURFACE_CACHE.pop(next(iter(_SURFACE_CACHE)))
        _SURFACE_CACHE[key] = census_surface(districts, population_column=population_column,
                                             crs=metric_crs_for(districts).to_string())
    return _SURFACE_CACHE[key]


def _check_method(method: str, network: StreetNetwork | None) -> str:
    if method not in METHODS:
        msg = f"方法须为 buffer 或 network，收到 {method!r} (method must be 'buffer' or 'network')"
        raise ParameterError(msg)
    if method == "network" and network is None:
        msg = "街道网络方法需要一个街道网络文件 (method 'network' needs a street network)"
        raise NetworkDataError(msg)
    return method


def _service_area(
    selected: gpd.GeoDataFrame, reach: Threshold, *, method: str, network: StreetNetwork | None
) -> gpd.GeoDataFrame:
    """The dissolved service area of the selected facilities (EPSG:4326)."""
    if method == "buffer":
        return service_circles(selected, distance_m=reach.distance_m, speed_m_per_min=reach.speed_m_per_min,
                               dissolve=True)
    assert network is not None  # _check_method
    areas = reproject(service_areas(network, selected, max_distance_m=reach.distance_m), settings.STORAGE_CRS)
    union = shapely.union_all(areas.geometry.to_numpy())
    metric = metric_crs_for(areas)
    return gpd.GeoDataFrame(
        {
            "n_facilities": [len(selected)],
            "distance_m": [reach.distance_m],
            "minutes": [reach.minutes],
            "speed_m_per_min": [reach.speed_m_per_min],
            "method": ["network"],
            "area_km2": [float(reproject(gpd.GeoSeries([union], crs=settings.STORAGE_CRS), metric).area.iloc[0]) / 1e6],
        },
        geometry=[union],
        crs=settings.STORAGE_CRS,
    )


def _parameters(
    *, reach: Threshold, method: str, facilities: gpd.GeoDataFrame, selected: gpd.GeoDataFrame,
    area_filter: str, population: PopulationRaster, network: StreetNetwork | None,
    table: pd.DataFrame, districts: gpd.GeoDataFrame, timings: dict[str, float],
) -> dict[str, Any]:
    """What was run, on what: every figure of the result names what it stands on."""
    p = reach.preset
    pop_total = float(table["population"].sum())
    pop_cov = float(table["population_covered"].sum())
    return {
        "preset": p.id if p else None,
        "preset_title": p.title_zh if p else None,
        "preset_source": p.source if p else None,
        "distance_m": reach.distance_m,
        "minutes": reach.minutes,
        "speed_m_per_min": reach.speed_m_per_min,
        "method": method,
        "network_source": (network.source or "street network") if network is not None else None,
        "network_mode": network.mode if network is not None else None,
        "n_facilities": len(facilities),
        "n_facilities_used": len(selected),
        "facilities_source": facilities.attrs.get("planatlas_source", ""),
        "area_filter": area_filter,
        "population_source": population.source,
        "population_method": population.method,
        "population_units": population.units,
        "units": len(districts),
        "area_km2": float(table["area_km2"].sum()),
        "covered_km2": float(table["covered_km2"].sum()),
        "population": pop_total,
        "population_covered": pop_cov,
        "population_covered_pct": 100.0 * pop_cov / pop_total if pop_total > 0 else float("nan"),
        "metric_crs": metric_crs_for(districts).to_string(),
        "timings": timings,
    }


def _require_residents(table: pd.DataFrame, population: PopulationRaster) -> None:
    """Refuse a population that puts nobody inside the units: a raster of another place, or all blank.

    Reported otherwise as "0 of 0 residents (nan %)", a figure that looks like
    a result and is none.

    Raises
    ------
    EmptyLayerError
    """
    total = float(np.nansum(table["population"].to_numpy(dtype=float)))
    if not total > 0:
        source = population.source
        msg = (f"人口数据 {source} 在分析的区县内没有人口：栅格与这些区县不重叠 (可能是另一个城市的栅格或坐标系有误)，"
               f"或者全为空值/零，无法计算覆盖人口 (the population data {source} puts no residents inside the "
               "districts: the raster does not overlap them, or it is all blank or zero)")
        raise EmptyLayerError(msg)


def run_coverage(
    facilities: gpd.GeoDataFrame,
    *,
    districts: gpd.GeoDataFrame,
    preset: str | ServicePreset | None = None,
    distance_m: float | None = None,
    minutes: float | None = None,
    speed_m_per_min: float | None = None,
    threshold: Threshold | None = None,
    method: str = "buffer",
    network: StreetNetwork | None = None,
    population: PopulationRaster | None = None,
    grid_cell_m: float = 1000,
    grid_shape: str = "hex",
) -> CoverageResult:
    """Service area, coverage table, gaps and grid in one call.

    Parameters
    ----------
    facilities : GeoDataFrame
        Facilities (points, lines or polygons) in any CRS.
    districts : GeoDataFrame, keyword-only
        Units to report on (e.g. the store's ``districts`` layer), with a
        ``population_2020`` column when ``population`` is not given.
    preset : str or ServicePreset, optional
        A standard from :mod:`spatial.standards` (e.g. ``"gb50180-15min"``).
        For the park tiers, polygon facilities (or an ``area_m2`` column) are
        filtered to the preset's size band.
    distance_m, minutes : float, optional
        Radius in metres or time in minutes; either overrides the preset's.
    speed_m_per_min : float, optional
        Speed turning minutes into metres (default: the preset's, else 80).
    threshold : Threshold, optional
        An already resolved reach (:func:`spatial.thresholds.resolve_threshold`),
        instead of the four options above.
    method : {"buffer", "network"}
        Straight-line circles, or network service areas from
        :func:`spatial.isochrones.service_areas` (needs ``network``).
    network : spatial.network.StreetNetwork, optional
        Street network for ``method="network"``.
    population : PopulationRaster, optional
        Residents per cell; default the census surface of ``districts``.
    grid_cell_m : float, default 1000
        Grid cell size for :func:`coverage_grid`.
    grid_shape : {"hex", "square"}
        Grid cell shape.

    Returns
    -------
    CoverageResult

    Raises
    ------
    ParameterError
        Impossible reach or method.
    EmptyLayerError
        No facilities (or none left after a park-size filter), no districts,
        or a population with no residents inside the districts.
    NetworkDataError
        ``method="network"`` without a network.
    """
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    facilities = _checked(facilities, name="设施 facilities")
    districts = _whole_units(_checked(districts, name="区县 districts"))
    reach = threshold or resolve_threshold(preset=preset, distance_m=distance_m, minutes=minutes,
                                           speed_m_per_min=speed_m_per_min)
    method = _check_method(method, network)
    cell = _check_cell(grid_cell_m)
    if grid_shape not in ("hex", "square"):
        msg = f"网格形状须为 hex 或 square，收到 {grid_shape!r} (grid_shape must be 'hex' or 'square')"
        raise ParameterError(msg)
    selected, area_filter = _filter_by_area(facilities, reach.preset)
    if len(selected) == 0:
        msg = f"没有设施符合标准 {reach.preset.id if reach.preset else ''} 的规模 ({area_filter})"
        raise EmptyLayerError(msg)

    t = time.perf_counter()
    population = population if population is not None else census_surface_for(districts)
    timings["population_s"] = time.perf_counter() - t
    t = time.perf_counter()
    service_area = _service_area(selected, reach, method=method, network=network)
    timings["service_area_s"] = time.perf_counter() - t

    t = time.perf_counter()
    crs = metric_crs_for(districts)
    metric_districts = reproject(districts, crs)
    union = _union(service_area, crs)
    table = _by_district(union, metric_districts, population)
    _require_residents(table, population)
    timings["table_s"] = time.perf_counter() - t
    t = time.perf_counter()
    gaps = _gaps(union, metric_districts)
    timings["gaps_s"] = time.perf_counter() - t
    timings["total_s"] = time.perf_counter() - t0
    parameters = _parameters(reach=reach, method=method, facilities=facilities, selected=selected,
                             area_filter=area_filter, population=population, network=network, table=table,
                             districts=districts, timings=timings)
    same_crs = CRS.from_user_input(population.crs).equals(crs)

    def make_grid() -> gpd.GeoDataFrame:
        grid_union = union if same_crs else _union(service_area, population.crs)
        return _grid(grid_union, population, cell=cell, shape=grid_shape, within=districts)

    return CoverageResult(service_area, gaps, table, make_grid, parameters, population)
