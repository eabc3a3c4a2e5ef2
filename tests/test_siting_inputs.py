"""Tests of spatial.siting.inputs: what the CLI and the app read from a store for a siting run."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from spatial import network, population, store
from spatial._errors import EmptyLayerError, NetworkDataError, UnknownLayerError
from spatial.siting.inputs import (
    UNIFORM_NOTE,
    candidates_from_store,
    demand_for_units,
    existing_from_store,
    network_from_store,
    population_from_store,
    units_from_store,
)


def test_units_default_to_the_districts_of_the_seed_store(seed_store):
    name, units = units_from_store(seed_store)
    assert name == "districts" and len(units) == 12
    with pytest.raises(UnknownLayerError, match="统计单元"):
        units_from_store(seed_store, "no_such_layer")


def test_existing_facilities_by_type_or_by_layer(seed_store_copy):
    assert len(existing_from_store(seed_store_copy, "park")) == 0  # no layer carries facility_type yet
    parks = existing_from_store(seed_store_copy, "park", "parks")
    assert len(parks) == len(store.read_layer("parks", path=seed_store_copy))
    assert "公园" in parks.attrs["planatlas_source"]
    typed = gpd.GeoDataFrame({"name": ["a", "b"], "facility_type": ["kindergarten", "park"]},
                             geometry=[shapely.Point(117.0, 36.6), shapely.Point(117.1, 36.7)], crs="EPSG:4326")
    from spatial.layerspec import default_spec

    store.update_store(seed_store_copy, add={"pois": typed},
                       specs={"pois": default_spec("pois", role="facilities", geometry_type="Point")})
    found = existing_from_store(seed_store_copy, "kindergarten")
    assert list(found["name"]) == ["a"] and "pois" in found.attrs["planatlas_source"]


def test_demand_from_the_census_says_it_is_spread_evenly(seed_store):
    _name, units = units_from_store(seed_store)
    demand = demand_for_units(units)
    assert demand["population"].sum() == pytest.approx(units["population_2020"].sum())
    assert demand.attrs["population_note"] == UNIFORM_NOTE and demand.attrs["weight_unit"] == "人"
    with pytest.raises(EmptyLayerError, match="人口"):
        demand_for_units(units.drop(columns=["population_2020"]))


def test_a_grid_of_candidates_over_the_units(seed_store):
    _name, units = units_from_store(seed_store)
    grid, what = candidates_from_store(seed_store, units, cell_m=5000)
    assert 300 < len(grid) < 500 and what.startswith("5000 m 网格")  # about 10,200 km² / 25 km²


def test_the_network_comes_from_the_store_layer(seed_store_copy, monkeypatch):
    with pytest.raises(NetworkDataError, match="network_walk"):
        network_from_store(seed_store_copy, "walk")
    lines = gpd.GeoDataFrame({"u": [1], "v": [2], "length": [100.0], "oneway": [False]},
                             geometry=[shapely.LineString([(117.0, 36.6), (117.001, 36.6)])], crs="EPSG:4326")
    store.update_store(seed_store_copy, add={"network_walk": lines})
    sentinel = object()
    monkeypatch.setattr(network, "from_store", lambda path, mode: sentinel, raising=False)
    assert network_from_store(seed_store_copy, "walk") is sentinel
    monkeypatch.delattr(network, "from_store")
    with pytest.raises(NetworkDataError, match="网络文件"):
        network_from_store(seed_store_copy, "walk")


def test_the_population_surface_comes_from_the_library_when_it_has_one(seed_store, monkeypatch):
    monkeypatch.delattr(population, "from_store", raising=False)
    assert population_from_store(seed_store) is None
    monkeypatch.setattr(population, "from_store", lambda path, units=None: ("surface", units), raising=False)
    assert population_from_store(seed_store, "districts") == ("surface", "districts")
