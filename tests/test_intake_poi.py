"""POI exports of AMap, Baidu and Tencent: WGS-84 within a metre, classified as their tables say, guesses said."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _intake_samples import POINTS, write_amap_csv, write_baidu_csv
from pyproj import Geod

from spatial import intake, store
from spatial._errors import DatumError, InputFileError, ParameterError
from spatial.cli import main
from spatial.datum import convert
from spatial.io.poi import read_poi

EXPECTED = {p[0]: p for p in POINTS}


def _errors_m(frame) -> np.ndarray:
    lon = np.array([EXPECTED[n][1] for n in frame["name"]])
    lat = np.array([EXPECTED[n][2] for n in frame["name"]])
    _, _, dist = Geod(ellps="WGS84").inv(lon, lat, frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy())
    return np.asarray(dist)


@pytest.mark.parametrize(("writer", "vendor", "datum"), [(write_amap_csv, "amap", "GCJ02"),
                                                         (write_baidu_csv, "baidu", "BD09")])
def test_export_comes_out_in_wgs84_within_a_metre_and_classified(writer, vendor, datum, tmp_path: Path) -> None:
    result = read_poi(writer(tmp_path / f"{vendor}.csv"))
    assert result.vendor == vendor and result.datum == datum
    assert _errors_m(result.frame).max() < 1.0
    # and before conversion they were hundreds of metres off (the test would notice a missed conversion)
    raw = convert([p[1] for p in POINTS], [p[2] for p in POINTS], source="WGS84", target=datum)
    _, _, shift = Geod(ellps="WGS84").inv([p[1] for p in POINTS], [p[2] for p in POINTS], raw[0], raw[1])
    assert shift.min() > 300
    got = dict(zip(result.frame["name"], result.frame["facility_type"], strict=True))
    assert got == {name: p[6] for name, p in EXPECTED.items()}
    assert result.counts["unclassified"] == 2  # kept, and counted
    assert (result.frame["source_datum"] == datum).all()
    said = " ".join(result.notes)
    assert "按" in said and "导出格式读取" in said and "猜测" in said  # the guesses are said


def test_same_name_within_metres_is_merged_and_counted(tmp_path: Path) -> None:
    result = read_poi(write_amap_csv(tmp_path / "a.csv", duplicate=True))
    assert result.counts["rows"] == len(POINTS) + 1 and result.counts["merged"] == 1
    assert len(result.frame) == len(POINTS)
    assert result.frame.loc[result.frame["name"] == "银座超市", "duplicates_merged"].iloc[0] == 1
    kept = read_poi(write_amap_csv(tmp_path / "b.csv", duplicate=True), merge_m=0)
    assert len(kept.frame) == len(POINTS) + 1


def test_a_datum_other_than_the_vendors_is_used_and_said(tmp_path: Path) -> None:
    result = read_poi(write_amap_csv(tmp_path / "a.csv"), datum="WGS84")
    assert result.datum == "WGS84"
    assert any("通常为 GCJ-02" in n for n in result.notes)
    assert _errors_m(result.frame).min() > 300  # taken as given: the planner was told


def test_tencent_json_answer_and_column_datum_hint(tmp_path: Path) -> None:
    data = []
    for name, lon, lat, *_rest, ftype in POINTS[:4]:
        g = convert(lon, lat, source="WGS84", target="GCJ02")
        data.append({"id": str(len(data)), "title": name, "category": "教育学校:小学" if ftype == "primary_school"
                     else "教育学校:幼儿园", "location": {"lat": float(g[1]), "lng": float(g[0])},
                     "ad_info": {"adcode": 370102}})
    path = tmp_path / "tencent.json"
    path.write_text(json.dumps({"status": 0, "data": data}, ensure_ascii=False), encoding="utf-8")
    result = read_poi(path)
    assert result.vendor == "tencent" and result.datum == "GCJ02"
    assert _errors_m(result.frame).max() < 1.0
    assert result.frame["facility_type"].tolist()[:2] == ["kindergarten", "primary_school"]
    # a column named for its datum wins over the vendor's default, and says so
    frame = pd.DataFrame({"name": ["东关小学"], "wgs84_lng": [117.0433], "wgs84_lat": [36.6621],
                          "typecode": ["141203"]})
    frame.to_csv(tmp_path / "w.csv", index=False)
    hinted = read_poi(tmp_path / "w.csv")
    assert hinted.datum == "WGS84" and any("表明坐标系为" in n for n in hinted.notes)


def test_xlsx_and_gbk_exports(tmp_path: Path) -> None:
    pd.read_csv(write_amap_csv(tmp_path / "a.csv"), dtype=str).to_excel(tmp_path / "a.xlsx", index=False)
    assert len(read_poi(tmp_path / "a.xlsx").frame) == len(POINTS)
    text = (tmp_path / "a.csv").read_text(encoding="utf-8-sig")
    (tmp_path / "gbk.csv").write_bytes(text.encode("gb18030"))
    result = read_poi(tmp_path / "gbk.csv")
    assert len(result.frame) == len(POINTS) and any("GB18030" in n for n in result.notes)


def test_baidu_lat_lng_pair_is_told_apart_by_value(tmp_path: Path) -> None:
    name, lon, lat, *_ = POINTS[0]
    b = convert(lon, lat, source="WGS84", target="BD09")
    pd.DataFrame({"uid": ["x"], "name": [name], "location": [f"{float(b[1]):.6f},{float(b[0]):.6f}"],
                  "tag": ["教育培训;幼儿园"]}).to_csv(tmp_path / "b.csv", index=False)
    assert _errors_m(read_poi(tmp_path / "b.csv").frame).max() < 1.0


@pytest.mark.parametrize(("content", "match"), [
    ("名称,地址\n某学校,历下区\n", "无法判断"),
    ("uid,name,address\n1,某学校,历下区\n", "没有坐标列"),
    ("uid,name,lng,lat\n1,某学校,13025000.5,4392000.1\n", "百度墨卡托"),
    ("uid,name,lng,lat\n1,某学校,36.66,117.04\n2,某店,36.67,117.05\n", "经纬度是否颠倒"),
    ("uid,name,lng,lat\n", "没有 POI 记录"),
])
def test_bad_exports_get_one_clear_line(content: str, match: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputFileError, match=match):
        read_poi(path)


def test_bad_options(tmp_path: Path) -> None:
    path = write_amap_csv(tmp_path / "a.csv")
    with pytest.raises(ParameterError):
        read_poi(path, source="google")
    with pytest.raises(DatumError):
        read_poi(path, datum="mars2000")
    with pytest.raises(InputFileError, match="不是 POI 导出文件"):
        read_poi(Path(__file__))


def test_import_poi_command_writes_a_facility_layer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "p.gpkg"
    assert main(["import-poi", str(write_baidu_csv(tmp_path / "b.csv")), "--store", str(path)]) == 0
    out, err = capsys.readouterr()
    assert "poi_baidu" in out and "未归类 2" in out and "BD-09" in err
    spec = store.read_specs(path)["poi_baidu"]
    assert spec.role == "facilities" and spec.source_datum == "BD09"
    assert intake.facility_counts(path)["poi_baidu"]["street_office"] == 1
    before = path.read_bytes()
    assert main(["import-poi", str(tmp_path / "b.csv"), "--store", str(path)]) == 1  # exists: needs --replace
    assert "--replace" in capsys.readouterr().err and path.read_bytes() == before
