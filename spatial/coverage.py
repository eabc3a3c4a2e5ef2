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
import time
from dataclasses import dataclass, field
from functools import lru_cache

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio.features
import scipy.ndimage
import shapely
from pyproj import CRS

from . import settings
from ._errors import CRSError, EmptyLayerError, NetworkDataError
from .circles import service_circles
from .population import PopulationRaster, census_surface
from .projection import metric_crs_for, require_crs, require_features
from .standards import ServicePreset, get_preset, preset_distance_m

#: Columns of the per-district table, in order.
TABLE_COLUMNS = [
    "area_km2", "covered_km2", "area_covered_pct", "population", "population_covered",
    "population_covered_pct", "residents_outside",
]


def _as_frame(layer, *, name: str) -> gpd.GeoDataFrame:
    if isinstance(layer, gpd.GeoSeries):
        layer = gpd.GeoDataFrame(geometry=layer)
    if not isinstance(layer, gpd.GeoDataFrame):
        raise TypeError(f"{name} must be a GeoDataFrame or GeoSeries, got {type(layer).__name__}")
    require_crs(layer, name=name)
    return layer


def _union(covered, crs: CRS):
    """The covered area as one metric geometry (empty polygon when nothing is covered)."""
    frame = _as_frame(covered, name="covered")
    geoms = frame.to_crs(crs).geometry.to_numpy()
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
        District polygons (e.g. :func:`layers.districts.districts`).
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
    districts = _as_frame(districts, name="districts")
    require_features(districts, name="districts")
    crs = metric_crs_for(districts)
    d = districts.to_crs(crs)
    union = _union(covered, crs)
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
    pop = population.zonal_sum(gpd.GeoSeries(geoms, index=d.index, crs=crs))
    pop_cov = population.zonal_sum(gpd.GeoSeries(inter, index=d.index, crs=crs))
    table["population"] = pop.to_numpy()
    table["population_covered"] = pop_cov.to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        table["population_covered_pct"] = np.where(
            table["population"] > 0, 100.0 * table["population_covered"] / table["population"], np.nan
        )
    table["residents_outside"] = table["population"] - table["population_covered"]
    return table


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
    districts = _as_frame(districts, name="districts")
    require_features(districts, name="districts")
    crs = metric_crs_for(districts)
    d = districts.to_crs(crs)
    union = _union(covered, crs)
    gaps = shapely.difference(d.geometry.to_numpy(), union)
    out = gpd.GeoDataFrame(d[_label_columns(d)].copy(), geometry=gaps, crs=crs)
    out["gap_km2"] = shapely.area(gaps) / 1e6
    out = out[~out.geometry.is_empty & (out["gap_km2"] > 0)]
    return out.to_crs(settings.STORAGE_CRS)


def _hex_cells(bounds, cell_m: float) -> np.ndarray:
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
    return shapely.polygons(ring)


def _square_cells(bounds, cell_m: float) -> np.ndarray:
    minx, miny, maxx, maxy = bounds
    x0 = np.floor(minx / cell_m) * cell_m
    y0 = np.floor(miny / cell_m) * cell_m
    xs = np.arange(x0, maxx, cell_m)
    ys = np.arange(y0, maxy, cell_m)
    gx, gy = np.meshgrid(xs, ys)
    return shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + cell_m, gy.ravel() + cell_m)


#: Grid cells and their residents by (raster, cell size, shape, extent): they do not
#: depend on the facilities, so an analysis rerun with other facilities or
#: distances skips the costliest step (rasterising ~10,000 cells for Jinan).
_GRID_CACHE: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
_GRID_CACHE_SIZE = 8


def _fingerprint(*parts: np.ndarray | bytes, extra: object = ()) -> str:
    """Content hash of arrays / bytes (a 100 m raster of Jinan hashes in about 20 ms)."""
    digest = hashlib.blake2b(digest_size=16)
    for part in parts:
        digest.update(part if isinstance(part, bytes) else np.ascontiguousarray(part).tobytes())
    digest.update(repr(extra).encode())
    return digest.hexdigest()


def _grid_population(population: PopulationRaster, cell: float, shape: str, within) -> tuple:
    """Cells (shapely array in the raster's CRS) and residents per cell, cached."""
    crs = population.crs
    within_geoms = None
    if within is not None:
        within_geoms = _as_frame(within, name="within").to_crs(crs).geometry.to_numpy()
    key = (
        _fingerprint(population.filled(), extra=(tuple(population.transform), crs.to_wkt())),
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
    cell = float(cell_m)
    if not math.isfinite(cell) or cell <= 0:
        raise ValueError(f"cell_m must be a positive number of metres, got {cell_m!r}")
    crs = population.crs
    if not crs.is_projected:
        raise CRSError("coverage_grid needs a population raster on a metric grid (see load_population)")
    if shape not in ("hex", "square"):
        raise ValueError(f"shape must be 'hex' or 'square', got {shape!r}")
    cells, pop = _grid_population(population, cell, shape, within)
    union = _union(covered, crs)
    share = np.zeros(len(cells))
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
    return out.to_crs(settings.STORAGE_CRS)


def distance_surface_geotiff(
    facilities: gpd.GeoDataFrame,
    path,
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
        raise CRSError("distance_surface_geotiff needs a grid on a metric CRS")
    geoms = facilities.to_crs(like.crs).geometry.to_numpy()
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    mask = rasterio.features.rasterize(
        ((g, 1) for g in geoms), out_shape=like.shape, transform=like.transform, fill=0,
        all_touched=True, dtype="uint8",
    )
    if not mask.any():
        raise EmptyLayerError("no facility falls on the grid")
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
        :func:`coverage_grid` cells (EPSG:4326).
    parameters : dict
        What was run: preset, distance, method, counts, totals, timings.
    population : PopulationRaster or None
        The population raster used.
    """

    service_area: gpd.GeoDataFrame
    gaps: gpd.GeoDataFrame
    table: pd.DataFrame
    grid: gpd.GeoDataFrame
    parameters: dict = field(default_factory=dict)
    population: PopulationRaster | None = None


def _resolve_distance(
    preset: ServicePreset | None,
    distance_m: float | None,
    minutes: float | None,
    speed_m_per_min: float | None,
) -> tuple[float, float | None, float]:
    """Radius (m), minutes and speed from a preset and/or explicit values."""
    if distance_m is not None and minutes is not None:
        raise ValueError("give distance_m or minutes, not both")
    if speed_m_per_min is not None and (not math.isfinite(speed_m_per_min) or speed_m_per_min <= 0):
        raise ValueError(f"speed_m_per_min must be a positive number, got {speed_m_per_min!r}")
    if distance_m is not None:
        if not math.isfinite(distance_m) or distance_m < 0:
            raise ValueError(f"distance_m must be a non-negative number, got {distance_m!r}")
        speed = speed_m_per_min or (preset.speed_m_per_min if preset and preset.speed_m_per_min else
                                    settings.WALK_SPEED_M_PER_MIN)
        return float(distance_m), float(distance_m) / speed, float(speed)
    if minutes is not None:
        if not math.isfinite(minutes) or minutes < 0:
            raise ValueError(f"minutes must be a non-negative number, got {minutes!r}")
        speed = speed_m_per_min or (preset.speed_m_per_min if preset and preset.speed_m_per_min else
                                    settings.WALK_SPEED_M_PER_MIN)
        return float(minutes) * speed, float(minutes), float(speed)
    if preset is None:
        raise ValueError("give a preset, distance_m or minutes")
    dist = preset_distance_m(preset, speed_m_per_min=speed_m_per_min)
    speed = speed_m_per_min or preset.speed_m_per_min or settings.WALK_SPEED_M_PER_MIN
    mins = preset.minutes if preset.minutes is not None else dist / speed
    return dist, float(mins), float(speed)


def _filter_by_area(facilities: gpd.GeoDataFrame, preset: ServicePreset | None) -> tuple[gpd.GeoDataFrame, str]:
    """Keep facilities in the preset's size band (park tiers); say what was done."""
    if preset is None or (preset.min_area_m2 is None and preset.max_area_m2 is None):
        return facilities, "none"
    geom_types = set(facilities.geom_type.dropna())
    if geom_types and geom_types <= {"Polygon", "MultiPolygon"}:
        area = facilities.to_crs(metric_crs_for(facilities)).area.to_numpy()
        how = "polygon area in metres"
    elif "area_m2" in facilities.columns:
        area = pd.to_numeric(facilities["area_m2"], errors="coerce").to_numpy(dtype="float64")
        how = "area_m2 column"
    else:
        return facilities, "not applied: facilities are not polygons and have no area_m2 column"
    keep = np.ones(len(facilities), dtype=bool)
    if preset.min_area_m2 is not None:
        keep &= area >= preset.min_area_m2
    if preset.max_area_m2 is not None:
        keep &= area < preset.max_area_m2
    return facilities[keep], f"{how}: kept {int(keep.sum())} of {len(facilities)}"


@lru_cache(maxsize=1)
def _jinan_census_surface() -> PopulationRaster:
    from layers.districts import districts as jinan_districts

    return census_surface(jinan_districts())


def run_coverage(
    facilities: gpd.GeoDataFrame,
    *,
    preset: str | ServicePreset | None = None,
    distance_m: float | None = None,
    minutes: float | None = None,
    speed_m_per_min: float | None = None,
    method: str = "buffer",
    network=None,
    population: PopulationRaster | None = None,
    districts: gpd.GeoDataFrame | None = None,
    grid_cell_m: float = 1000,
    grid_shape: str = "hex",
) -> CoverageResult:
    """Service area, coverage table, gaps and grid in one call.

    Parameters
    ----------
    facilities : GeoDataFrame
        Facilities (points, lines or polygons) in any CRS.
    preset : str or ServicePreset, optional
        A standard from :mod:`spatial.standards` (e.g. ``"gb50180-15min"``).
        For the park tiers, polygon facilities (or an ``area_m2`` column) are
        filtered to the preset's size band.
    distance_m, minutes : float, optional
        Radius in metres or time in minutes; either overrides the preset's.
    speed_m_per_min : float, optional
        Speed turning minutes into metres (default: the preset's, else 80).
    method : {"buffer", "network"}
        Straight-line circles, or network service areas from
        :func:`spatial.isochrones.service_areas` (needs ``network``).
    network : spatial.network.StreetNetwork, optional
        Street network for ``method="network"``.
    population : PopulationRaster, optional
        Residents per cell; default the census surface of ``districts``.
    districts : GeoDataFrame, optional
        Districts to report on; default Jinan's 12 (:func:`layers.districts.districts`).
    grid_cell_m : float, default 1000
        Grid cell size for :func:`coverage_grid`.
    grid_shape : {"hex", "square"}
        Grid cell shape.

    Returns
    -------
    CoverageResult

    Raises
    ------
    EmptyLayerError
        No facilities (or none left after a park-size filter).
    NetworkDataError
        ``method="network"`` without a network, or the isochrone module missing.
    """
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    facilities = _as_frame(facilities, name="facilities")
    require_features(facilities, name="facilities")
    p = get_preset(preset) if preset is not None else None
    dist, mins, speed = _resolve_distance(p, distance_m, minutes, speed_m_per_min)
    selected, area_filter = _filter_by_area(facilities, p)
    if len(selected) == 0:
        raise EmptyLayerError(f"no facility is in the size band of preset {p.id!r} ({area_filter})")
    t = time.perf_counter()
    if districts is None:
        from layers.districts import districts as jinan_districts

        districts = jinan_districts()
        if population is None:  # the default surface is built once per process
            population = _jinan_census_surface()
    if population is None:
        population = census_surface(districts)
    timings["population_s"] = time.perf_counter() - t

    t = time.perf_counter()
    if method == "buffer":
        service_area = service_circles(selected, distance_m=dist, speed_m_per_min=speed, dissolve=True)
    elif method == "network":
        if network is None:
            raise NetworkDataError("method='network' needs a street network (spatial.network.StreetNetwork)")
        try:
            from .isochrones import service_areas
        except ImportError as exc:
            raise NetworkDataError(f"network service areas are not available: {exc}") from exc
        areas = service_areas(network, selected, max_distance_m=dist)
        areas = _as_frame(areas, name="network service areas").to_crs(settings.STORAGE_CRS)
        union = shapely.union_all(areas.geometry.to_numpy())
        metric = metric_crs_for(areas)
        service_area = gpd.GeoDataFrame(
            {
                "n_facilities": [len(selected)],
                "distance_m": [dist],
                "minutes": [mins],
                "speed_m_per_min": [speed],
                "method": ["network"],
                "area_km2": [float(gpd.GeoSeries([union], crs=settings.STORAGE_CRS).to_crs(metric).area.iloc[0]) / 1e6],
            },
            geometry=[union],
            crs=settings.STORAGE_CRS,
        )
    else:
        raise ValueError(f"method must be 'buffer' or 'network', got {method!r}")
    timings["service_area_s"] = time.perf_counter() - t

    t = time.perf_counter()
    table = coverage_by_district(service_area, districts, population)
    timings["table_s"] = time.perf_counter() - t
    t = time.perf_counter()
    gaps = coverage_gaps(service_area, districts)
    timings["gaps_s"] = time.perf_counter() - t
    t = time.perf_counter()
    grid = coverage_grid(service_area, population, cell_m=grid_cell_m, shape=grid_shape, within=districts)
    timings["grid_s"] = time.perf_counter() - t
    timings["total_s"] = time.perf_counter() - t0

    pop_total = float(table["population"].sum())
    pop_cov = float(table["population_covered"].sum())
    parameters = {
        "preset": p.id if p else None,
        "preset_source": p.source if p else None,
        "distance_m": dist,
        "minutes": mins,
        "speed_m_per_min": speed,
        "method": method,
        "n_facilities": len(facilities),
        "n_facilities_used": len(selected),
        "area_filter": area_filter,
        "population_source": population.source,
        "population_method": population.method,
        "area_km2": float(table["area_km2"].sum()),
        "covered_km2": float(table["covered_km2"].sum()),
        "population": pop_total,
        "population_covered": pop_cov,
        "population_covered_pct": 100.0 * pop_cov / pop_total if pop_total > 0 else float("nan"),
        "metric_crs": metric_crs_for(districts).to_string(),
        "timings": timings,
    }
    return CoverageResult(service_area, gaps, table, grid, parameters, population)
