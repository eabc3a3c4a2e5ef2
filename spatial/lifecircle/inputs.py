"""The evaluation's inputs, read from a project store (for the CLI and the app).

The evaluation itself takes its inputs as arguments; this module is how the
command line and the app find them in a store, by the layers' roles
(:data:`spatial.layerspec.ROLES`):

* **facilities**: every layer of role ``facilities``. A layer with a
  ``facility_type`` column gives its types row by row; a layer without one
  counts as one type when its name is a type code or its plural (``parks`` ->
  ``park``, ``greenways`` -> ``greenway``); any other is skipped and said.
* **residential**: layers of role ``residential``; those with a
  ``floor_area_m2`` or ``levels`` column are buildings, the others land.
* **units**: the layer named by ``units``, else the first of role ``units``,
  else the first of role ``districts``.
* **network**: the layer ``network_<mode>`` (role ``network``: ``u``, ``v``,
  ``length``, ``oneway``), through ``spatial.network.from_store`` when the
  library has it, else built here from the layer's lines.
* **population**: ``"auto"`` (the project's population surface when the
  store holds one, layer of role ``population``, read with
  ``spatial.population.from_store``; else the units' population spread over
  residential land; else none), ``"units"``, ``"none"``, or a GeoTIFF path.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import store, vocab
from .._errors import EmptyLayerError, NetworkDataError, ParameterError, UnknownLayerError
from ..network import StreetNetwork
from ..population import PopulationRaster
from ..projection import metric_crs_for, reproject

__all__ = ["StoreInputs", "network_from_edges", "read_inputs"]

#: Population choices besides a GeoTIFF path.
POPULATION_CHOICES: tuple[str, ...] = ("auto", "units", "none")


@dataclass(eq=False)
class StoreInputs:
    """What an evaluation needs, found in a store.

    Attributes
    ----------
    facilities : GeoDataFrame
        All facilities (EPSG:4326) with ``facility_type``, ``name``, ``layer``
        (the store layer each came from) and the provenance columns.
    units, residential, buildings : GeoDataFrame or None
    units_layer : str
    network : StreetNetwork or None
    population : PopulationRaster, "auto", "units" or None
        As :func:`spatial.lifecircle.cells.build_cells` takes it.
    notes : list of str
        What was skipped or guessed, in words.
    """

    facilities: gpd.GeoDataFrame
    units: gpd.GeoDataFrame
    units_layer: str
    residential: gpd.GeoDataFrame | None = None
    buildings: gpd.GeoDataFrame | None = None
    network: StreetNetwork | None = None
    population: PopulationRaster | str | None = "auto"
    notes: list[str] = field(default_factory=list)


def _type_of_layer(name: str) -> str | None:
    codes = set(vocab.codes("facility_type"))
    for candidate in (name, name[:-1] if name.endswith("s") else name):
        if candidate in codes:
            return candidate
    return None


def _facilities(path: Path, meta: pd.DataFrame, notes: list[str]) -> gpd.GeoDataFrame:
    frames = []
    for name in meta.loc[meta["role"] == "facilities", "name"].astype(str):
        layer = store.read_layer(name, path=path)
        if len(layer) == 0:
            continue
        if "facility_type" not in layer.columns:
            code = _type_of_layer(name)
            if code is None:
                notes.append(f"设施图层 {name} 没有 facility_type 字段，未使用 (facility layer {name!r} has no "
                             "facility_type column: not used)")
                continue
            layer = layer.assign(facility_type=code)
            notes.append(f"设施图层 {name} 全部按{vocab.label('facility_type', code)}计 (layer {name!r} taken as "
                         f"{code})")
        layer = layer.assign(layer=name)
        frames.append(layer)
    if not frames:
        return gpd.GeoDataFrame({"facility_type": [], "layer": []}, geometry=[], crs="EPSG:4326")
    keep = ["facility_type", "name", "layer", "area_m2", "source", "source_datum", "precision"]
    parts = [f[[c for c in keep if c in f.columns] + [f.geometry.name]].rename_geometry("geometry")
             if f.geometry.name != "geometry" else f[[c for c in keep if c in f.columns] + ["geometry"]]
             for f in frames]
    out = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs="EPSG:4326")
    out["facility_type"] = out["facility_type"].astype(str)
    return out


def _units(path: Path, meta: pd.DataFrame, units: str | None) -> tuple[str, gpd.GeoDataFrame]:
    if units is None:
        for role in ("units", "districts"):
            names = meta.loc[meta["role"] == role, "name"].astype(str).tolist()
            if names:
                units = names[0]
                break
    if units is None:
        msg = "数据库中没有单元或区县图层：请用 --units 指定 (the store has no units or districts layer)"
        raise UnknownLayerError(msg)
    frame = store.read_layer(units, path=path)
    kinds = set(frame.geom_type.dropna())
    if not kinds or not kinds <= {"Polygon", "MultiPolygon"}:
        msg = f"单元图层 {units} 须为多边形 (the units layer {units!r} must hold polygons)"
        raise EmptyLayerError(msg)
    title = meta.loc[meta["name"] == units, "title_zh"]
    frame.attrs["planatlas_source"] = f"{units} ({title.iloc[0] if len(title) else units})"
    return units, frame


def network_from_edges(edges: gpd.GeoDataFrame, *, mode: str = "walk", source: str = "") -> StreetNetwork:
    """A routable network from a layer of street lines with ``u``, ``v``, ``length`` and ``oneway``.

    Node positions are the lines' end points (``u`` at the first, ``v`` at the
    last); the layer is projected to its metric CRS.

    Raises
    ------
    NetworkDataError
        Missing columns, no lines.
    """
    for col in ("u", "v", "length"):
        if col not in edges.columns:
            msg = f"街道网络图层缺少 {col} 字段 (the network layer lacks the {col!r} column)"
            raise NetworkDataError(msg)
    lines = edges[edges.geometry.notna() & edges.geom_type.isin(["LineString"])]
    if len(lines) == 0:
        msg = "街道网络图层没有线 (the network layer holds no lines)"
        raise NetworkDataError(msg)
    crs = metric_crs_for(lines)
    metric = reproject(lines, crs)
    geoms = metric.geometry.to_numpy()
    u = metric["u"].to_numpy(np.int64)
    v = metric["v"].to_numpy(np.int64)
    first = shapely.get_coordinates(shapely.get_point(geoms, 0))
    last = shapely.get_coordinates(shapely.get_point(geoms, -1))
    ids, inverse = np.unique(np.concatenate([u, v]), return_inverse=True)
    xy = np.zeros((len(ids), 2))
    xy[inverse] = np.concatenate([first, last])
    oneway = metric["oneway"].astype(bool).to_numpy() if "oneway" in metric.columns else np.zeros(len(u), bool)
    net = StreetNetwork(crs=crs, node_ids=ids, x=xy[:, 0], y=xy[:, 1], edge_u=inverse[:len(u)],
                        edge_v=inverse[len(u):], edge_length=metric["length"].to_numpy(np.float64),
                        edge_geometry=geoms, edge_oneway=oneway, mode=mode)
    net.source = source
    return net


def _network(path: Path, meta: pd.DataFrame, mode: str) -> StreetNetwork:
    from .. import network as network_module

    name = f"network_{mode}"
    if name not in set(meta["name"].astype(str)):
        msg = (f"数据库中没有{vocab.label('mode', mode)}街道网络图层 {name}：请先导入街道网络，或用 --method buffer "
               f"(the store has no {name!r} layer: import a network first, or use --method buffer)")
        raise NetworkDataError(msg)
    from_store: Any = getattr(network_module, "from_store", None)
    if from_store is not None:
        net: StreetNetwork = from_store(path, mode=mode)
        return net
    title = meta.loc[meta["name"] == name, "source"]
    source = str(title.iloc[0]) if len(title) and str(title.iloc[0]) else name
    return network_from_edges(store.read_layer(name, path=path), mode=mode, source=f"{name} ({source})")


def _population(choice: str | os.PathLike[str] | None, units: gpd.GeoDataFrame, path: Path,
                meta: pd.DataFrame) -> PopulationRaster | str | None:
    text = "auto" if choice is None else str(choice).strip()
    if text == "auto":
        # a population surface the project holds (imported raster, dasymetric surface, floor area) comes first
        from .. import population as population_module

        from_store: Any = getattr(population_module, "from_store", None)
        if from_store is not None and (meta["role"] == "population").any():
            found: PopulationRaster | None = from_store(path)
            if found is not None:
                return found
        return "auto"
    if text == "units":
        return text
    if text == "none":
        return None
    from ..population import load_population

    p = Path(text).expanduser()
    if p.suffix.lower() not in (".tif", ".tiff"):
        msg = (f"人口须为 auto、units、none 或 GeoTIFF 文件，收到 {text} "
               "(population must be auto, units, none or a GeoTIFF file)")
        raise ParameterError(msg)
    return load_population(p, target_crs=metric_crs_for(units).to_string())


def read_inputs(path: str | os.PathLike[str], *, units: str | None = None, method: str = "network",
                mode: str = "walk", population: str | os.PathLike[str] | None = "auto") -> StoreInputs:
    """Find an evaluation's inputs in a store.

    Parameters
    ----------
    path : path-like
        The store.
    units : str, optional, keyword-only
        Layer to report by (default: the first of role ``units``, else ``districts``).
    method : {"network", "buffer"}, keyword-only
        ``network`` also reads the network layer of ``mode``.
    mode : {"walk", "bike", "drive"}, keyword-only
    population : str or path, keyword-only
        ``auto``, ``units``, ``none`` or a GeoTIFF.

    Raises
    ------
    StoreError, UnknownLayerError, NetworkDataError, ParameterError, InputFileError
        As the store, the network and the population readers do.
    """
    p = Path(path)
    meta = store.list_layers(p)
    notes: list[str] = []
    units_layer, units_frame = _units(p, meta, units)
    pop = _population(population, units_frame, p, meta)
    facilities = _facilities(p, meta, notes)
    facilities.attrs["planatlas_source"] = "、".join(
        f"{k} ({v})" for k, v in facilities["layer"].astype(str).value_counts().items()) if len(facilities) else ""
    residential: gpd.GeoDataFrame | None = None
    buildings: gpd.GeoDataFrame | None = None
    land: list[gpd.GeoDataFrame] = []
    built: list[gpd.GeoDataFrame] = []
    for name in meta.loc[meta["role"] == "residential", "name"].astype(str):
        layer = store.read_layer(name, path=p)
        (built if {"floor_area_m2", "levels"} & set(layer.columns) else land).append(layer.assign(layer=name))
    if land:
        residential = gpd.GeoDataFrame(pd.concat(land, ignore_index=True), crs="EPSG:4326")
        residential.attrs["planatlas_source"] = "、".join(str(f["layer"].iloc[0]) for f in land)
    if built:
        buildings = gpd.GeoDataFrame(pd.concat(built, ignore_index=True), crs="EPSG:4326")
        buildings.attrs["planatlas_source"] = "、".join(str(f["layer"].iloc[0]) for f in built)
    net = _network(p, meta, mode) if method == "network" else None
    return StoreInputs(facilities=facilities, units=units_frame, units_layer=units_layer, residential=residential,
                       buildings=buildings, network=net, population=pop, notes=notes)
