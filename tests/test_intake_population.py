"""Population and units into the store: rasters over the city, unit tables, dasymetric surfaces, their names."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from spatial import intake, population, store
from spatial._errors import EmptyLayerError, InputFileError, StoreError
from spatial.cli import main

SMALL = Path(__file__).resolve().parent / "data" / "intake_jinan.osm"


def _tif(path: Path, *, west: float, north: float, n: int = 50, step: float = 0.005, value: float = 100.0) -> Path:
    import rasterio
    from rasterio.transform import from_origin

    with warnings.catch_warnings():  # rasterio multiplies Affine objects with `*`, which affine deprecates
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        with rasterio.open(path, "w", driver="GTiff", height=n, width=n, count=1, dtype="float32", crs="EPSG:4326",
                           transform=from_origin(west, north, step, step)) as ds:
            ds.write(np.full((n, n), value, dtype="float32"), 1)
    return path


def _units_file(path: Path, boxes: list[tuple[float, float, float, float]], pops: list[float] | None) -> Path:
    props = [{"街道": f"街道{i + 1}", **({"常住人口": p} if pops else {})} for i, p in enumerate(pops or boxes)]
    gdf = gpd.GeoDataFrame(props, geometry=[shapely.box(*b) for b in boxes], crs=4326)
    gdf.to_file(path, driver="GeoJSON")
    return path


def test_raster_over_the_city_becomes_the_project_population(seed_store_copy: Path, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    tif = _tif(tmp_path / "pop.tif", west=116.9, north=36.75)
    assert main(["import-population", str(tif), "--store", str(seed_store_copy)]) == 0
    capsys.readouterr()
    surface = population.from_store(seed_store_copy)
    assert surface is not None and surface.total() == pytest.approx(250_000, rel=1e-6)
    assert "pop.tif" in surface.source and "保持总人数" in surface.method
    # what coverage stands on is said next to the figure
    assert main(["coverage", "--layer", "parks", "--preset", "park-500m", "--store", str(seed_store_copy)]) == 0
    out = capsys.readouterr().out
    assert "人口：pop.tif" in out and "共 250,000 人" in out


def test_raster_outside_the_city_or_too_large_is_refused(seed_store_copy: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    before = seed_store_copy.read_bytes()
    with pytest.raises(InputFileError, match=r"不在城市内|不在分析坐标系 .* 的适用范围"):
        intake.import_population(_tif(tmp_path / "helsinki.tif", west=24.9, north=60.2), store_path=seed_store_copy)
    monkeypatch.setattr(population, "MAX_RASTER_CELLS", 100)
    with pytest.raises(InputFileError, match="超过上限"):
        intake.import_population(_tif(tmp_path / "pop.tif", west=116.9, north=36.75), store_path=seed_store_copy)
    assert seed_store_copy.read_bytes() == before


def test_units_with_population_report_coverage_by_unit(seed_store_copy: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    path = _units_file(tmp_path / "jd.geojson", [(117.00, 36.64, 117.03, 36.67), (117.03, 36.64, 117.06, 36.67)],
                       [60_000, 40_000])
    assert main(["import-units", str(path), "--name", "streets", "--title", "街道", "--name-field", "街道",
                 "--population-field", "常住人口", "--population-source", "测试用人口", "--store",
                 str(seed_store_copy)]) == 0
    capsys.readouterr()
    units = store.read_layer("streets", path=seed_store_copy)
    assert list(units["name"]) == ["街道1", "街道2"] and list(units["population"]) == [60_000, 40_000]
    assert store.read_specs(seed_store_copy)["streets"].role == "units"
    assert main(["coverage", "--layer", "parks", "--distance", "800", "--units", "streets", "--store",
                 str(seed_store_copy)]) == 0
    out = capsys.readouterr().out
    assert "统计单元：streets（2 个）" in out and "共 100,000 人" in out and "测试用人口" in out
    assert "街道1" in out and "街道2" in out


def test_units_elsewhere_or_not_polygons_are_refused(seed_store_copy: Path, tmp_path: Path) -> None:
    shanghai = _units_file(tmp_path / "sh.geojson", [(121.4, 31.2, 121.5, 31.3)], None)
    with pytest.raises(InputFileError, match="与项目范围不重叠"):
        intake.import_units(shanghai, store_path=seed_store_copy)
    pts = gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.Point(117.0, 36.65)], crs=4326)
    pts.to_file(tmp_path / "pts.geojson", driver="GeoJSON")
    with pytest.raises(InputFileError, match="没有面要素"):
        intake.import_units(tmp_path / "pts.geojson", store_path=seed_store_copy)


def test_unit_table_joined_by_name(seed_store_copy: Path, tmp_path: Path) -> None:
    path = _units_file(tmp_path / "jd.geojson", [(117.00, 36.64, 117.03, 36.67), (117.03, 36.64, 117.06, 36.67)],
                       None)
    intake.import_units(path, store_path=seed_store_copy, name_field="街道")
    table = tmp_path / "pop.csv"
    pd.DataFrame({"街道名称": ["街道1", "街道3"], "人口": [12_345, 1]}).to_csv(table, index=False)
    result = intake.join_population(table, store_path=seed_store_copy, units="units", key="街道名称",
                                    population_field="人口")
    assert result.counts["joined"] == 1 and any("街道2" in n for n in result.notes)
    units = store.read_layer("units", path=seed_store_copy)
    assert units["population"].iloc[0] == 12_345 and np.isnan(units["population"].iloc[1])
    with pytest.raises(StoreError, match="默认图层"):
        intake.join_population(table, store_path=seed_store_copy, units="districts", key="街道名称",
                               population_field="人口")


@pytest.mark.parametrize(("weight", "method"), [("buildings", population.METHOD_FLOOR_AREA),
                                                ("land", population.METHOD_LAND)])
def test_dasymetric_surface_keeps_unit_totals_on_residential_land(weight: str, method: str, tmp_path: Path) -> None:
    path = tmp_path / "p.gpkg"
    intake.import_osm(SMALL, store_path=path)
    # two units: the west one holds no residential land, the east one all of it
    west, east = (117.039, 36.6575, 117.0455, 36.669), (117.0455, 36.6575, 117.054, 36.669)
    units = _units_file(tmp_path / "u.geojson", [west, east], [1_000, 5_000])
    intake.import_units(units, store_path=path, name_field="街道", population_field="常住人口")
    result = intake.build_population(store_path=path, units="units", weight=weight)
    assert result.counts["method"] == method
    surface = population.from_store(path)
    assert surface is not None and surface.method == method
    assert surface.total() == pytest.approx(6_000)
    sums = surface.zonal_sum(store.read_layer("units", path=path), overlapping=False)
    assert sums.to_numpy() == pytest.approx([1_000, 5_000])  # every unit's total kept
    land = store.read_layer("osm_residential", path=path).to_crs(surface.crs).geometry.iloc[0]
    east_unit = store.read_layer("units", path=path).to_crs(surface.crs).geometry.iloc[1]
    assert surface.to_geotiff(tmp_path / "s.tif").exists()
    # the east unit's residents all stand on (cells touching) its residential land; the west unit,
    # which has none, keeps a uniform spread
    on_land = surface.zonal_sum(gpd.GeoSeries([land.buffer(100).intersection(east_unit)], crs=surface.crs)).iloc[0]
    assert on_land == pytest.approx(5_000, rel=1e-6)


def test_floor_area_surface_says_it_counts_square_metres(tmp_path: Path) -> None:
    path = tmp_path / "p.gpkg"
    intake.import_osm(SMALL, store_path=path)
    units = _units_file(tmp_path / "u.geojson", [(117.039, 36.6575, 117.054, 36.669)], None)
    intake.import_units(units, store_path=path, name_field="街道")
    intake.build_population(store_path=path, units="units", weight="floor_area_only")
    surface = population.from_store(path)
    assert surface is not None and not population.counts_residents(surface)
    buildings = store.read_layer("osm_buildings", path=path)
    assert surface.total() == pytest.approx(buildings.loc[buildings["residential"], "floor_area_m2"].sum())
    assert store.read_specs(path)["population_grid"].title_zh == "住宅建筑面积网格"
    with pytest.raises(EmptyLayerError, match="没有人口字段"):
        intake.build_population(store_path=path, units="units", weight="land", replace=True)


def test_store_round_trip_is_exact_and_absent_is_none(tmp_path: Path) -> None:
    from affine import Affine

    arr = np.arange(12, dtype=float).reshape(3, 4)
    arr[0, 0] = np.nan
    raster = population.PopulationRaster(arr, Affine(100, 0, 500_000, 0, -100, 4_060_000), "EPSG:4548",
                                         source="测试", method="手工")
    cells, table = population.to_store(raster)
    back = population._raster_from(cells, table.iloc[0])
    assert back.total() == raster.total() and back.source == "测试" and tuple(back.transform) == tuple(raster.transform)
    json.dumps(table.iloc[0].to_dict(), default=str)
    path = tmp_path / "p.gpkg"
    store.write_store({"x": gpd.GeoDataFrame(geometry=[shapely.Point(117, 36.6)], crs=4326)}, path)
    assert population.from_store(path) is None
