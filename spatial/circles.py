"""Euclidean service circles: buffers around facilities, measured in metres.

The simplest service area a planner draws: every point within a straight-line
distance of a facility. It overstates what people can reach on foot (streets
are not straight lines, rivers and rail lines cut them), so it is an upper
bound; :mod:`spatial.isochrones` gives the network version.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from . import settings
from ._errors import ParameterError
from .projection import metric_crs_for, reproject, require_crs, require_features, to_metric
from .thresholds import travel_distances


def service_circles(
    facilities: gpd.GeoDataFrame,
    *,
    distance_m: float | np.ndarray | None = None,
    minutes: float | np.ndarray | None = None,
    speed_m_per_min: float = settings.WALK_SPEED_M_PER_MIN,
    dissolve: bool = False,
    resolution: int = 16,
) -> gpd.GeoDataFrame:
    """Buffer facilities by a distance or a travel time.

    Points become discs, lines become corridors (a greenway's 1 km band) and
    polygons grow outwards (a park's 500 m service area starts at its edge).

    Parameters
    ----------
    facilities : geopandas.GeoDataFrame
        Points, lines or polygons in any CRS (it must have one).
    distance_m : float or array-like, optional
        Radius in metres, one value or one per facility.
    minutes : float or array-like, optional
        Travel time in minutes; the radius is ``minutes * speed_m_per_min``.
        Give exactly one of ``distance_m`` and ``minutes``.
    speed_m_per_min : float, default 80
        Speed in metres per minute (80 = 4.8 km/h walking).
    dissolve : bool, default False
        Return one (multi)polygon, the union of all circles, instead of one row
        per facility.
    resolution : int, default 16
        Segments per quarter circle; 16 makes a disc's area 0.16 % smaller than
        πr².

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326. Per facility: the facility's columns plus ``facility_index``
        (its index label), ``distance_m``, ``minutes`` (at ``speed_m_per_min``
        when a distance was given), ``speed_m_per_min``, ``method`` ("buffer").
        Dissolved: one row with ``n_facilities``, ``distance_m`` (the largest),
        ``minutes``, ``speed_m_per_min``, ``method``, ``area_km2``.

    Raises
    ------
    CRSError
        The frame has no CRS.
    EmptyLayerError
        The frame has no geometry.
    ParameterError
        Both or neither of ``distance_m``/``minutes``, or a negative value.

    Notes
    -----
    Buffering is done in EPSG:4548 for Jinan, else in the frame's UTM zone (a
    projected metric CRS is used as it is), via
    :func:`spatial.projection.to_metric`.
    """
    require_crs(facilities, name="facilities")
    require_features(facilities, name="facilities")
    if int(resolution) < 1:
        msg = "resolution 至少为 1 (resolution must be at least 1 segment per quarter circle)"
        raise ParameterError(msg)
    dist, mins = travel_distances(
        len(facilities), distance_m=distance_m, minutes=minutes, speed_m_per_min=speed_m_per_min
    )
    metric = to_metric(facilities, crs=metric_crs_for(facilities))
    rings = shapely.buffer(metric.geometry.to_numpy(), dist, quad_segs=int(resolution))
    speed = float(speed_m_per_min)

    if dissolve:
        union = shapely.union_all(rings[~shapely.is_missing(rings)])
        out = gpd.GeoDataFrame(
            {
                "n_facilities": [int((~shapely.is_empty(metric.geometry.to_numpy())).sum())],
                "distance_m": [float(dist.max())],
                "minutes": [float(mins.max())],
                "speed_m_per_min": [speed],
                "method": ["buffer"],
                "area_km2": [shapely.area(union) / 1e6],
            },
            geometry=[union],
            crs=metric.crs,
        )
        return reproject(out, settings.STORAGE_CRS)

    out = gpd.GeoDataFrame(metric.drop(columns=metric.geometry.name), geometry=rings, crs=metric.crs)
    out.insert(0, "facility_index", facilities.index.to_numpy())
    out["distance_m"] = dist
    out["minutes"] = mins
    out["speed_m_per_min"] = speed
    out["method"] = "buffer"
    return reproject(out, settings.STORAGE_CRS)
