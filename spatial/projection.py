"""CRS helpers: store in EPSG:4326, measure in metres.

Every layer planatlas writes is WGS-84 longitude/latitude (EPSG:4326). Every
distance, buffer and area is computed in a projected CRS in metres: for Jinan
CGCS2000 / 3-degree Gauss-Kruger CM 117E (EPSG:4548), elsewhere the UTM zone
of the data, so the same code serves test data from Helsinki.

Every change of CRS goes through :func:`reproject` (``to_crs`` with PROJ's
operation search done once per process, see :mod:`spatial._transform`: the
app runs each rerun on a new thread, where ``to_crs`` between WGS-84 and
CGCS2000 searched again, 0.2 s a rerun).

These helpers are where a layer without a CRS, an empty layer or two layers in
different CRSs are refused, with a :class:`~spatial._errors.CRSError` or
:class:`~spatial._errors.EmptyLayerError` that names the layer, so analyses
further in never have to guess.
"""

from __future__ import annotations

import math
import warnings

import geopandas as gpd
from pyproj import CRS
from pyproj.exceptions import CRSError as PyprojCRSError

from . import settings
from ._errors import CRSError, EmptyLayerError, ParameterError
from ._transform import reproject, transformer

__all__ = [
    "check_same_crs", "metric_crs_for", "parse_crs", "reproject", "require_crs", "require_features",
    "to_metric", "to_storage", "transformer", "warn_if_geographic",
]

# Longitudes where the Gauss-Kruger 3-degree zone centred on 117E keeps
# scale error negligible (the zone is 115.5E-118.5E; Jinan spans 116.2E-117.9E).
_GK117_LON = (115.5, 118.5)


def _check_frame(gdf: object, name: str) -> None:
    """Refuse anything but a GeoDataFrame or GeoSeries, naming ``name``."""
    if not isinstance(gdf, (gpd.GeoDataFrame, gpd.GeoSeries)):
        msg = f"{name} 须为 GeoDataFrame，收到 {type(gdf).__name__} ({name} must be a GeoDataFrame)"
        raise ParameterError(msg)


def parse_crs(crs: object, *, name: str = "crs") -> CRS:
    """``crs`` (an EPSG code, ``"EPSG:4548"``, WKT, a pyproj CRS …) as a :class:`pyproj.CRS`.

    Raises
    ------
    CRSError
        When pyproj does not recognise it; the message names ``name`` and the value.
    """
    try:
        return CRS.from_user_input(crs)
    except (PyprojCRSError, TypeError, ValueError):
        msg = f"{name} 不是可识别的坐标参照系：{crs!r} ({name} is not a CRS pyproj knows: {crs!r})"
        raise CRSError(msg) from None


def require_crs(gdf: gpd.GeoDataFrame | gpd.GeoSeries, *, name: str = "layer") -> CRS:
    """Return the frame's CRS, or raise :class:`CRSError` when it has none.

    Raises
    ------
    ParameterError
        When ``gdf`` is not a GeoDataFrame or GeoSeries.
    CRSError
        When it has no CRS.
    """
    _check_frame(gdf, name)
    if gdf.crs is None:
        msg = (f"{name} 没有坐标参照系，请先设置（经纬度用 gdf.set_crs('EPSG:4326')） "
               f"({name} has no CRS: set it first, e.g. gdf.set_crs('EPSG:4326') for longitude/latitude)")
        raise CRSError(msg)
    return CRS.from_user_input(gdf.crs)


def require_features(gdf: gpd.GeoDataFrame | gpd.GeoSeries, *, name: str = "layer") -> None:
    """Raise :class:`EmptyLayerError` when a frame has no non-empty geometry.

    Raises
    ------
    ParameterError
        When ``gdf`` is not a GeoDataFrame or GeoSeries.
    EmptyLayerError
        When every geometry is missing or empty (or there are no rows).
    """
    _check_frame(gdf, name)
    geometry = gdf.geometry if isinstance(gdf, gpd.GeoDataFrame) else gdf
    if len(gdf) == 0 or geometry.is_empty.all() or geometry.isna().all():
        msg = f"{name} 没有要素 ({name} has no features)"
        raise EmptyLayerError(msg)


def metric_crs_for(gdf: gpd.GeoDataFrame | gpd.GeoSeries, *, name: str = "layer") -> CRS:
    """Projected metric CRS suited to a frame: EPSG:4548 around Jinan, else its UTM zone.

    Raises
    ------
    CRSError
        When the frame has no CRS.
    EmptyLayerError
        When a frame in degrees has no geometry to choose a zone from.
    """
    crs = require_crs(gdf, name=name)
    if crs.is_projected and crs.axis_info and crs.axis_info[0].unit_name in {"metre", "meter"}:
        return crs
    geo = reproject(gdf, settings.STORAGE_CRS) if not crs.equals(CRS.from_user_input(settings.STORAGE_CRS)) else gdf
    minx, miny, maxx, maxy = geo.total_bounds
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
        msg = f"{name} 没有可用于选择投影带的几何 ({name} has no geometry to choose a metric CRS from)"
        raise EmptyLayerError(msg)
    if _GK117_LON[0] <= minx and maxx <= _GK117_LON[1]:
        return CRS.from_user_input(settings.METRIC_CRS)
    return CRS.from_user_input(geo.estimate_utm_crs())


def to_metric(gdf: gpd.GeoDataFrame, *, crs: CRS | str | None = None, name: str = "layer") -> gpd.GeoDataFrame:
    """Project a frame to metres (``crs`` if given, else :func:`metric_crs_for`).

    Raises
    ------
    CRSError
        When the frame has no CRS, or ``crs`` is not one pyproj knows.
    """
    require_crs(gdf, name=name)
    target = parse_crs(crs) if crs is not None else metric_crs_for(gdf, name=name)
    projected: gpd.GeoDataFrame = reproject(gdf, target)
    return projected


def to_storage(gdf: gpd.GeoDataFrame, *, name: str = "layer") -> gpd.GeoDataFrame:
    """Project a frame to EPSG:4326 for storage and display.

    Raises
    ------
    CRSError
        When the frame has no CRS.
    """
    require_crs(gdf, name=name)
    stored: gpd.GeoDataFrame = reproject(gdf, settings.STORAGE_CRS)
    return stored


def check_same_crs(*frames: gpd.GeoDataFrame, names: tuple[str, ...] | None = None) -> CRS:
    """Raise :class:`CRSError` unless every frame has the same CRS; return it.

    Parameters
    ----------
    *frames : GeoDataFrame
        At least one frame.
    names : tuple of str, optional, keyword-only
        What to call each frame in messages (default ``layer 1``, ``layer 2`` …).

    Raises
    ------
    ParameterError
        When no frame is given.
    CRSError
        When a frame has no CRS or a CRS other than the first frame's.
    """
    if not frames:
        msg = "请至少给出一个图层 (give at least one layer)"
        raise ParameterError(msg)
    names = names or tuple(f"layer {i + 1}" for i in range(len(frames)))
    if len(names) != len(frames):
        msg = (f"图层名称 names 有 {len(names)} 个，图层却有 {len(frames)} 个 "
               f"(names has {len(names)} entries for {len(frames)} layers)")
        raise ParameterError(msg)
    crss = [require_crs(f, name=n) for f, n in zip(frames, names, strict=True)]
    for crs, n in zip(crss[1:], names[1:], strict=True):
        if not crs.equals(crss[0]):
            msg = (f"{n} 的坐标参照系是 {crs.to_string()}，{names[0]} 却是 {crss[0].to_string()}：请先重投影其中一个 "
                   f"({n} is in {crs.to_string()} but {names[0]} is in {crss[0].to_string()}: "
                   "reproject one before combining them)")
            raise CRSError(msg)
    return crss[0]


def warn_if_geographic(gdf: gpd.GeoDataFrame, *, what: str = "distances") -> None:
    """Warn (as geopandas does) when metres are asked of a frame in degrees."""
    if gdf.crs is not None and CRS.from_user_input(gdf.crs).is_geographic:
        warnings.warn(
            f"{what} 所用图层为经纬度（{gdf.crs.to_string()}），planatlas 先将其投影到米制坐标 "
            f"({what} asked of a layer in degrees ({gdf.crs.to_string()}); planatlas projects it to metres first)",
            UserWarning,
            stacklevel=3,
        )
