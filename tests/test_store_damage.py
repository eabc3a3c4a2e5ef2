"""Damaged stores: checked when opened, one clear error with how to rebuild, the default store rebuilt,
unreadable geometries counted (``spatial/store.py``, ``layers/build.py``)."""

from __future__ import annotations

import random
import shutil
import warnings
from pathlib import Path

import pytest

from spatial import store
from spatial._errors import DamagedStoreError, PlanatlasWarning, StoreError
from spatial.cli import main
from tests import battery, inputs

DAMAGE = ["truncate", "garbage", "empty", "header only", "not sqlite", "zero pages", "drop layer table", "drop a layer"]


@pytest.fixture
def damaged(seed_store: Path, tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    return inputs.damage_store(seed_store, tmp_path / "planatlas.gpkg", request.param, random.Random(request.param))


@pytest.mark.parametrize("damaged", DAMAGE, indirect=True)
def test_a_damaged_store_is_one_clear_error_with_how_to_rebuild(damaged: Path) -> None:
    for read in (lambda: store.list_layers(damaged), lambda: store.read_layer("parks", path=damaged),
                 lambda: store.read_table("report", path=damaged)):
        with pytest.raises(DamagedStoreError) as info:
            read()
        msg = str(info.value)
        assert "\n" not in msg and "已损坏" in msg and f"planatlas build --out {damaged} --force" in msg
        assert battery.unclear(msg) is None, msg  # no GDAL or SQLite text, Chinese first


@pytest.mark.parametrize("damaged", ["truncate", "drop layer table", "zero pages"], indirect=True)
@pytest.mark.parametrize("command", [["layers"], ["export", "--layer", "parks", "--format", "geojson"],
                                     ["coverage", "--layer", "parks", "--preset", "park-500m"]])
def test_commands_on_a_damaged_store_given_by_path_say_how_to_rebuild(
        damaged: Path, command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = damaged.read_bytes()
    argv = [*command, "--store", str(damaged)]
    if command[0] == "export":
        argv += ["--out", str(tmp_path / "x.geojson")]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "已损坏" in err and "planatlas build --out" in err
    assert damaged.read_bytes() == before  # a store given by path is never changed


def test_garbage_geometry_is_counted_not_exported_silently(seed_store: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = inputs.damage_store(seed_store, tmp_path / "g.gpkg", "garbage geometry", random.Random(1))
    with pytest.warns(PlanatlasWarning, match=r"图层 parks 的 \d+ 个要素中有 \d+ 个的几何数据已损坏"):
        parks = store.read_layer("parks", path=path)
    lost = parks.attrs[store.UNREADABLE_ATTR]
    assert lost == (len(parks) + 1) // 2  # every other row was overwritten
    assert main(["export", "--layer", "parks", "--out", str(tmp_path / "p.geojson"), "--store", str(path)]) == 0
    captured = capsys.readouterr()
    assert f"其中 {lost} 个要素的几何已损坏" in captured.out
    assert "planatlas: 注意：" in captured.err and "几何数据已损坏" in captured.err


@pytest.mark.parametrize("how", ["truncate", "garbage", "empty", "drop a layer"])
def test_the_default_store_is_rebuilt_when_damaged_and_the_damaged_file_kept(
        seed_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    from layers.build import ensure_default_store

    monkeypatch.setenv("PLANATLAS_DATA_DIR", str(tmp_path))
    target = tmp_path / "planatlas.gpkg"
    inputs.damage_store(seed_store, target, how, random.Random(how))
    damaged_bytes = target.read_bytes()
    with pytest.warns(PlanatlasWarning, match="已损坏，已从内置报告离线重建"):
        path = ensure_default_store()
    assert path == target and set(store.list_layers(path)["name"]) >= {"parks", "districts", "report_items"}
    assert (tmp_path / "planatlas.damaged.gpkg").read_bytes() == damaged_bytes
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ensure_default_store() == target  # whole now: nothing to say


def test_the_cli_heals_the_default_store_and_says_so(seed_store: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PLANATLAS_DATA_DIR", str(tmp_path))
    shutil.copyfile(seed_store, tmp_path / "planatlas.gpkg")
    (tmp_path / "planatlas.gpkg").write_bytes((tmp_path / "planatlas.gpkg").read_bytes()[:50_000])
    assert main(["layers"]) == 0
    captured = capsys.readouterr()
    assert "districts" in captured.out and "已损坏，已从内置报告离线重建" in captured.err


def test_a_store_that_is_not_a_file_or_not_there(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="没有找到数据库") as info:
        store.list_layers(tmp_path / "none.gpkg")
    assert not isinstance(info.value, DamagedStoreError)
    with pytest.raises(StoreError, match="不是数据库文件"):
        store.list_layers(tmp_path)


def test_a_whole_store_is_checked_once(seed_store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store.check_store(seed_store)
    calls = []
    monkeypatch.setattr(store, "_check_contents", lambda *a: calls.append(a))
    store.list_layers(seed_store)
    store.read_layer("parks", path=seed_store)
    assert calls == []


def test_impossible_coordinates_count_as_unreadable(tmp_path: Path) -> None:
    import geopandas as gpd
    import shapely

    frame = gpd.GeoDataFrame({"name": ["ok", "far", "nan"]}, crs="EPSG:4326", geometry=[
        shapely.Point(117.0, 36.6), shapely.Point(1e300, 36.6), shapely.Point(float("nan"), 36.6)])
    path = store.write_store({"parks": frame}, tmp_path / "s.gpkg")
    with pytest.warns(PlanatlasWarning, match="2 个的几何数据已损坏"):
        back = store.read_layer("parks", path=path)
    assert back.attrs[store.UNREADABLE_ATTR] == 2 and list(back.geometry.notna()) == [True, False, False]


@pytest.mark.parametrize("damaged", ["garbage geometry"], indirect=True)
def test_coverage_on_units_without_geometry_is_a_clear_refusal(damaged: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["coverage", "--layer", "parks", "--preset", "park-500m", "--store", str(damaged)])
    err = capsys.readouterr().err
    errors = [ln for ln in err.splitlines() if "错误：" in ln]
    assert code == 1 and len(errors) == 1 and "内部错误" not in err, err
    assert "没有几何" in errors[0] or "已损坏" in errors[0]


def test_a_self_crossing_unit_is_repaired_before_coverage() -> None:
    import geopandas as gpd
    import shapely

    from spatial.coverage import _whole_units

    bowtie = shapely.Polygon([(117.0, 36.6), (117.1, 36.7), (117.1, 36.6), (117.0, 36.7)])
    units = gpd.GeoDataFrame({"name": ["x"]}, geometry=[bowtie], crs="EPSG:4326")
    fixed = _whole_units(units)
    assert fixed.geometry.is_valid.all() and shapely.area(fixed.geometry.iloc[0]) == pytest.approx(0.005)
    assert not bowtie.is_valid  # the input is left as it was
