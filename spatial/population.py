"""Population rasters: residents per grid cell, in metres.

Two ways to get one:

* :func:`census_surface` spreads census totals by district over a 100 m grid
  (no data beyond the census needed, always available offline);
* :func:`load_population` reads a gridded population product a planner has on
  disk (WorldPop, GHS-POP, LandScan, a city's own grid) and puts it on a
  metric grid, keeping the head count.

Both return a :class:`PopulationRaster`, whose :meth:`~PopulationRaster.zonal_sum`
gives residents inside polygons (districts, service areas, grid cells).

Cells are counted in a polygon when their centre is inside it (GDAL's
rasterisation rule). At 100 m cells, a 500 m circle's head count on a
uniform surface is then unbiased, with a spread of about 1.7 % (at most about
6 %) depending on where the circle falls on the grid.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import rasterio.errors
import rasterio.features
import rasterio.warp
import shapely
from affine import Affine
from numpy.typing import ArrayLike
from pyproj import CRS, Geod

from . import settings
from ._atomic import atomic_path
from ._errors import CRSError, EmptyLayerError, InputFileError, ParameterError, PlanatlasError, StoreError
from .projection import parse_crs, reproject, require_crs, require_features
from .thresholds import check_positive


@dataclass
class PopulationRaster:
    """Residents per cell on a regular grid.

    Attributes
    ----------
    array : numpy.ndarray
        2-D float64 array of residents per cell (not per km²). Cells outside
        the data are ``nodata`` (NaN by default).
    transform : affine.Affine
        Pixel-to-CRS transform (north-up).
    crs : pyproj.CRS
        The grid's CRS (EPSG:4548 by default: metres in Jinan).
    nodata : float or None
        Value marking cells without data; NaN by default.
    source : str
        Where the numbers come from (census table, file name).
    method : str
        How they were put on the grid.
    attrs : dict
        Extra figures (cell size, source total, rescale factor).
    units : str
        What a cell value means, written to the GeoTIFF's tags.
    """

    array: np.ndarray
    transform: Affine
    crs: CRS
    nodata: float | None = np.nan
    source: str = ""
    method: str = ""
    attrs: dict[str, Any] = field(default_factory=dict)
    units: str = "residents per cell"
    #: Zone-label grids of partitions seen before (:meth:`partition_sums`), by the zones' WKB digest.
    _zone_labels: dict[tuple[str, str], tuple[np.ndarray, int] | None] = field(
        default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.array = np.asarray(self.array, dtype="float64")
        if self.array.ndim != 2:
            msg = (f"人口栅格须为二维，收到形状 {self.array.shape} "
                   f"(a population raster is 2-D, got shape {self.array.shape})")
            raise InputFileError(msg)
        given: object = self.crs  # checked at run time: callers pass what they have
        if given is None:
            msg = "人口栅格须有坐标参照系 (a population raster needs a CRS)"
            raise CRSError(msg)
        self.crs = parse_crs(self.crs, name="人口栅格坐标系 crs")

    # -- basic properties ---------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        """Rows and columns of the grid."""
        rows, cols = self.array.shape
        return int(rows), int(cols)

    @property
    def cell_size(self) -> tuple[float, float]:
        """Cell width and height in CRS units (metres on a metric grid)."""
        return abs(self.transform.a), abs(self.transform.e)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(minx, miny, maxx, maxy)`` in the raster's CRS."""
        return _bounds(self.shape, self.transform)

    def valid(self) -> np.ndarray:
        """Boolean mask of cells holding data."""
        mask: np.ndarray = np.isfinite(self.array)
        if self.nodata is not None and not np.isnan(self.nodata):
            mask &= self.array != self.nodata
        return mask

    def filled(self) -> np.ndarray:
        """Residents per cell with no-data cells as 0 (for sums)."""
        return np.where(self.valid(), self.array, 0.0)

    def total(self) -> float:
        """Residents on the whole grid."""
        return float(self.filled().sum(dtype="float64"))

    # -- output ---------------------------------------------------------------
    def to_geotiff(self, path: str | os.PathLike[str]) -> Path:
        """Write a single-band float32 GeoTIFF (deflate), atomically.

        The file is written to a temporary name in the same folder and moved
        into place with :func:`os.replace`, so a reader never sees half a file.
        """
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            msg = f"无法创建文件夹 {path.parent} ({exc.strerror or exc}) (cannot create the folder)"
            raise StoreError(msg) from None
        nodata = -9999.0
        data = np.where(self.valid(), self.array, nodata).astype("float32")
        try:
            with atomic_path(path, suffix=".tif") as tmp, rasterio.open(
                tmp, "w", driver="GTiff", height=data.shape[0], width=data.shape[1], count=1,
                dtype="float32", crs=self.crs.to_wkt(), transform=self.transform, nodata=nodata,
                compress="deflate", tiled=data.shape[0] >= 256 and data.shape[1] >= 256,
            ) as dst:
                dst.write(data, 1)
                dst.update_tags(units=self.units, source=self.source, method=self.method)
        except (OSError, rasterio.errors.RasterioError) as exc:
            msg = f"无法写入栅格 {path} ({exc}) (cannot write the GeoTIFF)"
            raise StoreError(msg) from None
        return path

    # -- zonal statistics -------------------------------------------------------
    def zonal_sum(
        self, polygons: gpd.GeoDataFrame | gpd.GeoSeries, *, overlapping: bool | None = None
    ) -> pd.Series:
        """Residents inside each polygon (cells whose centre falls inside).

        Parameters
        ----------
        polygons : GeoDataFrame or GeoSeries
            Polygons in any CRS; they are projected to the raster's CRS.
            Overlapping polygons (e.g. per-facility circles) are each counted
            in full.
        overlapping : bool, optional
            Whether the polygons may overlap. ``None`` (default) checks; pass
            ``False`` for a partition (districts, grid cells) to skip the check,
            ``True`` to force the polygon-by-polygon path.

        Returns
        -------
        pandas.Series
            Residents per polygon, indexed like ``polygons``.
        """
        if isinstance(polygons, gpd.GeoSeries):
            polygons = gpd.GeoDataFrame(geometry=polygons)
        require_crs(polygons, name="polygons")
        if len(polygons) == 0:
            return pd.Series([], index=polygons.index, dtype="float64", name="population")
        geoms = reproject(polygons, self.crs).geometry.to_numpy()
        values = self.filled()
        present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        sums = np.zeros(len(geoms))
        idx = np.flatnonzero(present)
        if idx.size:
            if overlapping is None:
                overlapping = _overlap(geoms[idx])
            if not overlapping:
                # No overlaps: one rasterisation labels every cell with its
                # polygon, then a bincount adds residents per label.
                labels = self._label_grid(geoms[idx], np.arange(1, idx.size + 1))
                sums[idx] = np.bincount(labels.ravel(), weights=values.ravel(), minlength=idx.size + 1)[1:]
            else:
                sums[idx] = [self._sum_one(g, values) for g in geoms[idx]]
        return pd.Series(sums, index=polygons.index, name="population")

    def partition_sums(
        self, zones: gpd.GeoDataFrame | gpd.GeoSeries, *, within: shapely.Geometry
    ) -> tuple[pd.Series, pd.Series]:
        """Residents of each zone, and of those the residents inside ``within``.

        The same figures as ``zonal_sum(zones)`` and ``zonal_sum(zones ∩
        within)`` (a cell counts where its centre is), computed so that a page
        asking again for the same zones with another ``within`` (a coverage
        rerun with a new radius) does not rasterise the zones again: the grid
        of zone labels is kept with the raster. Zones that overlap are summed
        polygon by polygon, as :meth:`zonal_sum` does.

        Parameters
        ----------
        zones : GeoDataFrame or GeoSeries
            Districts or planning units, any CRS.
        within : shapely.Geometry, keyword-only
            The covered area, in the zones' CRS.

        Returns
        -------
        (pandas.Series, pandas.Series)
            Residents per zone and residents per zone inside ``within``, indexed like ``zones``.
        """
        if isinstance(zones, gpd.GeoSeries):
            zones = gpd.GeoDataFrame(geometry=zones)
        require_crs(zones, name="zones")
        geoms = reproject(zones, self.crs).geometry.to_numpy()
        cover = reproject(gpd.GeoSeries([within], crs=zones.crs), self.crs).to_numpy()[0]
        labelled = self._labels_of(geoms)
        if labelled is None:  # overlapping zones (or none drawable): each polygon on its own
            inside = gpd.GeoSeries(shapely.intersection(geoms, cover), index=zones.index, crs=self.crs)
            return (self.zonal_sum(gpd.GeoSeries(geoms, index=zones.index, crs=self.crs), overlapping=True),
                    self.zonal_sum(inside, overlapping=True))
        labels, n = labelled
        values = self.filled()
        totals = np.bincount(labels.ravel(), weights=values.ravel(), minlength=n + 1)[1:]
        covered: np.ndarray = np.zeros(n)
        if not (shapely.is_missing(cover) or shapely.is_empty(cover)):
            mask = rasterio.features.geometry_mask([cover], out_shape=self.shape, transform=self.transform,
                                                   invert=True)
            covered = np.bincount(labels[mask], weights=values[mask], minlength=n + 1)[1:].astype("float64")
        return (pd.Series(totals, index=zones.index, name="population"),
                pd.Series(covered, index=zones.index, name="population"))

    def _labels_of(self, geoms: np.ndarray) -> tuple[np.ndarray, int] | None:
        """Grid of zone numbers 1..n (0 outside every zone), kept per zone set; None when zones overlap."""
        digest = hashlib.sha256()
        for wkb in shapely.to_wkb(geoms):
            digest.update(b"" if wkb is None else wkb)
        key = (digest.hexdigest(), repr((self.transform, self.shape)))
        if key in self._zone_labels:
            return self._zone_labels.get(key)
        # not found: computed here; a raster shared by sessions (the app caches one per store) may be
        # asked by two threads at once, and each then stores the same grid, harmlessly
        present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        entry: tuple[np.ndarray, int] | None = None
        if present.any() and not _overlap(geoms[present]):
            entry = (self._label_grid(geoms[present], np.arange(1, len(geoms) + 1)[present]), len(geoms))
        # a few unit sets per raster (each grid is 4 bytes a cell: 10.8 MB on Jinan's 100 m raster); the oldest goes
        while len(self._zone_labels) >= _ZONE_GRIDS_KEPT:
            try:
                self._zone_labels.pop(next(iter(self._zone_labels)))
            except (StopIteration, KeyError, RuntimeError):  # emptied or changed by another thread
                break
        self._zone_labels[key] = entry
        return entry

    def _label_grid(self, geoms: np.ndarray, numbers: np.ndarray) -> np.ndarray:
        """Cells labelled with the number of the polygon their centre is in (0 in none); polygons must not overlap."""
        labels: np.ndarray = rasterio.features.rasterize(
            zip(geoms, numbers, strict=True), out_shape=self.shape, transform=self.transform, fill=0, dtype="int32",
        )
        return labels

    def _sum_one(self, geom: shapely.Geometry, values: np.ndarray) -> float:
        """Residents in one polygon, rasterising only its bounding window."""
        row0, row1, col0, col1 = _window(shapely.bounds(geom), self.transform, self.shape)
        if row1 <= row0 or col1 <= col0:
            return 0.0
        t = self.transform
        window_transform = Affine(t.a, 0.0, t.c + col0 * t.a, 0.0, t.e, t.f + row0 * t.e)
        inside = rasterio.features.geometry_mask(
            [geom], out_shape=(row1 - row0, col1 - col0), transform=window_transform, invert=True
        )
        return float(values[row0:row1, col0:col1][inside].sum())


#: How many zone-label grids a raster keeps (:meth:`PopulationRaster.partition_sums`).
_ZONE_GRIDS_KEPT = 4


def _overlap(geoms: np.ndarray) -> bool:
    """Whether any of these (present, non-empty) polygons overlap: their union is smaller than their areas added."""
    if len(geoms) < 2:
        return False
    return bool(shapely.area(shapely.union_all(geoms)) < shapely.area(geoms).sum() * (1 - 1e-9))


def _window(bounds: ArrayLike, transform: Affine, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """Rows and columns ``(row0, row1, col0, col1)`` of a north-up grid covering ``bounds``."""
    minx, miny, maxx, maxy = np.asarray(bounds, dtype=float)
    col0 = int(np.floor((minx - transform.c) / transform.a))
    col1 = int(np.ceil((maxx - transform.c) / transform.a))
    row0 = int(np.floor((maxy - transform.f) / transform.e))
    row1 = int(np.ceil((miny - transform.f) / transform.e))
    return max(row0, 0), min(row1, shape[0]), max(col0, 0), min(col1, shape[1])


def _bounds(shape: tuple[int, int], transform: Affine) -> tuple[float, float, float, float]:
    height, width = shape
    xs = [transform.c, transform.c + width * transform.a]
    ys = [transform.f, transform.f + height * transform.e]
    return min(xs), min(ys), max(xs), max(ys)


def _snapped_grid(bounds: ArrayLike, cell_m: float) -> tuple[Affine, tuple[int, int]]:
    """North-up grid on multiples of ``cell_m`` covering ``bounds``."""
    minx, miny, maxx, maxy = np.asarray(bounds, dtype=float)
    x0 = np.floor(minx / cell_m) * cell_m
    y1 = np.ceil(maxy / cell_m) * cell_m
    width = int(np.ceil((maxx - x0) / cell_m)) or 1
    height = int(np.ceil((y1 - miny) / cell_m)) or 1
    return Affine(cell_m, 0.0, x0, 0.0, -cell_m, y1), (height, width)


def _check_cell(cell_m: float) -> float:
    """The cell size in metres, or :class:`ParameterError`."""
    return check_positive(cell_m, "栅格大小 cell_m")


def census_surface(
    districts: gpd.GeoDataFrame,
    *,
    cell_m: float = 100,
    weight: PopulationRaster | None = None,
    population_column: str = "population_2020",
    crs: str = settings.METRIC_CRS,
) -> PopulationRaster:
    """Spread district census totals over a grid ("dasymetric-lite").

    Parameters
    ----------
    districts : GeoDataFrame
        District polygons with a population column (e.g.
        :func:`layers.districts.districts`).
    cell_m : float, default 100
        Cell size in metres.
    weight : PopulationRaster, optional
        A raster of relative weights (built-up area, night lights, a gridded
        population product). Each district's population is split in
        proportion to the weights of its cells; districts whose cells all weigh
        0 fall back to uniform.
    population_column : str, default "population_2020"
        Column holding residents per district.
    crs : str, default EPSG:4548
        Metric CRS of the grid.

    Returns
    -------
    PopulationRaster
        Residents per cell; cells outside every district are NaN.

    Raises
    ------
    CRSError
        ``districts`` has no CRS, or ``crs`` is not one pyproj knows.
    EmptyLayerError
        ``districts`` has no features or no ``population_column``.
    InputFileError
        The population column holds negative or non-numeric values.
    ParameterError
        ``cell_m`` is not a positive number, or ``weight`` is not a PopulationRaster.

    Notes
    -----
    Method: each cell is assigned to the district containing its centre; a
    district's population is then divided equally among its cells (or by
    weight). The district sums are therefore preserved exactly (to floating
    point), and so is the grand total. A district too small to hold a cell
    centre puts its residents in the cell under its representative point.

    Limits: without a weight, density is flat within a district, so a 15-minute
    circle in 历下区's built-up core and one on its southern hills count the
    same residents per km². Coverage figures within a district are then
    area shares, not true head counts; use a weight or a real population grid
    (:func:`load_population`) for that.
    """
    require_crs(districts, name="districts")
    require_features(districts, name="districts")
    if population_column not in districts.columns:
        msg = (f"区县图层没有人口字段 {population_column} "
               f"(districts have no {population_column!r} column)")
        raise EmptyLayerError(msg)
    pops = pd.to_numeric(districts[population_column], errors="coerce").to_numpy(dtype="float64")
    if np.any(~np.isfinite(pops)) or np.any(pops < 0):
        msg = (f"人口字段 {population_column} 须为非负数 "
               f"({population_column!r} must be non-negative numbers)")
        raise InputFileError(msg)
    missing = np.array([g is None or g.is_empty for g in districts.geometry.to_numpy()], dtype=bool)
    if (missing & (pops > 0)).any():  # their residents could be put nowhere: never dropped silently
        k, lost = int((missing & (pops > 0)).sum()), float(pops[missing].sum())
        msg = (f"{k} 个单元没有几何 (无法读取或为空)，其 {lost:,.0f} 人无法落到人口网格上：请修复或重建该图层 "
               f"({k} units have no geometry; their {lost:,.0f} residents cannot be placed on the grid)")
        raise InputFileError(msg)
    cell = _check_cell(cell_m)
    given: object = weight  # checked at run time: callers pass what they have
    if given is not None and not isinstance(given, PopulationRaster):
        msg = (f"权重 weight 须为 PopulationRaster，收到 {type(given).__name__} "
               "(weight must be a PopulationRaster)")
        raise ParameterError(msg)
    grid_crs = parse_crs(crs, name="坐标系 crs")
    metric = reproject(districts, grid_crs)
    geoms = metric.geometry.to_numpy()
    transform, shape = _snapped_grid(metric.total_bounds, cell)
    labels = rasterio.features.rasterize(
        ((g, i + 1) for i, g in enumerate(geoms) if g is not None and not g.is_empty),
        out_shape=shape, transform=transform, fill=0, dtype="int32",
    )
    n = len(geoms)
    flat = labels.ravel()
    if weight is not None:
        w = _weights_on_grid(weight, transform, shape, grid_crs).ravel()
    else:
        w = np.ones(flat.size)
    w = np.where(flat > 0, w, 0.0)
    wsum = np.bincount(flat, weights=w, minlength=n + 1)
    count = np.bincount(flat, minlength=n + 1)
    # Districts whose cells carry no weight at all get a uniform spread instead.
    zero = (wsum == 0) & (count > 0)
    zero[0] = False
    if zero.any():
        w = np.where(zero[flat], 1.0, w)
        wsum = np.bincount(flat, weights=w, minlength=n + 1)
    per_weight = np.zeros(n + 1)
    has = wsum > 0
    per_weight[has] = np.r_[0.0, pops][has] / wsum[has]
    values = w * per_weight[flat]
    out = np.where(flat > 0, values, np.nan).reshape(shape)
    # Districts smaller than a cell (no centre inside): one cell takes them.
    for i in np.flatnonzero(count[1:] == 0):
        if pops[i] == 0:
            continue
        pt = shapely.point_on_surface(geoms[i])
        r = min(int((pt.y - transform.f) // transform.e), shape[0] - 1)
        c = min(int((pt.x - transform.c) // transform.a), shape[1] - 1)
        out[r, c] = (0.0 if np.isnan(out[r, c]) else out[r, c]) + pops[i]
    return PopulationRaster(
        out, transform, grid_crs,
        source=_census_source(districts, population_column),
        method=("按单元均匀分布 (uniform within each unit)" if weight is None
                else "按权重栅格分布 (spread by a weight raster)"),
        attrs={"cell_m": cell, "districts": n},
    )


def _census_source(districts: gpd.GeoDataFrame, population_column: str) -> str:
    """What the numbers stand on: the units' own population source when they name one."""
    named = districts["population_source"].dropna().astype(str).unique() if "population_source" in districts else []
    base = "；".join(named) if len(named) else f"单元人口字段 {population_column}"
    return f"{base}（{len(districts)} 个单元，字段 {population_column}）"


def _weights_on_grid(weight: PopulationRaster, transform: Affine, shape: tuple[int, int], crs: CRS) -> np.ndarray:
    """Resample a weight raster onto the census grid (relative values only)."""
    dst = np.zeros(shape, dtype="float64")
    rasterio.warp.reproject(
        weight.filled(), dst, src_transform=weight.transform, src_crs=weight.crs,
        dst_transform=transform, dst_crs=crs, resampling=rasterio.warp.Resampling.average,
        src_nodata=None, dst_nodata=0.0,
    )
    clipped: np.ndarray = np.clip(np.nan_to_num(dst), 0.0, None)
    return clipped


def _cell_areas_m2(transform: Affine, shape: tuple[int, int], crs: CRS) -> np.ndarray:
    """Area of each row's cells in m² (geographic grids: on the ellipsoid)."""
    height = shape[0]
    if crs.is_projected:
        unit = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
        return np.full(height, abs(transform.a * transform.e - transform.b * transform.d) * unit**2)
    geod = CRS.from_user_input(crs).get_geod() or Geod(ellps="WGS84")
    x0, dx = transform.c, transform.a
    tops = transform.f + np.arange(height) * transform.e
    bottoms = tops + transform.e
    areas = np.empty(height)
    for i, (top, bottom) in enumerate(zip(tops, bottoms, strict=True)):
        area, _ = geod.polygon_area_perimeter([x0, x0 + dx, x0 + dx, x0], [bottom, bottom, top, top])
        areas[i] = abs(area)
    return areas


#: First bytes of a TIFF: classic and BigTIFF, little- and big-endian.
_TIFF_MAGICS = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


def _check_raster_file(path: Path) -> None:
    """A local regular file, not too large, whose first bytes are a TIFF's (a VRT named .tif reads other files).

    Raises
    ------
    InputFileError
    """
    from .io._limits import check_user_file

    check_user_file(path, what=("人口栅格", "population raster"), max_bytes=settings.MAX_RASTER_BYTES)
    with path.open("rb") as fh:
        head = fh.read(4)
    if head not in _TIFF_MAGICS:
        msg = (f"{path.name} 不是 GeoTIFF：人口栅格须为 GeoTIFF (.tif)，planatlas 不读取其他栅格格式或 VRT "
               f"({path.name} is not a GeoTIFF; population rasters must be GeoTIFF files)")
        raise InputFileError(msg)


def _check_cells(name: str, rows: int, cols: int, what_zh: str, what_en: str, *, limit: int | None = None) -> None:
    """Refuse a grid of more than ``limit`` cells (:data:`MAX_RASTER_CELLS`) before it is allocated."""
    cells = int(rows) * int(cols)
    limit = MAX_RASTER_CELLS if limit is None else limit
    if cells > limit:
        msg = (f"{name}：{what_zh}有 {rows:,} × {cols:,} = {cells:,} 个格子，超过上限 {limit:,}；"
               f"请裁剪到分析范围或用更大的格子 ({name}: {what_en} has {cells:,} cells; the limit is {limit:,}: "
               "clip it to the study area or use larger cells)")
        raise InputFileError(msg)


def _check_where(name: str, src_crs: CRS, src_bounds: Any, dst_crs: CRS) -> None:
    """Refuse a raster lying outside where ``dst_crs`` can measure (another region's raster, or wrong CRS).

    Regridding it would only make a huge, empty grid; said here, before a cell is read.
    """
    area = dst_crs.area_of_use
    if area is None:
        return
    try:
        w, s, e, n = rasterio.warp.transform_bounds(src_crs, "EPSG:4326", *src_bounds, densify_pts=21)
    except (rasterio.errors.RasterioError, ValueError):
        return
    margin = 1.0  # degrees: a raster just over the edge of a zone is still measured well
    if e < area.west - margin or w > area.east + margin or n < area.south - margin or s > area.north + margin:
        msg = (f"{name} 位于 {w:.1f}°–{e:.1f}°E、{s:.1f}°–{n:.1f}°N，不在分析坐标系 {dst_crs.name} 的适用范围 "
               f"({area.west:.1f}°–{area.east:.1f}°E、{area.south:.1f}°–{area.north:.1f}°N) 内：这是另一个地区的栅格，"
               f"或者它的坐标系有误 ({name} lies at {w:.1f}..{e:.1f}E, {s:.1f}..{n:.1f}N, outside the area of "
               f"{dst_crs.name}: a raster of another region, or a wrong CRS)")
        raise InputFileError(msg)


def load_population(
    path: str | os.PathLike[str],
    *,
    target_crs: str = settings.METRIC_CRS,
    cell_m: float = 100,
    band: int = 1,
    within: tuple[float, float, float, float] | None = None,
    max_cells: int | None = None,
) -> PopulationRaster:
    """Read a population GeoTIFF (residents per cell) and regrid it in metres.

    Parameters
    ----------
    path : str or path-like
        A GeoTIFF (or any raster GDAL reads) of residents per cell, e.g.
        WorldPop's ``chn_ppp_2020_UNadj.tif`` clipped to Jinan.
    target_crs : str, default EPSG:4548
        Metric CRS of the output grid.
    cell_m : float, default 100
        Output cell size in metres.
    band : int, default 1
        Band to read.
    within : tuple of float, optional
        ``(W, S, E, N)`` in WGS-84 degrees: read only the part of the raster
        over this area (a national WorldPop grid is read for one city).
    max_cells : int, optional
        Largest number of source cells read (default :data:`MAX_RASTER_CELLS`).

    Returns
    -------
    PopulationRaster
        Residents per ``cell_m`` cell; ``attrs`` holds ``source_total`` and
        ``rescale`` (the factor applied to keep the total; 1 ± a few 1e-3 in
        practice).

    Raises
    ------
    InputFileError
        The file is missing or not a readable raster, or has no band
        ``band``, or does not reach ``within``, or is too large to read.
    CRSError
        The raster has no CRS, or ``target_crs`` is not one pyproj knows.
    ParameterError
        ``cell_m`` is not a positive number or ``band`` not a whole number.

    Notes
    -----
    Counts cannot be resampled directly (averaging counts loses people when
    cells get smaller). The counts are turned into density (residents per m²,
    with each source cell's area on the ellipsoid for longitude/latitude
    grids), the density is warped with area-weighted averaging, and multiplied
    by the target cell area. A final scale factor makes the grid total equal
    to the source total exactly, absorbing what edge effects remain.
    """
    path = Path(path)
    _check_raster_file(path)
    cell = _check_cell(cell_m)
    if isinstance(band, bool) or not isinstance(band, (int, np.integer)):
        msg = f"波段 band 须为整数，收到 {band!r} (band must be a whole number)"
        raise ParameterError(msg)
    dst_crs = parse_crs(target_crs, name="目标坐标系 target_crs")
    try:
        with rasterio.open(path, driver="GTiff") as src:  # GeoTIFF only: never what GDAL would guess
            if src.crs is None:
                msg = (f"{path.name} 没有坐标参照系，无法确定栅格的位置 "
                       f"({path.name} has no CRS: planatlas cannot tell where its cells are)")
                raise CRSError(msg)
            _check_where(path.name, CRS.from_user_input(src.crs), src.bounds, dst_crs)
            if band < 1 or band > src.count:
                msg = (f"{path.name} 只有 {src.count} 个波段，没有第 {band} 波段 "
                       f"({path.name} has {src.count} band(s); band {band} asked)")
                raise InputFileError(msg)
            window = _window_within(src, within, path.name)
            rows, cols = (window.height, window.width) if window is not None else (src.height, src.width)
            what = ("栅格中要读取的范围", "the part of the raster to read") if window is not None else (
                "栅格文件", "the raster file")
            _check_cells(path.name, rows, cols, *what,
                         limit=MAX_RASTER_CELLS if max_cells is None else int(max_cells))
            data = src.read(band, masked=True, window=window).astype("float64").filled(np.nan)
            src_crs = CRS.from_user_input(src.crs)
            src_transform, src_bounds = src.transform, src.bounds
            if window is not None:  # the window's own transform (north-up grids only are windowed)
                t = src.transform
                src_transform = Affine(t.a, t.b, t.c + window.col_off * t.a, t.d, t.e, t.f + window.row_off * t.e)
                src_bounds = _bounds((window.height, window.width), src_transform)
    except PlanatlasError:
        raise
    except (rasterio.errors.RasterioError, OSError, ValueError):
        msg = f"无法将 {path.name} 作为 GeoTIFF 读取：文件已损坏或不是 GeoTIFF (cannot read {path.name} as a GeoTIFF)"
        raise InputFileError(msg) from None
    data[~np.isfinite(data) | (data < 0)] = np.nan  # negative counts are fill values in some products
    source_total = float(np.nansum(data))
    density = data / _cell_areas_m2(src_transform, data.shape, src_crs)[:, None]
    bounds = rasterio.warp.transform_bounds(src_crs, dst_crs, *src_bounds, densify_pts=21)
    transform, shape = _snapped_grid(bounds, cell)
    _check_cells(path.name, shape[0], shape[1], f"按 {cell:g} m 重采样后的网格", f"the {cell:g} m grid it becomes")
    dst = np.full(shape, np.nan)
    rasterio.warp.reproject(
        density, dst, src_transform=src_transform, src_crs=src_crs, dst_transform=transform,
        dst_crs=dst_crs, resampling=rasterio.warp.Resampling.average, src_nodata=np.nan,
        dst_nodata=np.nan,
    )
    counts = dst * _cell_areas_m2(transform, shape, dst_crs)[:, None]
    grid_total = float(np.nansum(counts))
    rescale = source_total / grid_total if grid_total > 0 else 1.0
    counts *= rescale
    return PopulationRaster(
        counts, transform, dst_crs, source=path.name,
        method="density warped with average resampling, x cell area, rescaled to the source total",
        attrs={"source_total": source_total, "rescale": rescale, "cell_m": cell},
    )


#: Most source cells :func:`load_population` reads (the one limit of :mod:`spatial.settings`; a 100 m grid
#: of a whole province is about 20 million; a national grid is read through ``within``).
MAX_RASTER_CELLS: int = settings.MAX_RASTER_CELLS


def _window_within(src: Any, within: tuple[float, float, float, float] | None, name: str) -> Any:
    """The raster window over ``within`` (WGS-84 W, S, E, N), or None for the whole raster."""
    if within is None:
        return None
    import rasterio.windows

    w, s, e, n = rasterio.warp.transform_bounds("EPSG:4326", src.crs, *within, densify_pts=21)
    left, bottom, right, top = src.bounds
    if w >= right or e <= left or s >= top or n <= bottom:
        msg = (f"{name} 的范围与项目范围不重叠：栅格不在城市内 "
               f"({name} does not overlap the project area: the raster is outside the city)")
        raise InputFileError(msg)
    t = src.transform
    if t.b != 0 or t.d != 0:  # a rotated grid is read whole
        return None
    cols = sorted(((max(w, left) - t.c) / t.a, (min(e, right) - t.c) / t.a))
    rows = sorted(((min(n, top) - t.f) / t.e, (max(s, bottom) - t.f) / t.e))
    col0, row0 = int(np.floor(cols[0])), int(np.floor(rows[0]))
    col1, row1 = int(np.ceil(cols[1])), int(np.ceil(rows[1]))
    col0, row0 = max(col0, 0), max(row0, 0)
    col1, row1 = min(col1, src.width), min(row1, src.height)
    return rasterio.windows.Window(col0, row0, max(col1 - col0, 1), max(row1 - row0, 1))


# --------------------------------------------------------------------------- dasymetric surfaces

#: Methods of a population surface, named on every figure that stands on it.
METHOD_UNIFORM = "按单元均匀分布 (uniform within each unit)"
METHOD_FLOOR_AREA = "按住宅建筑面积分配单元人口 (dasymetric: each unit's total spread over residential floor area)"
METHOD_LAND = "按居住用地面积分配单元人口 (dasymetric: each unit's total spread over residential land)"
METHOD_FLOOR_AREA_ONLY = ("住宅建筑面积，无人口数据：数字是平方米而不是人数 "
                          "(residential floor area, no population data: figures are m², not residents)")

#: ``units`` of a surface of residential floor area instead of residents.
FLOOR_AREA_UNITS = "m² residential floor area per cell"


def _grid_for(frame: gpd.GeoDataFrame, cell_m: float, crs: CRS) -> tuple[Affine, tuple[int, int]]:
    bounds = reproject(frame, crs).total_bounds
    return _snapped_grid(bounds, cell_m)


def floor_area_weights(
    buildings: gpd.GeoDataFrame, *, like: gpd.GeoDataFrame | None = None, cell_m: float = 100,
    crs: str | CRS | None = None, residential_only: bool = True,
) -> PopulationRaster:
    """Residential floor area per grid cell, m² (each building counted in the cell of its representative point).

    Parameters
    ----------
    buildings : GeoDataFrame
        Building polygons with ``floor_area_m2`` (and ``residential`` when
        ``residential_only``), as :func:`spatial.io.osm.read_osm` writes them.
    like : GeoDataFrame, optional, keyword-only
        Span the grid over this layer (the units) instead of the buildings.
    cell_m : float, default 100, keyword-only
        Cell size, metres.
    crs : str or CRS, optional, keyword-only
        Metric CRS of the grid (default: :func:`~spatial.projection.metric_crs_for` the buildings).
    residential_only : bool, default True, keyword-only
        Count only buildings whose ``residential`` column is true.

    Raises
    ------
    EmptyLayerError
        No (residential) buildings with a floor area.
    """
    from .projection import metric_crs_for

    require_crs(buildings, name="建筑 buildings")
    if "floor_area_m2" not in buildings.columns:
        msg = "建筑图层没有 floor_area_m2 列 (buildings have no floor_area_m2 column)"
        raise EmptyLayerError(msg)
    chosen = buildings
    if residential_only and "residential" in buildings.columns:
        chosen = buildings[buildings["residential"].fillna(False).astype(bool)]
    area = pd.to_numeric(chosen["floor_area_m2"], errors="coerce").fillna(0.0).to_numpy(dtype="float64")
    if len(chosen) == 0 or area.sum() <= 0:
        msg = "没有带建筑面积的住宅建筑 (no residential buildings with a floor area)"
        raise EmptyLayerError(msg)
    cell = _check_cell(cell_m)
    grid_crs = parse_crs(crs, name="坐标系 crs") if crs is not None else metric_crs_for(chosen)
    transform, shape = _grid_for(like if like is not None else chosen, cell, grid_crs)
    pts = shapely.point_on_surface(reproject(chosen, grid_crs).geometry.to_numpy())
    col = np.floor((shapely.get_x(pts) - transform.c) / transform.a).astype(np.int64)
    row = np.floor((shapely.get_y(pts) - transform.f) / transform.e).astype(np.int64)
    inside = (row >= 0) & (row < shape[0]) & (col >= 0) & (col < shape[1])
    flat = np.bincount(row[inside] * shape[1] + col[inside], weights=area[inside], minlength=shape[0] * shape[1])
    return PopulationRaster(flat.reshape(shape), transform, grid_crs, nodata=None,
                            source="建筑面积 floor_area_m2", method="每栋住宅建筑计入其代表点所在栅格",
                            attrs={"cell_m": cell, "buildings": int(inside.sum())}, units=FLOOR_AREA_UNITS)


def land_weights(land: gpd.GeoDataFrame, *, like: gpd.GeoDataFrame | None = None, cell_m: float = 100,
                 crs: str | CRS | None = None, supersample: int = 5) -> PopulationRaster:
    """Area of residential land per grid cell, m² (polygons rasterised on a finer grid and summed).

    Raises
    ------
    EmptyLayerError
        No land polygons.
    """
    from .projection import metric_crs_for

    require_crs(land, name="居住用地 land")
    require_features(land, name="居住用地 land")
    cell = _check_cell(cell_m)
    grid_crs = parse_crs(crs, name="坐标系 crs") if crs is not None else metric_crs_for(land)
    transform, shape = _grid_for(like if like is not None else land, cell, grid_crs)
    k = max(1, int(supersample))
    fine = Affine(transform.a / k, 0.0, transform.c, 0.0, transform.e / k, transform.f)
    mask = rasterio.features.rasterize(
        ((g, 1) for g in reproject(land, grid_crs).geometry.to_numpy() if g is not None and not g.is_empty),
        out_shape=(shape[0] * k, shape[1] * k), transform=fine, fill=0, dtype="uint8",
    )
    area = mask.reshape(shape[0], k, shape[1], k).sum(axis=(1, 3)) * (cell / k) ** 2
    return PopulationRaster(area.astype("float64"), transform, grid_crs, nodata=None,
                            source="居住用地", method=f"居住用地多边形按 {cell / k:g} m 细格栅格化后求和",
                            attrs={"cell_m": cell}, units="m² residential land per cell")


def dasymetric_surface(units: gpd.GeoDataFrame, weights: PopulationRaster, *,
                       population_column: str = "population", cell_m: float = 100) -> PopulationRaster:
    """Spread each unit's population over a weight surface (residential floor area or land).

    A unit whose cells all weigh nothing keeps a uniform spread (said in
    ``attrs["uniform_units"]``). Unit totals are kept exactly.

    Parameters
    ----------
    units : GeoDataFrame
        Units (districts, 街道, 社区) with ``population_column``.
    weights : PopulationRaster
        :func:`floor_area_weights` or :func:`land_weights`.
    population_column : str, keyword-only
        Residents per unit.
    cell_m : float, keyword-only
        Cell size of the result, metres.

    Returns
    -------
    PopulationRaster
        ``method`` names the weights (:data:`METHOD_FLOOR_AREA` or :data:`METHOD_LAND`).
    """
    surface = census_surface(units, cell_m=cell_m, weight=weights, population_column=population_column,
                             crs=weights.crs.to_wkt())
    surface.method = METHOD_FLOOR_AREA if weights.units == FLOOR_AREA_UNITS else METHOD_LAND
    surface.source = f"{surface.source}；权重：{weights.source}"
    return surface


def floor_area_surface(buildings: gpd.GeoDataFrame, *, like: gpd.GeoDataFrame | None = None,
                       cell_m: float = 100, source: str = "") -> PopulationRaster:
    """Residential floor area as the surface a coverage counts on, when no population data exists.

    Every figure computed on it is m² of residential floor area, not
    residents, and says so (``units`` and ``method``).
    """
    surface = floor_area_weights(buildings, like=like, cell_m=cell_m)
    surface.method = METHOD_FLOOR_AREA_ONLY
    surface.source = source or "住宅建筑面积 (建筑图层)"
    return surface


def counts_residents(raster: PopulationRaster) -> bool:
    """Whether a surface counts residents (False for a floor-area surface)."""
    return raster.units.startswith("residents")


# --------------------------------------------------------------------------- in the project store

#: Store layer of an imported or derived population surface (cell centres, WGS-84).
STORE_LAYER = "population_grid"
#: Store table describing that surface's grid.
STORE_TABLE = "population"


def to_store(raster: PopulationRaster) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """The surface as a layer of cell centres (``row``, ``col``, ``population``) and a table of its grid.

    Only cells holding people (or floor area) are written; :func:`from_store`
    puts them back on the same grid exactly.
    """
    valid = raster.valid() & (raster.filled() > 0)
    rows, cols = np.nonzero(valid)
    t = raster.transform
    xs = t.c + (cols + 0.5) * t.a
    ys = t.f + (rows + 0.5) * t.e
    frame = reproject(gpd.GeoDataFrame(
        {"row": rows.astype(np.int32), "col": cols.astype(np.int32), "population": raster.array[valid],
         "source": raster.source, "source_datum": "WGS84", "precision": "approximate"},
        geometry=gpd.GeoSeries(shapely.points(xs, ys), crs=raster.crs), crs=raster.crs,
    ), settings.STORAGE_CRS)
    table = pd.DataFrame([{
        "crs": raster.crs.to_wkt(), "transform": ",".join(repr(float(v)) for v in tuple(t)[:6]),
        "height": raster.shape[0], "width": raster.shape[1], "source": raster.source, "method": raster.method,
        "units": raster.units, "total": raster.total(),
    }])
    return frame, table


def from_store(path: str | os.PathLike[str], *, units: str | None = None) -> PopulationRaster | None:
    """The project's population surface, with its ``source`` and ``method`` (what every figure names).

    In order: the surface imported or built into the store (layer
    :data:`STORE_LAYER`: a GeoTIFF, a dasymetric surface, or residential
    floor area where the project has no population); else the census surface
    of ``units`` (a units layer with ``population``) or of the ``districts``
    layer (``population_2020``); else ``None``.

    Parameters
    ----------
    path : path-like
        The store.
    units : str, optional, keyword-only
        A units layer whose ``population`` column to use when the store holds
        no surface.

    Raises
    ------
    StoreError
        The store cannot be read, or its surface table does not match its layer.
    UnknownLayerError
        ``units`` is not a layer of the store.
    """
    from . import store

    names = set(store.list_layers(path)["name"])
    if STORE_LAYER in names:
        table = store.read_table(STORE_TABLE, path=path)
        if table is None or table.empty:
            msg = (f"数据库有 {STORE_LAYER} 图层但缺少其栅格说明表 (the store has a {STORE_LAYER} layer but no "
                   "grid table)")
            raise StoreError(msg)
        return _raster_from(store.read_layer(STORE_LAYER, path=path), table.iloc[0])
    if units is not None:
        frame = store.read_layer(units, path=path)
        column = "population" if "population" in frame.columns else "population_2020"
        if column in frame.columns and pd.to_numeric(frame[column], errors="coerce").notna().any():
            return census_surface(frame.dropna(subset=[column]), population_column=column,
                                  crs=_metric_name(frame))
    if "districts" in names:
        districts = store.read_layer("districts", path=path)
        if "population_2020" in districts.columns:
            return census_surface(districts, population_column="population_2020", crs=_metric_name(districts))
    return None


def _metric_name(frame: gpd.GeoDataFrame) -> str:
    from .projection import metric_crs_for

    return str(metric_crs_for(frame).to_wkt())


def _raster_from(cells: gpd.GeoDataFrame, meta: pd.Series) -> PopulationRaster:
    try:
        values = [float(v) for v in str(meta["transform"]).split(",")]
        height, width = int(meta["height"]), int(meta["width"])
        crs = CRS.from_wkt(str(meta["crs"]))
    except (KeyError, ValueError, TypeError) as exc:
        msg = f"人口栅格说明表无法解读：{exc} (the population grid table cannot be read)"
        raise StoreError(msg) from None
    array = np.full((height, width), np.nan)
    rows = cells["row"].to_numpy(dtype=np.int64)
    cols = cells["col"].to_numpy(dtype=np.int64)
    if len(rows) and (rows.min() < 0 or cols.min() < 0 or rows.max() >= height or cols.max() >= width):
        msg = "人口栅格的格网号超出其说明表的范围 (population cells lie outside their grid)"
        raise StoreError(msg)
    array[rows, cols] = cells["population"].to_numpy(dtype=np.float64)
    return PopulationRaster(array, Affine(*values), crs, source=str(meta.get("source", "")),
                            method=str(meta.get("method", "")), units=str(meta.get("units", "residents per cell")),
                            attrs={"cell_m": abs(values[0])})
