"""Tests of spatial.siting.candidates: grids, layers, exclusions and what they count."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from spatial._errors import EmptyLayerError
from spatial.siting.candidates import apply_exclusions, grid_candidates, layer_candidates

X0, Y0 = 500_000.0, 4_060_000.0
CRS = "EPSG:4548"


def area(w=1000, h=600):
    return gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.box(X0, Y0, X0 + w, Y0 + h)], crs=CRS)


def test_grid_cells_are_the_centres_inside_the_area():
    grid = grid_candidates(area(), cell_m=200)
    assert len(grid) == 5 * 3 and grid.crs.to_epsg() == 4326
    xy = shapely.get_coordinates(grid.to_crs(CRS).geometry.to_numpy())
    assert sorted({round(x - X0) for x in xy[:, 0]}) == [100, 300, 500, 700, 900]
    assert set(grid.columns) >= {"candidate_id", "cell_m", "source", "source_datum", "precision"}
    assert grid["candidate_id"].is_unique


def test_grid_within_keeps_cells_on_that_land():
    land = gpd.GeoDataFrame(geometry=[shapely.box(X0, Y0, X0 + 400, Y0 + 600)], crs=CRS)
    assert len(grid_candidates(area(), cell_m=200, within=land)) == 2 * 3


def test_a_grid_too_coarse_for_the_area_is_a_clear_error():
    with pytest.raises(EmptyLayerError, match="cell_m"):
        grid_candidates(area(50, 50).assign(geometry=[shapely.box(X0 + 10, Y0 + 10, X0 + 20, Y0 + 20)]),
                        cell_m=1000)


def test_exclusions_count_what_each_layer_removed():
    grid = grid_candidates(area(), cell_m=200)
    water = gpd.GeoDataFrame(geometry=[shapely.box(X0, Y0, X0 + 200, Y0 + 600)], crs=CRS)  # first column
    existing = gpd.GeoDataFrame(geometry=[shapely.Point(X0 + 900, Y0 + 300)], crs=CRS)  # on a centre
    kept, report = apply_exclusions(grid, masks=[("water", water)], existing=existing, clearance_m=50)
    assert report.by_layer == {"water": 3} and report.at_existing == 1 and report.kept == 11 == len(kept)
    assert "water 3 个" in report.describe() and "余 11 个" in report.describe()


def test_parcels_are_removed_when_they_touch_a_mask():
    parcels = gpd.GeoDataFrame({"name": ["p1", "p2"]}, geometry=[shapely.box(X0, Y0, X0 + 50, Y0 + 50),
                                                                   shapely.box(X0 + 500, Y0, X0 + 550, Y0 + 50)],
                               crs=CRS)
    cands = layer_candidates(parcels)
    assert list(cands["candidate_id"]) == ["p1", "p2"]
    mask = gpd.GeoDataFrame(geometry=[shapely.Point(X0 + 40, Y0 + 40).buffer(20)], crs=CRS)
    kept, report = apply_exclusions(cands, masks=[("mask", mask)])
    assert list(kept["candidate_id"]) == ["p2"] and report.by_layer == {"mask": 1}


def test_nothing_left_after_exclusions_is_a_clear_error():
    grid = grid_candidates(area(), cell_m=200)
    with pytest.raises(EmptyLayerError, match="排除后没有候选点"):
        apply_exclusions(grid, masks=[("all", area())])
