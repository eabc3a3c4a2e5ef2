"""The inputs of a siting run as a project store holds them, for the CLI and the app alike.

The analysis (:func:`spatial.siting.site_facilities`) takes its inputs as
arguments; :func:`siting_inputs` reads them from a store with the life-circle
evaluation's readers, so ``planatlas site``, ``planatlas evaluate`` and the
pages see the same units, facilities, network and residents:

* units, facilities (with their ``facility_type``), residential land and
  buildings, the street network and the population choice:
  :func:`spatial.lifecircle.inputs.read_inputs`;
* demand: the evaluation's residential cells
  (:func:`spatial.lifecircle.cells.build_cells`, :meth:`~spatial.lifecircle.cells.Cells.demand`):
  residents where they are known, else residential floor or land area, said so;
* the existing facilities of the type: the facilities' rows of that type, or
  every feature of a named layer;
* candidates: a named layer, else a grid over the units (or a named land layer).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import geopandas as gpd

from .. import store, vocab
from .._errors import UnknownLayerError
from ..lifecircle.cells import Cells, build_cells
from ..lifecircle.inputs import read_inputs
from ..network import StreetNetwork
from ..population import PopulationRaster
from .candidates import grid_candidates, layer_candidates

__all__ = ["SitingInputs", "candidates_from_store", "demand_of", "existing_of", "read_named", "siting_inputs",
           "store_inputs", "with_demand"]

#: The word each kind of cell weight is counted in (vocab domain ``weight_kind``).
WEIGHT_UNITS = {"residents": "人", "floor_area_m2": "m² 住宅建筑面积 (不是人数)",
                "land_area_m2": "m² 居住用地面积 (不是人数)"}

StorePath = str | os.PathLike[str]


def read_named(path: StorePath, name: str, what: str) -> gpd.GeoDataFrame:
    """A layer of the store, the refusal naming what it was asked for."""
    try:
        return store.read_layer(name, path=path)
    except UnknownLayerError as exc:
        msg = f"{what}：{exc}"
        raise UnknownLayerError(msg) from None


def demand_of(cells: Cells) -> gpd.GeoDataFrame:
    """The cells as siting demand (points with ``weight``), carrying what they stand on in ``attrs``."""
    demand = cells.demand()
    note = ""
    if cells.land == "units" and cells.weight_kind == "residents":
        note = ("没有居住用地：居民按统计单元全部面积均匀分布，选址只反映单元之间的密度差别，不反映单元内部的居住分布 "
                "(no residential land: residents spread evenly over each unit)")
    demand.attrs.update({"population_source": cells.population_source, "population_method": cells.population_method,
                         "weight_unit": WEIGHT_UNITS.get(cells.weight_kind, cells.weight_kind),
                         "weight_kind": cells.weight_kind, "population_note": note, "cell_m": cells.cell_m})
    return demand


def existing_of(facilities: gpd.GeoDataFrame, facility_type: str, path: StorePath,
                layer: str | None = None) -> gpd.GeoDataFrame:
    """The existing facilities of a type: the facilities' rows of that type, or a named layer's features.

    A named layer counts whole unless it has a ``facility_type`` column (then
    its rows of the type); ``attrs["planatlas_source"]`` names what was used.
    """
    if layer:
        frame = read_named(path, layer, "现有设施")
        if "facility_type" in frame.columns:
            frame = frame[frame["facility_type"].astype(str) == facility_type]
        spec = store.read_specs(path).get(layer)
        frame.attrs["planatlas_source"] = f"{spec.title_zh if spec else layer} ({layer})"
        return frame
    rows = facilities[facilities["facility_type"].astype(str) == facility_type]
    rows = gpd.GeoDataFrame(rows, geometry=facilities.geometry.name, crs=facilities.crs)
    layers = rows["layer"].astype(str).unique() if "layer" in rows.columns else []
    specs = store.read_specs(path)
    rows.attrs["planatlas_source"] = "、".join(f"{specs[n].title_zh if n in specs else n} ({n})" for n in layers)
    return rows


@dataclass(eq=False)
class SitingInputs:
    """What a siting run needs, found in a store.

    Attributes
    ----------
    units : GeoDataFrame
    units_layer : str
    demand : GeoDataFrame
        Demand points with ``weight`` (:func:`demand_of`).
    existing : GeoDataFrame
        The existing facilities of the type.
    network : StreetNetwork or None
    residential, buildings : GeoDataFrame or None
        Residential land and buildings, where the store has them.
    population : PopulationRaster, str or None
        The population choice as :func:`spatial.lifecircle.cells.build_cells` takes it.
    notes : list of str
        What was guessed or skipped, in words (shown to the planner).
    """

    units: gpd.GeoDataFrame
    units_layer: str
    demand: gpd.GeoDataFrame
    existing: gpd.GeoDataFrame
    network: StreetNetwork | None = None
    residential: gpd.GeoDataFrame | None = None
    notes: list[str] = field(default_factory=list)
    buildings: gpd.GeoDataFrame | None = None
    population: PopulationRaster | str | None = "auto"


def siting_inputs(
    path: StorePath,
    facility_type: str,
    *,
    units: str | None = None,
    facilities: str | None = None,
    method: str = "buffer",
    mode: str = "walk",
    population: str | os.PathLike[str] | None = "auto",
    cell_m: float = 100.0,
) -> SitingInputs:
    """Read units, demand cells, existing facilities and (for ``method="network"``) the network.

    The two steps, :func:`store_inputs` (reading) and :func:`with_demand`
    (cutting the demand cells, the costly part), can also be run apart, so a
    caller can refuse bad requests before the cells are cut.

    Parameters
    ----------
    path : path-like
        The store.
    facility_type : str
        The type being sited.
    units, facilities : str, optional, keyword-only
        Layers to report by and to take the existing facilities from.
    method, mode : str, keyword-only
        ``network`` also reads the store's network of ``mode``.
    population : str or path, keyword-only
        ``auto``, ``units``, ``none`` or a GeoTIFF, as ``planatlas evaluate`` takes it.
    cell_m : float, keyword-only
        Side of the demand cells, metres.
    """
    found = store_inputs(path, facility_type, units=units, facilities=facilities, method=method, mode=mode,
                         population=population)
    return with_demand(found, cell_m=cell_m)


def store_inputs(
    path: StorePath, facility_type: str, *, units: str | None = None, facilities: str | None = None,
    method: str = "buffer", mode: str = "walk", population: str | os.PathLike[str] | None = "auto",
) -> SitingInputs:
    """Everything but the demand cells (``demand`` is left empty): layers read, nothing cut."""
    found = read_inputs(path, units=units, method=method, mode=mode, population=population)
    existing = existing_of(found.facilities, facility_type, path, facilities)
    notes = [n for n in found.notes if facilities is None or "facility_type" not in n]
    if not len(existing):
        notes.append(f"数据库中没有{vocab.label('facility_type', facility_type)}的现有设施：全部居民按未覆盖计 "
                     "(no existing facility of this type: every resident counts as uncovered)")
    inputs = SitingInputs(found.units, found.units_layer, gpd.GeoDataFrame(geometry=[], crs="EPSG:4326"),
                          existing, found.network, found.residential, notes)
    inputs.buildings = found.buildings
    inputs.population = found.population
    return inputs


def with_demand(inputs: SitingInputs, *, cell_m: float = 100.0) -> SitingInputs:
    """The inputs with their demand cells cut (:func:`spatial.lifecircle.cells.build_cells`)."""
    cells = build_cells(inputs.units, residential=inputs.residential, buildings=inputs.buildings,
                        population=inputs.population, cell_m=cell_m)
    inputs.demand = demand_of(cells)
    inputs.notes = [*inputs.notes, *cells.notes]
    return inputs


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
