"""Population rasters: the census surface, user GeoTIFFs, zonal sums."""

import math
import re

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from affine import Affine
from shapely.geometry import Point, box

from layers.districts import JINAN_POPULATION_2020, districts
from spatial._errors import CRSError, EmptyLayerError, InputFileError, ParameterError, PlanatlasError
from spatial.population import PopulationRaster, census_surface, load_population

METRIC = "EPSG:4548"


def from_origin(west, north, xsize, ysize):
    # rasterio.transform.from_origin multiplies Affines with `*`, which affine 2.4 flags
    return Affine(xsize, 0.0, west, 0.0, -ysize, north)


@pytest.fixture(scope="module")
def jinan():
    return districts()


@pytest.fixture(scope="module")
def surface(jinan):
    return census_surface(jinan)


def _two_squares(pop_a=100_000, pop_b=50_000):
    """Two 10 km x 10 km districts side by side, in metres."""
    return gpd.GeoDataFrame(
        {"name": ["A", "B"], "population_2020": [pop_a, pop_b]},
        geometry=[box(500_000, 4_060_000, 510_000, 4_070_000), box(510_000, 4_060_000, 520_000, 4_070_000)],
        crs=METRIC,
    )


def test_census_surface_keeps_jinan_total(surface):
    assert surface.total() == pytest.approx(JINAN_POPULATION_2020, rel=1e-3)
    assert surface.crs.to_epsg() == 4548
    assert surface.cell_size == (100, 100)
    # cells outside every district carry no data rather than zero
    assert np.isnan(surface.array).any()
    assert (surface.array[surface.valid()] >= 0).all()


def test_census_surface_zonal_sums_match_each_district(surface, jinan):
    sums = surface.zonal_sum(jinan)
    assert list(sums.index) == list(jinan.index)
    np.testing.assert_allclose(sums.to_numpy(), jinan["population_2020"].to_numpy(), rtol=1e-6)


def test_uniform_spread_on_synthetic_districts():
    raster = census_surface(_two_squares(), cell_m=100)
    # 100 m cells: each 10 km square has 10,000 cells
    a = raster.zonal_sum(gpd.GeoSeries([box(500_000, 4_060_000, 510_000, 4_070_000)], crs=METRIC))
    assert a.iloc[0] == pytest.approx(100_000)
    vals = raster.array[raster.valid()]
    assert set(np.round(np.unique(vals), 6)) == {5.0, 10.0}
    # a 1 km square inside A holds 100 cells of 10 residents
    small = gpd.GeoSeries([box(503_000, 4_063_000, 504_000, 4_064_000)], crs=METRIC)
    assert raster.zonal_sum(small).iloc[0] == pytest.approx(1000)


def test_weighted_spread_follows_the_weights_and_keeps_sums():
    squares = _two_squares()
    # weight 3 on the western half of A, 1 elsewhere
    weights = np.ones((100, 200))
    weights[:, :50] = 3.0
    weight = PopulationRaster(weights, from_origin(500_000, 4_070_000, 100, 100), METRIC)
    raster = census_surface(squares, cell_m=100, weight=weight)
    sums = raster.zonal_sum(squares)
    np.testing.assert_allclose(sums.to_numpy(), [100_000, 50_000], rtol=1e-9)
    west = raster.zonal_sum(gpd.GeoSeries([box(500_000, 4_060_000, 505_000, 4_070_000)], crs=METRIC)).iloc[0]
    assert west == pytest.approx(75_000)
    assert "权重" in raster.method


def test_zonal_sum_counts_overlapping_polygons_in_full():
    raster = census_surface(_two_squares(), cell_m=100)
    # two identical 1 km squares in A: each holds 1,000
    sq = box(503_000, 4_063_000, 504_000, 4_064_000)
    sums = raster.zonal_sum(gpd.GeoSeries([sq, sq, Point(0, 0).buffer(1)], crs=METRIC))
    np.testing.assert_allclose(sums.to_numpy(), [1000, 1000, 0])
    # a disc straddling the border: ~pi km2 of each density
    disc = gpd.GeoSeries([Point(510_000, 4_065_000).buffer(1000, quad_segs=32)], crs=METRIC)
    assert raster.zonal_sum(disc).iloc[0] == pytest.approx(math.pi / 2 * (1000 + 500), rel=0.03)


def test_partition_sums_split_each_zone_by_the_cover_and_keep_the_zone_grid(monkeypatch):
    zones = _two_squares()  # A: 1,000 residents per km², B: 500 per km²
    raster = census_surface(zones, cell_m=100)
    calls = []
    real = rasterio.features.rasterize
    # the zone grid is the one int32 rasterisation (the cover is a uint8 mask)
    monkeypatch.setattr(rasterio.features, "rasterize",
                        lambda *a, **k: calls.append(k.get("dtype")) or real(*a, **k))
    # the middle 10 km x 10 km: half of A (50 km²) and half of B
    totals, covered = raster.partition_sums(zones, within=box(505_000, 4_060_000, 515_000, 4_070_000))
    np.testing.assert_allclose(totals.to_numpy(), [100_000, 50_000])
    np.testing.assert_allclose(covered.to_numpy(), [50_000, 25_000])
    assert list(covered.index) == list(zones.index)
    # another cover on the same zones: the zone grid is not drawn again
    totals, covered = raster.partition_sums(zones, within=box(500_000, 4_060_000, 502_000, 4_061_000))
    np.testing.assert_allclose(covered.to_numpy(), [2 * 1_000, 0])
    assert calls.count("int32") == 1 and len(calls) == 3
    # the same figures as zonal_sum of the zones and of their intersections with the cover
    disc = Point(510_000, 4_065_000).buffer(3_000)
    totals, covered = raster.partition_sums(zones, within=disc)
    inside = gpd.GeoSeries(zones.geometry.intersection(disc), crs=METRIC)
    np.testing.assert_allclose(covered.to_numpy(), raster.zonal_sum(inside).to_numpy())
    # empty cover: nobody covered
    _, covered = raster.partition_sums(zones, within=Point(0, 0).buffer(0))
    np.testing.assert_allclose(covered.to_numpy(), [0, 0])
    # many unit sets: a few grids are kept, the figures stay right
    for k in range(10):
        square = gpd.GeoSeries([box(500_000, 4_060_000, 501_000 + 100 * k, 4_061_000)], crs=METRIC)
        totals, _ = raster.partition_sums(square, within=Point(0, 0).buffer(0))
        assert totals.iloc[0] == pytest.approx(1_000 * (1 + 0.1 * k))
    assert len(raster._zone_labels) <= 4


def test_partition_sums_of_overlapping_zones_count_each_in_full():
    raster = census_surface(_two_squares(), cell_m=100)
    sq = box(503_000, 4_063_000, 504_000, 4_064_000)  # 1 km² of A, twice
    totals, covered = raster.partition_sums(gpd.GeoSeries([sq, sq], crs=METRIC),
                                            within=box(503_000, 4_063_000, 503_500, 4_064_000))
    np.testing.assert_allclose(totals.to_numpy(), [1000, 1000])
    np.testing.assert_allclose(covered.to_numpy(), [500, 500])


def _write_wgs84_tif(path, *, crs="EPSG:4326", seed=0, nodata=None):
    """A 60 x 80 grid of 0.005 degree cells over central Jinan with random counts."""
    rng = np.random.default_rng(seed)
    counts = rng.gamma(2.0, 50.0, size=(60, 80)).astype("float32")
    if nodata is not None:
        counts[:3, :] = nodata
    transform = from_origin(116.9, 36.8, 0.005, 0.005)
    with rasterio.open(
        path, "w", driver="GTiff", height=60, width=80, count=1, dtype="float32",
        crs=crs, transform=transform, nodata=nodata,
    ) as dst:
        dst.write(counts, 1)
    valid = counts if nodata is None else counts[3:, :]
    return float(valid.astype("float64").sum()), counts, transform


def test_user_geotiff_in_wgs84_keeps_its_total(tmp_path):
    path = tmp_path / "worldpop_like.tif"
    total, counts, _ = _write_wgs84_tif(path)
    raster = load_population(path)
    assert raster.crs.to_epsg() == 4548
    assert raster.cell_size == (100, 100)
    assert raster.total() == pytest.approx(total, rel=0.01)
    # the method itself keeps the head count; the final rescale is a small correction
    assert raster.attrs["rescale"] == pytest.approx(1.0, abs=0.01)
    # and people stay where they were: the eastern half of the source grid
    east = gpd.GeoSeries([box(117.1, 36.5, 117.3, 36.8)], crs="EPSG:4326")
    assert raster.zonal_sum(east).iloc[0] == pytest.approx(float(counts[:, 40:].sum()), rel=0.02)


def test_user_geotiff_nodata_is_ignored(tmp_path):
    path = tmp_path / "with_nodata.tif"
    total, _, _ = _write_wgs84_tif(path, nodata=-99999.0, seed=1)
    raster = load_population(path, cell_m=250)
    assert raster.cell_size == (250, 250)
    assert raster.total() == pytest.approx(total, rel=0.01)


def test_raster_without_crs_raises(tmp_path):
    path = tmp_path / "nocrs.tif"
    with rasterio.open(
        path, "w", driver="GTiff", height=4, width=4, count=1, dtype="float32",
        transform=Affine(100, 0, 0, 0, -100, 400),
    ) as dst:
        dst.write(np.ones((4, 4), dtype="float32"), 1)
    with pytest.raises(CRSError, match=r"^nocrs.tif 没有坐标参照系"):
        load_population(path)


def test_missing_or_malformed_file(tmp_path):
    with pytest.raises(InputFileError, match=r"找不到人口栅格文件 .*absent.tif"):
        load_population(tmp_path / "absent.tif")
    bad = tmp_path / "bad.tif"
    bad.write_bytes(b"this is not a GeoTIFF")
    with pytest.raises(InputFileError, match=r"^bad.tif 不是 GeoTIFF"):
        load_population(bad)
    bad.write_bytes(b"II*\x00" + b"\x00" * 60)  # a TIFF header and nothing else
    with pytest.raises(InputFileError, match=r"无法将 bad.tif 作为 GeoTIFF 读取"):
        load_population(bad)


def test_to_geotiff_round_trip_is_atomic(tmp_path):
    raster = census_surface(_two_squares(), cell_m=500)
    out = raster.to_geotiff(tmp_path / "sub" / "pop.tif")
    assert sorted(p.name for p in out.parent.iterdir()) == ["pop.tif"]  # no temporary file left
    again = load_population(out, cell_m=500)
    assert again.total() == pytest.approx(150_000, rel=1e-5)
    with rasterio.open(out) as src:
        assert src.crs.to_epsg() == 4548
        assert src.tags()["units"] == "residents per cell"


def test_population_raster_validates_shape_and_crs():
    with pytest.raises(InputFileError, match=r"人口栅格须为二维，收到形状 \(2, 2, 2\)"):
        PopulationRaster(np.zeros((2, 2, 2)), from_origin(0, 0, 1, 1), METRIC)
    with pytest.raises(CRSError, match="人口栅格须有坐标参照系"):
        PopulationRaster(np.zeros((2, 2)), from_origin(0, 0, 1, 1), None)
    with pytest.raises(ParameterError, match="栅格大小 cell_m 须为正数，收到 0"):
        census_surface(_two_squares(), cell_m=0)


def test_district_smaller_than_a_cell_keeps_its_people():
    squares = _two_squares()
    tiny = gpd.GeoDataFrame(
        {"name": ["T"], "population_2020": [77]},
        geometry=[box(520_010, 4_060_010, 520_040, 4_060_040)],  # 30 m square, no cell centre inside
        crs=METRIC,
    )
    frame = gpd.GeoDataFrame(
        {"name": [*squares["name"], "T"], "population_2020": [*squares["population_2020"], 77]},
        geometry=list(squares.geometry) + list(tiny.geometry),
        crs=METRIC,
    )
    raster = census_surface(frame, cell_m=100)
    assert raster.total() == pytest.approx(150_077)


def test_band_refusal_names_file_and_band(tmp_path):
    path = tmp_path / "one_band.tif"
    _write_wgs84_tif(path)
    with pytest.raises(InputFileError, match=r"one_band.tif 只有 1 个波段，没有第 3 波段"):
        load_population(path, band=3)


def _user_error_cases(tmp_path):
    tif = tmp_path / "pop.tif"
    _write_wgs84_tif(tif)
    squares = _two_squares()
    unit = from_origin(0, 0, 1, 1)
    return {
        "raster 3-D": lambda: PopulationRaster(np.zeros((2, 2, 2)), unit, METRIC),
        "raster without CRS": lambda: PopulationRaster(np.zeros((2, 2)), unit, None),
        "raster CRS junk": lambda: PopulationRaster(np.zeros((2, 2)), unit, "EPSG:nope"),
        "cell 0": lambda: census_surface(squares, cell_m=0),
        "cell text": lambda: census_surface(squares, cell_m="hundred"),
        "grid CRS junk": lambda: census_surface(squares, crs="EPSG:999999"),
        "no population column": lambda: census_surface(squares, population_column="pop"),
        "negative population": lambda: census_surface(_two_squares(pop_a=-5)),
        "weight not a raster": lambda: census_surface(squares, weight=np.ones((10, 10))),
        "districts not a frame": lambda: census_surface([box(0, 0, 1, 1)]),
        "districts empty": lambda: census_surface(squares.iloc[0:0]),
        "file missing": lambda: load_population(tmp_path / "absent.tif"),
        "band 0": lambda: load_population(tif, band=0),
        "band text": lambda: load_population(tif, band="1"),
        "target CRS junk": lambda: load_population(tif, target_crs="not a crs"),
        "cell negative": lambda: load_population(tif, cell_m=-100),
        "zonal sum of a list": lambda: census_surface(squares, cell_m=1000).zonal_sum([box(0, 0, 1, 1)]),
    }


@pytest.mark.parametrize("case", [
    "raster 3-D", "raster without CRS", "raster CRS junk", "cell 0", "cell text", "grid CRS junk",
    "no population column", "negative population", "weight not a raster", "districts not a frame",
    "districts empty", "file missing", "band 0", "band text", "target CRS junk", "cell negative",
    "zonal sum of a list",
])
def test_user_errors_are_planatlas_errors(tmp_path, case):
    with pytest.raises(PlanatlasError) as info:
        _user_error_cases(tmp_path)[case]()
    assert isinstance(info.value, (ParameterError, InputFileError, CRSError, EmptyLayerError))
    text = str(info.value)
    assert re.search(r"[\u4e00-\u9fff]", text.split(" (")[0]) and text.endswith(")")
