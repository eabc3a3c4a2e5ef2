"""Coordinate transformations that cost their operation search once per process, not once per thread.

``GeoDataFrame.to_crs`` asks pyproj for a :class:`~pyproj.Transformer` and
geopandas caches it, but a pyproj transformer keeps its PROJ object per
thread and builds it again in every new thread. Building it means PROJ's
operation search, which between WGS-84 and CGCS2000 (EPSG:4326 and
EPSG:4548) takes about 0.1 s each way on this project's machines. The
Streamlit app runs every rerun on a new thread, so each rerun of a page that
measured in metres paid 0.2-0.3 s for the same two searches.

Here the search is done once per pair of CRSs and kept as the PROJ pipeline
it found (text, safe to share between threads); a transformer is built from
that pipeline in a fraction of a millisecond. Results are those of the
operation ``to_crs`` would use, since it is the same pipeline. When PROJ
cannot give one pipeline (several candidate operations chosen point by point,
e.g. a datum shift with grids of limited extent), ``to_crs`` is used as it is.
"""

from __future__ import annotations

import functools
import threading
from typing import TypeVar

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Transformer

Frame = TypeVar("Frame", gpd.GeoDataFrame, gpd.GeoSeries)

_LOCK = threading.Lock()


@functools.lru_cache(maxsize=128)
def _pipeline(source_wkt: str, target_wkt: str) -> str | None:
    """The PROJ pipeline ``Transformer.from_crs(source, target, always_xy=True)`` uses, or None if not one."""
    found = Transformer.from_crs(CRS.from_wkt(source_wkt), CRS.from_wkt(target_wkt), always_xy=True)
    definition = str(found.definition or "")
    return definition if definition.startswith("proj=") else None


def pipeline(source: CRS, target: CRS) -> str | None:
    """The cached pipeline text from ``source`` to ``target`` (lon/lat order), None when PROJ picks per point."""
    with _LOCK:  # one search per pair even when two reruns ask at once
        return _pipeline(source.to_wkt(), target.to_wkt())


def transformer(source: object, target: object) -> Transformer:
    """A transformer from ``source`` to ``target`` with x = easting/longitude, built from the cached pipeline."""
    src, dst = CRS.from_user_input(source), CRS.from_user_input(target)
    found = pipeline(src, dst)
    if found is None:
        return Transformer.from_crs(src, dst, always_xy=True)
    return Transformer.from_pipeline(found)


def _transform_array(geoms: np.ndarray, tr: Transformer) -> np.ndarray:
    """Shapely geometries with every coordinate passed through ``tr`` (Z kept where there is one)."""
    out = np.asarray(geoms, dtype=object).copy()
    present = ~shapely.is_missing(out)
    if not present.any():
        return out
    has_z = np.zeros(len(out), dtype=bool)
    has_z[present] = shapely.has_z(out[present])
    flat, three = present & ~has_z, present & has_z
    if flat.any():
        out[flat] = shapely.transform(out[flat], lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
    if three.any():
        out[three] = shapely.transform(
            out[three], lambda xyz: np.column_stack(tr.transform(xyz[:, 0], xyz[:, 1], xyz[:, 2])), include_z=True)
    return out


def reproject(frame: Frame, crs: object) -> Frame:
    """``frame.to_crs(crs)``, with the operation search cached for the whole process (see module docstring).

    Parameters
    ----------
    frame : geopandas.GeoDataFrame or geopandas.GeoSeries
        With a CRS (geopandas' own error when it has none).
    crs : anything pyproj reads as a CRS
        The target.

    Returns
    -------
    Same type as ``frame``
        A new object; the frame's columns, index, name and attrs kept, its active geometry transformed.
    """
    if frame.crs is None:
        return frame.to_crs(crs)  # geopandas' own message
    src, dst = CRS.from_user_input(frame.crs), CRS.from_user_input(crs)
    if src.is_exact_same(dst):
        return frame.copy()
    found = pipeline(src, dst)
    if found is None:
        return frame.to_crs(dst)
    tr = Transformer.from_pipeline(found)
    if isinstance(frame, gpd.GeoSeries):
        return gpd.GeoSeries(_transform_array(frame.to_numpy(), tr), index=frame.index, crs=dst, name=frame.name)
    geometry = frame.geometry
    moved = gpd.GeoSeries(_transform_array(geometry.to_numpy(), tr), index=frame.index, crs=dst,
                          name=geometry.name)
    out = frame.copy()
    out[geometry.name] = moved  # the active geometry column takes the new series' CRS
    return out
