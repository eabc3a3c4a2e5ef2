"""Tests of spatial.siting.inputs: what the CLI and the app read from a store for a siting run."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from spatial import store
from spatial._errors import NetworkDataError, UnknownLayerError
from spatial.layerspec import default_spec
from spatial.siting.inputs import WEIGHT_UNITS, candidates_from_store, siting_inputs


@pytest.fixture(scope="module")
def parks_inputs(seed_store):
    return siting_inputs(seed_store, "park", cell_m=500)


def test_the_seed_stores_parks_are_the_existing_parks(parks_inputs, seed_store):
    assert len(parks_inputs.existing) == len(store.read_layer("parks", path=seed_store))
    assert "parks" in parks_inputs.existing.attrs["planatlas_source"]
    assert parks_inputs.units_layer == "districts" and len(parks_inputs.units) == 12


def test_demand_is_the_evaluations_cells_and_says_what_it_stands_on(parks_inputs):
    demand = parks_inputs.demand
    assert demand["weight"].sum() == pytest.approx(parks_inputs.units["population_2020"].sum(), rel=1e-9)
    assert demand.attrs["weight_unit"] == WEIGHT_UNITS["residents"] == "人"
    assert "均匀分布" in demand.attrs["population_note"]  # no residential land in the seed store: said
    assert demand.crs.to_epsg() == 4326 and set(demand.columns) >= {"cell_id", "unit", "weight"}


def test_a_named_layer_counts_whole_or_by_its_types(seed_store_copy):
    typed = gpd.GeoDataFrame({"name": ["a", "b"], "facility_type": ["kindergarten", "park"]},
                             geometry=[shapely.Point(117.0, 36.6), shapely.Point(117.1, 36.7)], crs="EPSG:4326")
    store.update_store(seed_store_copy, add={"pois": typed},
                       specs={"pois": default_spec("pois", role="facilities", geometry_type="Point")})
    found = siting_inputs(seed_store_copy, "kindergarten", cell_m=2000)
    assert list(found.existing["name"]) == ["a"] and "pois" in found.existing.attrs["planatlas_source"]
    named = siting_inputs(seed_store_copy, "park", facilities="pois", cell_m=2000)
    assert list(named.existing["name"]) == ["b"]
    with pytest.raises(UnknownLayerError, match="现有设施"):
        siting_inputs(seed_store_copy, "park", facilities="no_such_layer", cell_m=2000)


def test_a_type_with_no_facility_is_said(seed_store):
    found = siting_inputs(seed_store, "elderly_canteen", cell_m=2000)
    assert len(found.existing) == 0 and any("长者食堂的现有设施" in n for n in found.notes)


def test_the_network_method_needs_the_stores_network(seed_store):
    with pytest.raises(NetworkDataError):
        siting_inputs(seed_store, "park", method="network", cell_m=2000)


def test_a_grid_of_candidates_over_the_units(parks_inputs, seed_store):
    grid, what = candidates_from_store(seed_store, parks_inputs.units, cell_m=5000)
    assert 300 < len(grid) < 500 and what.startswith("5000 m 网格")  # about 10,200 km² / 25 km²
