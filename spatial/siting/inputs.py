"""The inputs of a siting run as a project store holds them, for the CLI and the app alike.

The analysis (:func:`spatial.siting.site_facilities`) takes its inputs as
arguments; these functions read them from a store by the layer contracts of
the project, so ``planatlas site`` and the 选址 page build exactly the same
inputs from the same store:

* units: role ``units`` first, else ``districts`` (or a named layer);
* existing facilities: every ``facilities`` layer's rows whose
  ``facility_type`` is the type asked (or a named layer, all its features);
* demand: a population raster when given, else the project's population
  surface (``spatial.population.from_store``, where the library has it),
  else each unit's population spread evenly over its 100 m cells (and said so);
* network: the store's ``network_<mode>`` layer (``spatial.network.from_store``,
  where the library has it), when no street file is given;
* candidates: a named layer, else a grid over the units (or over a named
  land layer).
"""

from __future__ import annotations

import os

import geopandas as gpd
import pandas as pd

from .. import store
from .._errors import EmptyLayerError, NetworkDataError, UnknownLayerError
from ..network import StreetNetwork
from ..population import PopulationRaster
from .candidates import grid_candidates, layer_candidates
from .demand import demand_from_raster

__all__ = ["candidates_from_store", "demand_for_units", "existing_from_store", "network_from_store",
           "population_from_store", "read_named", "units_from_store"]

#: Said next to every figure when residents were spread evenly within units.
UNIFORM_NOTE = ("人口按统计单元均匀分布：选址只反映单元之间的密度差别，不反映单元内部的居住分布；"
                "请给出人口栅格 (residents spread evenly within each unit: give a population raster)")

StorePath = str | os.PathLike[str]


def read_named(path: StorePath, name: str, what: str) -> gpd.GeoDataFrame:
    """A layer of the store, the refusal naming what it was asked for."""
    try:
        return store.read_layer(name, path=path)
    except UnknownLayerError as exc:
        msg = f"{what}：{exc}"
        raise UnknownLayerError(msg) from None


def units_from_store(path: StorePath, name: str | None = None) -> tuple[str, gpd.GeoDataFrame]:
    """The units a result is reported by: ``name``, else the first ``units`` layer, else ``districts``.

    Raises
    ------
    EmptyLayerError
        When the store has no units layer.
    """
    if name:
        return name, read_named(path, name, "统计单元")
    specs = store.read_specs(path)
    for role in ("units", "districts"):
        names = [n for n, s in specs.items() if s.role == role]
        if names:
            return names[0], read_named(path, names[0], "统计单元")
    msg = "数据库中没有统计单元图层 (units/districts)：请指定统计单元 (no units layer in the store)"
    raise EmptyLayerError(msg)


def existing_from_store(path: StorePath, facility_type: str, layer: str | None = None) -> gpd.GeoDataFrame:
    """The existing facilities of a type (empty frame when the store has none); ``attrs`` names the source."""
    specs = store.read_specs(path)
    if layer:
        frame = read_named(path, layer, "现有设施")
        if "facility_type" in frame.columns:
            frame = frame[frame["facility_type"].astype(str) == facility_type]
        spec = specs.get(layer)
        frame.attrs["planatlas_source"] = f"{spec.title_zh if spec else layer} ({layer})"
        return frame
    frames, names = [], []
    for name, spec in specs.items():
        if spec.role != "facilities":
            continue
        found = read_named(path, name, "设施图层")
        if "facility_type" not in found.columns:
            continue
        rows = found[found["facility_type"].astype(str) == facility_type]
        if len(rows):
            frames.append(rows)
            names.append(f"{spec.title_zh} ({name})")
    if not frames:
        return gpd.GeoDataFrame({"name": []}, geometry=[], crs="EPSG:4326")
    out = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)
    out.attrs["planatlas_source"] = "、".join(names)
    return out


def demand_for_units(units: gpd.GeoDataFrame, population: PopulationRaster | None = None) -> gpd.GeoDataFrame:
    """Demand cells: the raster's, else each unit's population spread evenly over 100 m cells (noted).

    Raises
    ------
    EmptyLayerError
        When no raster is given and the units carry no population.
    """
    if population is not None:
        demand = demand_from_raster(population)
        if "uniform" in population.method:
            demand.attrs["population_note"] = UNIFORM_NOTE
        return demand
    from ..coverage import census_surface_for

    column = next((c for c in ("population_2020", "population") if c in units.columns), None)
    if column is None:
        msg = ("统计单元没有人口字段 (population_2020 或 population)：请给出人口栅格 "
               "(the units have no population: give a population raster)")
        raise EmptyLayerError(msg)
    demand = demand_from_raster(census_surface_for(units, population_column=column))
    demand.attrs["population_note"] = UNIFORM_NOTE
    return demand


def candidates_from_store(
    path: StorePath, units: gpd.GeoDataFrame, *, layer: str | None = None, cell_m: float = 200.0,
    within: str | None = None,
) -> tuple[gpd.GeoDataFrame, str]:
    """Candidate sites and a phrase saying what they are: a layer's features, or a grid."""
    if layer:
        frame = read_named(path, layer, "候选点图层")
        return layer_candidates(frame, source=f"候选图层 {layer}"), f"图层 {layer}"
    land = read_named(path, within, "用地图层") if within else None
    where = f"图层 {within} 内" if within else "统计单元内"
    grid = grid_candidates(units, cell_m=cell_m, within=land, source=f"{cell_m:g} m 网格 ({where})")
    return grid, f"{cell_m:g} m 网格（{where}）"


def network_from_store(path: StorePath, mode: str = "walk") -> StreetNetwork:
    """The store's street network of a travel mode (layer ``network_<mode>``).

    Raises
    ------
    NetworkDataError
        When the store holds no such layer, or this library cannot read one.
    """
    from .. import network

    name = f"network_{mode}"
    if name not in {str(n) for n in store.list_layers(path)["name"]}:
        msg = (f"数据库中没有街道网络图层 {name}：请先导入街道网络，或给出街道网络文件 "
               f"(the store has no {name} layer: import one or give a network file)")
        raise NetworkDataError(msg)
    reader = getattr(network, "from_store", None)
    if reader is None:
        msg = f"此版本不能从数据库读取 {name}：请给出街道网络文件 (give a network file)"
        raise NetworkDataError(msg)
    net: StreetNetwork = reader(path, mode=mode)
    return net


def population_from_store(path: StorePath, units: str | None = None) -> PopulationRaster | None:
    """The project's population surface, where the store and the library have one (else None)."""
    from .. import population

    reader = getattr(population, "from_store", None)
    if reader is None:
        return None
    raster: PopulationRaster | None = reader(path, units=units)
    return raster
