"""Demand for the siting models: residents per cell, as points with their head count.

The siting models weigh every demand cell by the residents living in it. The
cells are those of a :class:`~spatial.population.PopulationRaster` (100 m by
default: the census surface, a planner's GeoTIFF, or the project's
population layer), kept where someone lives, optionally only on residential
land (a cell counts when its centre lies on it; its residents are kept whole,
so the head count of the raster is preserved inside the land).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from .._errors import EmptyLayerError
from ..population import PopulationRaster
from ..projection import require_crs

__all__ = ["demand_from_raster", "weight_unit"]


def demand_from_raster(
    population: PopulationRaster,
    *,
    within: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Cell centres with residents (> 0) as points, in the raster's CRS.

    Parameters
    ----------
    population : PopulationRaster
        Residents per cell.
    within : GeoDataFrame, optional, keyword-only
        Residential land (or any area): only cells whose centre lies inside count.

    Returns
    -------
    GeoDataFrame
        Columns ``population`` (residents per cell), ``row``, ``col`` (the
        raster cell); ``attrs`` carries ``population_source``,
        ``population_method`` and ``cell_m``.

    Raises
    ------
    EmptyLayerError
        When no cell holds residents (inside ``within``).
    """
    values = population.filled()
    rows, cols = np.nonzero(values > 0)
    t = population.transform
    x = t.c + (cols + 0.5) * t.a + (rows + 0.5) * t.b
    y = t.f + (cols + 0.5) * t.d + (rows + 0.5) * t.e
    if within is not None:
        require_crs(within, name="居住用地 within")
        land = shapely.union_all(shapely.make_valid(within.to_crs(population.crs).geometry.to_numpy()))
        shapely.prepare(land)
        inside = shapely.contains_xy(land, x, y)
        rows, cols, x, y = rows[inside], cols[inside], x[inside], y[inside]
    if not len(rows):
        where = ("（在居住用地内）", " on the residential land") if within is not None else ("", "")
        msg = f"人口数据中没有居民{where[0]} (the population data has no residents{where[1]})"
        raise EmptyLayerError(msg)
    frame = gpd.GeoDataFrame({"population": values[rows, cols], "row": rows, "col": cols},
                             geometry=shapely.points(x, y), crs=population.crs)
    frame.attrs.update({"population_source": population.source, "population_method": population.method,
                        "cell_m": float(population.cell_size[0]), "weight_unit": weight_unit(population.units)})
    return frame


def weight_unit(units: str) -> str:
    """The word every figure is counted in: residents, or the m² a surface without residents holds.

    >>> weight_unit("residents per cell"), weight_unit("m² residential floor area per cell")
    ('人', 'm² 住宅建筑面积 (不是人数)')
    """
    text = units.lower()
    if "floor" in text:
        return "m² 住宅建筑面积 (不是人数)"
    if "land" in text or "m²" in text or "m2" in text:
        return "m² 居住用地面积 (不是人数)"
    return "人"
