"""CRS helpers: store in EPSG:4326, measure in metres.

Every layer planatlas writes is WGS-84 longitude/latitude (EPSG:4326). Every
distance, buffer and area is computed in a projected CRS in metres: for Jinan
CGCS2000 / 3-degree Gauss-Kruger CM 117E (EPSG:4548), elsewhere the UTM zone
of the data, so the same code serves test data from Helsinki.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
from pyproj import CRS

from . import settings
from ._errors import CRSError, EmptyLayerError

# Longitudes where the Gauss-Kruger 3-degree zone centred on 117E keeps
# scale error negligible (the zone is 115.5E-118.5E; Jinan spans 116.2E-117.9E).
_GK117_LON = (115.5, 118.5)


def require_crs(gdf: gpd.GeoDataFrame, *, name: str = "layer") -> CRS:
    """Return the frame's CRS, or raise :class:`CRSError` when it has none."""
    if gdf.crs is None:
        raise CRSError(
            f"{name} has no CRS: set it first (e.g. gdf.set_crs('EPSG:4326') for longitude/latitude)"
        )
    return CRS.from_user_input(gdf.crs)


def require_features(gdf: gpd.GeoDataFrame, *, name: str = "layer") -> None:
    """Raise :class:`EmptyLayerError` when a frame has no non-empty geometry."""
    if len(gdf) == 0 or gdf.geometry.is_empty.all() or gdf.geometry.isna().all():
        raise EmptyLayerError(f"{name} has no features")


def metric_crs_for(gdf: gpd.GeoDataFrame) -> CRS:
    """Projected metric CRS suited to a frame: EPSG:4548 around Jinan, else its UTM zone."""
    require_crs(gdf)
    if gdf.crs.is_projected and gdf.crs.axis_info and gdf.crs.axis_info[0].unit_name in {"metre", "meter"}:
        return CRS.from_user_input(gdf.crs)
    geo = gdf.to_crs(settings.STORAGE_CRS) if not CRS.from_user_input(gdf.crs).equals(
        CRS.from_user_input(settings.STORAGE_CRS)
    ) else gdf
    minx, _, maxx, _ = geo.total_bounds
    if _GK117_LON[0] <= minx and maxx <= _GK117_LON[1]:
        return CRS.from_user_input(settings.METRIC_CRS)
    utm = geo.estimate_utm_crs()
    return CRS.from_user_input(utm)


def to_metric(gdf: gpd.GeoDataFrame, *, crs: CRS | str | None = None) -> gpd.GeoDataFrame:
    """Project a frame to metres (``crs`` if given, else :func:`metric_crs_for`)."""
    require_crs(gdf)
    target = CRS.from_user_input(crs) if crs is not None else metric_crs_for(gdf)
    return gdf.to_crs(target)


def to_storage(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Project a frame to EPSG:4326 for storage and display."""
    require_crs(gdf)
    return gdf.to_crs(settings.STORAGE_CRS)


def check_same_crs(*frames: gpd.GeoDataFrame, names: tuple[str, ...] | None = None) -> CRS:
    """Raise :class:`CRSError` unless every frame has the same CRS; return it."""
    names = names or tuple(f"layer {i + 1}" for i in range(len(frames)))
    crss = [require_crs(f, name=n) for f, n in zip(frames, names)]
    for crs, n in zip(crss[1:], names[1:]):
        if not crs.equals(crss[0]):
            raise CRSError(
                f"{n} is in {crs.to_string()} but {names[0]} is in {crss[0].to_string()}: "
                "reproject one before combining them"
            )
    return crss[0]


def warn_if_geographic(gdf: gpd.GeoDataFrame, *, what: str = "distances") -> None:
    """Warn (as geopandas does) when metres are asked of a frame in degrees."""
    if gdf.crs is not None and CRS.from_user_input(gdf.crs).is_geographic:
        warnings.warn(
            f"{what} asked of a layer in degrees ({gdf.crs.to_string()}); "
            "planatlas projects it to metres first",
            UserWarning,
            stacklevel=3,
        )
