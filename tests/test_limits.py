"""Limits on every input, checked before it is read whole; no reading of files that are not regular;
maps that stay small; progress on slow steps (``spatial/io/_limits.py``, ``spatial/settings.py``,
``spatial/webmap/_budget.py``)."""

from __future__ import annotations

import json
import os
import random
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from spatial import settings
from spatial._errors import InputFileError, ReportError
from spatial.io import read_upload
from spatial.layerspec import default_spec
from spatial.report import read_report
from tests import battery, inputs


def refused_within(seconds: float, call, *args) -> str:
    """``call(*args)`` in a child: it must be refused with a planatlas error within ``seconds``."""
    outcome = battery.in_child(call, *args, timeout=seconds)()
    assert outcome.status == "refused", outcome
    assert battery.unclear(outcome.message) is None, outcome.message
    return outcome.message


@pytest.mark.parametrize("kind", ["/dev/zero", "fifo", "folder"])
def test_a_report_that_is_not_a_regular_file_is_refused_at_once(tmp_path: Path, kind: str) -> None:
    path = Path("/dev/zero") if kind == "/dev/zero" else tmp_path / "report.md"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    message = refused_within(20, read_report, path)
    assert "不是普通文件" in message
    assert "不是普通文件" in refused_within(20, read_report, str(path))  # a str naming it is a path too


def test_report_size_and_item_count_are_capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    big = tmp_path / "big.md"
    big.write_bytes(b"x" * (settings.MAX_REPORT_BYTES + 1))
    with pytest.raises(ReportError, match=r"大小为 2 MB，超过上限 2 MB"):
        read_report(big)
    monkeypatch.setattr(settings, "MAX_REPORT_ITEMS", 100)
    with pytest.raises(ReportError, match=r"报告有 516 个条目，超过上限 100"):
        read_report(inputs.SEED_REPORT)


def test_upload_paths_that_are_not_regular_files_are_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "points.csv"
    os.mkfifo(fifo)
    assert "命名管道" in refused_within(20, read_upload, fifo)


@pytest.mark.parametrize("columns", [settings.MAX_CSV_COLUMNS + 1, 1_000_000])
def test_a_csv_wider_than_the_limit_is_refused_before_it_is_parsed(columns: int) -> None:
    t0 = time.perf_counter()
    with pytest.raises(InputFileError, match=f"表头有 {columns:,} 列，超过上限"):
        read_upload(inputs.wide_csv(columns), filename="wide.csv")
    assert time.perf_counter() - t0 < 5


def test_row_and_feature_counts_are_capped(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(settings, "MAX_UPLOAD_FEATURES", 1000)
    with pytest.raises(InputFileError, match="个要素，超过上限 1,000 个"):
        read_upload(inputs.long_csv(1500, random.Random(1)), filename="long.csv")
    frame = inputs.jinan_frame("point", ["x"] * 1500, [1.0] * 1500)
    for fmt in ("gpkg", "shp"):  # GDAL's count, before the layer is read
        data, name = inputs.file_bytes(frame, fmt)
        with pytest.raises(InputFileError, match="1,500 个要素，超过上限 1,000 个"):
            read_upload(data, filename=name)


def test_geojson_with_more_property_names_than_the_limit_is_refused_quickly() -> None:
    doc = {"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": {"type": "Point", "coordinates": [117.02, 36.66]},
        "properties": {f"k{i}": i for i in range(settings.MAX_CSV_COLUMNS + 5)}}]}
    t0 = time.perf_counter()
    with pytest.raises(InputFileError, match="个以上不同的名称，超过上限"):
        read_upload(json.dumps(doc).encode(), filename="props.geojson")
    assert time.perf_counter() - t0 < 5


def test_a_geojson_too_large_inside_a_zip_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "MAX_UPLOAD_BYTES", 1 << 20)
    data = inputs.zip_of({"big.geojson": b"{" + os.urandom(2 << 20)})  # incompressible: no zip bomb
    with pytest.raises(InputFileError, match=r"big.zip:big 大小为 2 MB，超过上限 1 MB"):
        read_upload(data, filename="big.zip", max_bytes=8 << 20)


def test_a_raster_of_too_many_cells_is_refused_before_it_is_read(tmp_path: Path) -> None:
    from spatial.population import load_population

    sparse = inputs.sparse_geotiff(tmp_path / "sparse.tif", width=200_000, height=200_000)
    assert sparse.stat().st_size < 4 << 20  # small on disk, 40 billion cells
    message = refused_within(30, load_population, sparse)
    assert "200,000 × 200,000" in message and "超过上限" in message
    # a small raster of the whole world regridded at 100 m would be a huge grid
    world = tmp_path / "world.tif"
    inputs.small_geotiff(world, origin=(60.0, 60.0), cells=40, cell_deg=2.0)  # 80 x 80 degrees of Asia
    with pytest.raises(InputFileError, match="重采样后的网格"):
        load_population(world)


def test_a_map_of_200000_points_is_summarised_on_a_grid_with_a_note() -> None:
    from spatial import webmap
    from spatial.webmap._budget import fit_for_display

    g = np.random.default_rng(0)
    n = 200_000
    points = gpd.GeoDataFrame({"name": [f"p{i}" for i in range(n)]}, geometry=gpd.points_from_xy(
        g.uniform(116.8, 117.3, n), g.uniform(36.5, 36.8, n)), crs="EPSG:4326")
    fitted = fit_for_display(points, default_spec("upload"))
    assert len(fitted.frame) <= settings.MAX_DRAWN_FEATURES
    assert int(fitted.frame["features_in_cell"].sum()) == n  # every point counted, none dropped
    assert "200,000 个要素" in fitted.note and "网格汇总" in fitted.spec.title_zh
    live = webmap.make_live_map({"upload": points})
    assert live.notes and "网格汇总显示" in live.notes[0]
    assert battery._map_bytes(points) < 10 << 20


def test_a_polygon_of_millions_of_vertices_is_simplified_for_display() -> None:
    from spatial.webmap._budget import fit_for_display

    t = np.linspace(0, 2 * np.pi, 1_000_000)
    ring = np.column_stack([117.0 + 0.1 * np.cos(t) * (1 + 0.01 * np.sin(50 * t)), 36.65 + 0.08 * np.sin(t)])
    frame = gpd.GeoDataFrame({"name": ["big"]}, geometry=[shapely.Polygon(ring)], crs="EPSG:4326")
    fitted = fit_for_display(frame, default_spec("big"))
    assert shapely.get_num_coordinates(fitted.frame.geometry.values).sum() <= settings.MAX_DRAWN_VERTICES
    assert "简化显示" in fitted.note and len(fitted.frame) == 1
    assert fitted.frame.geometry.iloc[0].area == pytest.approx(frame.geometry.iloc[0].area, rel=0.01)


def test_small_layers_are_drawn_as_they_are() -> None:
    from spatial.webmap._budget import fit_for_display

    frame = inputs.jinan_frame("polygon", ["a", "b"], [1.0, 2.0])
    fitted = fit_for_display(frame, default_spec("x"))
    assert fitted.frame is frame and fitted.note == ""


def test_progress_lines_on_slow_steps(seed_store: Path, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from spatial.cli import main

    monkeypatch.setenv("PLANATLAS_PROGRESS", "1")
    assert main(["coverage", "--layer", "parks", "--preset", "park-500m", "--store", str(seed_store)]) == 0
    assert "planatlas: 正在计算服务范围与覆盖人口…" in capsys.readouterr().err
    monkeypatch.delenv("PLANATLAS_PROGRESS")
    assert main(["coverage", "--layer", "parks", "--preset", "park-500m", "--store", str(seed_store)]) == 0
    assert "正在" not in capsys.readouterr().err  # not a terminal: quiet
