"""Residential cells: the grid cut by residential land and units, and what each cell weighs."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from _lifecircle_city import CRS, X0, Y0, residential, units
from affine import Affine

from spatial._errors import CRSError, EmptyLayerError, ParameterError
from spatial.lifecircle.cells import build_cells
from spatial.population import PopulationRaster


def test_whole_squares_with_residents_spread_by_land_area():
    cells = build_cells(units(), residential=residential())
    f = cells.frame
    assert len(cells) == 10 and cells.land == "residential" and cells.weight_kind == "residents"
    np.testing.assert_allclose(f["area_m2"], 10_000.0)
    np.testing.assert_allclose(f["x"], X0 + 50 + 100 * np.arange(10))
    np.testing.assert_allclose(f["y"], Y0 + 50)
    assert f.groupby("unit")["population"].sum().to_dict() == pytest.approx({"West": 1000.0, "East": 3000.0})
    assert "hand-built test city" in cells.population_source
    assert "居住用地面积" in cells.population_method


def test_land_is_cut_by_the_grid_and_by_the_units():
    # an L-shaped residential area straddling the unit border at x = 500, off the 100 m grid
    land = shapely.union(shapely.box(X0 + 430, Y0 + 10, X0 + 570, Y0 + 60), shapely.box(X0 + 430, Y0 + 10,
                                                                                         X0 + 470, Y0 + 190))
    cells = build_cells(units(), residential=gpd.GeoDataFrame(geometry=[land], crs=CRS))
    f = cells.frame
    assert f["area_m2"].sum() == pytest.approx(land.area)
    # no cell crosses a unit boundary or a grid line
    assert set(f.loc[f["x"] < X0 + 500, "unit"]) == {"West"} and set(f.loc[f["x"] > X0 + 500, "unit"]) == {"East"}
    b = f.geometry.bounds
    assert (np.floor((b["minx"] - X0 + 1e-6) / 100) == np.floor((b["maxx"] - X0 - 1e-6) / 100)).all()
    # each cell's point lies in the cell
    assert shapely.contains(f.geometry.to_numpy(), shapely.points(f["x"], f["y"])).all()
    # residents by land area: East's 3,000 all live on its 70 x 50 m piece
    assert f.loc[f["unit"] == "East", "population"].sum() == pytest.approx(3000.0)


def test_buildings_weigh_residents_by_floor_area():
    # two buildings in West: 1,000 m² of floor area at x 0-100, 3,000 m² at x 200-300
    b = gpd.GeoDataFrame({"floor_area_m2": [1000.0, 3000.0]},
                         geometry=[shapely.box(X0 + 10, Y0 + 10, X0 + 30, Y0 + 30),
                                   shapely.box(X0 + 210, Y0 + 10, X0 + 230, Y0 + 30)], crs=CRS)
    cells = build_cells(units(), residential=residential(), buildings=b)
    f = cells.frame.set_index("cell_id")
    assert f.loc[0, "floor_area_m2"] == pytest.approx(1000.0) and f.loc[2, "floor_area_m2"] == pytest.approx(3000.0)
    # West's 1,000 residents go 1:3 to those cells
    assert f.loc[0, "population"] == pytest.approx(250.0) and f.loc[2, "population"] == pytest.approx(750.0)
    assert f.loc[1, "population"] == pytest.approx(0.0)
    assert "居住建筑面积" in cells.population_method


def test_buildings_alone_are_the_land():
    b = gpd.GeoDataFrame({"floor_area_m2": [600.0]}, geometry=[shapely.box(X0 + 10, Y0 + 10, X0 + 40, Y0 + 30)],
                         crs=CRS)
    cells = build_cells(units(), buildings=b, population=None)
    assert cells.land == "buildings" and len(cells) == 1
    assert cells.frame["area_m2"].iloc[0] == pytest.approx(600.0)
    assert cells.weight_kind == "floor_area_m2" and cells.weight[0] == pytest.approx(600.0)


def test_no_population_counts_land_area_and_says_so():
    cells = build_cells(units().drop(columns=["population"]), residential=residential())
    assert cells.weight_kind == "land_area_m2"
    np.testing.assert_allclose(cells.weight, 10_000.0)
    assert cells.frame["population"].isna().all()
    assert any("按居住用地面积计" in n for n in cells.notes)


def test_no_residential_land_uses_the_units():
    cells = build_cells(units(), cell_m=250)
    assert cells.land == "units" and cells.frame["area_m2"].sum() == pytest.approx(1000 * 300)
    assert cells.frame["population"].sum() == pytest.approx(4000.0)
    assert any("没有居住用地图层" in n for n in cells.notes)


def test_raster_residents_go_to_residential_land():
    # a 100 m raster on the same grid: 10 residents in every square from y = -100 to 200
    raster = PopulationRaster(np.full((3, 10), 10.0), Affine(100.0, 0.0, X0, 0.0, -100.0, Y0 + 200), CRS,
                              source="test raster", method="given")
    cells = build_cells(units(), residential=residential(), population=raster)
    assert cells.weight_kind == "residents"
    np.testing.assert_allclose(cells.frame["population"], 10.0)
    # the other 20 squares hold no residential land: their 200 residents are said, not placed
    assert cells.lost_residents == pytest.approx(200.0)
    assert any("200" in n and "没有居住用地" in n for n in cells.notes)


def test_demand_points_for_siting():
    demand = build_cells(units(), residential=residential()).demand()
    assert demand.crs.to_epsg() == 4326 and len(demand) == 10
    assert demand["weight"].sum() == pytest.approx(4000.0)


def test_bad_inputs():
    with pytest.raises(CRSError):
        build_cells(units().set_crs(None, allow_override=True))
    far = gpd.GeoDataFrame(geometry=[shapely.box(X0 + 5000, Y0, X0 + 5100, Y0 + 100)], crs=CRS)
    with pytest.raises(EmptyLayerError, match=r"do.*not overlap"):
        build_cells(units(), residential=far)
    with pytest.raises(ParameterError):
        build_cells(units(), cell_m=-5)
    with pytest.raises(ParameterError, match=r"too|过多"):
        build_cells(units(), cell_m=0.1)
    with pytest.raises(ParameterError):
        build_cells(units(), population="census")  # type: ignore[arg-type]
