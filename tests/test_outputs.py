"""Outputs that never destroy: regular files only, never a file being read, one output per path, modes kept,
nothing replaced that planatlas did not write unless ``--force`` (``spatial/io/_outputs.py``, ``spatial/_atomic.py``).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from spatial import _atomic, store
from spatial._errors import ParameterError, StoreError
from spatial.cli import main
from spatial.io import _outputs, export_layer


@pytest.fixture
def frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"name": ["趵突泉"]}, geometry=[shapely.Point(117.0167, 36.6617)], crs="EPSG:4326")


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if "错误：" in ln]
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize("kind", ["folder", "fifo", "device"])
def test_only_regular_files_are_written(tmp_path: Path, frame: gpd.GeoDataFrame, kind: str) -> None:
    if kind == "folder":
        target = tmp_path / "x.geojson"
        target.mkdir()
    elif kind == "fifo":
        target = tmp_path / "x.geojson"
        os.mkfifo(target)
    else:
        target = Path("/dev/null")
    before = os.lstat(target)
    with pytest.raises(StoreError, match="不是普通文件"):
        export_layer(frame, target, fmt="geojson")
    after = os.lstat(target)
    assert stat.S_IFMT(after.st_mode) == stat.S_IFMT(before.st_mode) and after.st_rdev == before.st_rdev
    assert not [p for p in target.parent.iterdir() if ".planatlas-" in p.name]


def test_dev_null_through_the_cli_stays_a_device(seed_store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["export", "--layer", "parks", "--format", "geojson", "--out", "/dev/null",
                        "--store", str(seed_store), "--force"], capsys)
    assert code == 1 and "设备文件，不是普通文件" in one_error_line(err)
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_symbolic_link_stays_a_link_and_its_target_is_written(tmp_path: Path, frame: gpd.GeoDataFrame) -> None:
    real = tmp_path / "real.geojson"
    export_layer(frame, real)
    link = tmp_path / "link.geojson"
    link.symlink_to(real)
    export_layer(frame.assign(name=["大明湖"]), link)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert gpd.read_file(real)["name"].tolist() == ["大明湖"]


def test_permissions_are_kept(tmp_path: Path, frame: gpd.GeoDataFrame) -> None:
    path = tmp_path / "private.geojson"
    export_layer(frame, path)
    path.chmod(0o600)
    export_layer(frame, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    store.write_store({"parks": frame}, tmp_path / "s.gpkg")
    (tmp_path / "s.gpkg").chmod(0o640)
    store.update_store(tmp_path / "s.gpkg", add={"more": frame})
    assert stat.S_IMODE((tmp_path / "s.gpkg").stat().st_mode) == 0o640


def test_export_never_replaces_the_store_it_reads(seed_store_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = seed_store_copy.read_bytes()
    for argv in (["export", "--layer", "parks", "--out", str(seed_store_copy)],
                 ["coverage", "--layer", "parks", "--preset", "park-500m", "--out", str(seed_store_copy)]):
        code, _, err = run([*argv, "--store", str(seed_store_copy), "--force"], capsys)
        assert code == 1 and "是本命令正在读取的文件" in one_error_line(err)
    assert seed_store_copy.read_bytes() == before


def test_coverage_does_not_overwrite_a_users_csv_beside_its_output(seed_store: Path, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    users = tmp_path / "parks15.csv"
    users.write_text("我的表格,1\n", encoding="utf-8")
    argv = ["coverage", "--layer", "parks", "--preset", "park-500m", "--store", str(seed_store),
            "--out", str(tmp_path / "parks15.gpkg")]
    code, _, err = run(argv, capsys)
    line = one_error_line(err)
    assert code == 1 and "parks15.csv" in line and "--force" in line
    assert users.read_text(encoding="utf-8") == "我的表格,1\n" and not (tmp_path / "parks15.gpkg").exists()
    code, out, _ = run([*argv, "--force"], capsys)
    assert code == 0 and "已写入" in out and "population_covered" in users.read_text(encoding="utf-8-sig")
    # now both are planatlas's own: a second run needs no --force
    assert run(argv, capsys)[0] == 0


def test_two_outputs_of_one_command_cannot_be_one_file(tmp_path: Path) -> None:
    link = tmp_path / "b.tif"
    link.symlink_to(tmp_path / "a.tif")
    with pytest.raises(ParameterError, match="指向同一个文件"):
        _outputs.plan_outputs([("--out", tmp_path / "a.tif"), ("--distance-tif", link)])


def test_a_file_planatlas_did_not_write_needs_force(tmp_path: Path, seed_store: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "parks.geojson"
    argv = ["export", "--layer", "parks", "--out", str(out), "--store", str(seed_store)]
    assert run(argv, capsys)[0] == 0
    assert _outputs.written_by_planatlas(out)
    assert run(argv, capsys)[0] == 0  # its own file: replaced without --force
    out.write_text('{"edited": "by the planner"}', encoding="utf-8")  # no longer what planatlas wrote
    code, _, err = run(argv, capsys)
    assert code == 1 and "不是 planatlas 写出的文件" in one_error_line(err)
    assert out.read_text(encoding="utf-8") == '{"edited": "by the planner"}'
    assert run([*argv, "--force"], capsys)[0] == 0


def test_every_writing_subcommand_has_force() -> None:
    from spatial.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, p in sub.choices.items():
        writes = any(a.dest in {"out", "distance_tif"} or (a.dest == "store" and "新建" in (a.help or ""))
                     for a in p._actions)  # an import's --store creates the store when it is missing
        assert writes == any(a.dest == "force" for a in p._actions), name


def test_stale_temporaries_of_dead_writers_are_swept(tmp_path: Path, frame: gpd.GeoDataFrame) -> None:
    dead = tmp_path / f".planatlas.planatlas-{_atomic._HOST}-999999999-abc.tmp.gpkg"
    dead.write_bytes(b"left by kill -9")
    (tmp_path / (dead.name + "-journal")).write_bytes(b"x")
    mine = tmp_path / f"{_atomic.temp_prefix('other')}xyz.tmp"
    mine.write_bytes(b"being written by this process")
    users = tmp_path / ".planatlas.backup.gpkg"
    users.write_bytes(b"a user's hidden file")
    spill = tmp_path / f"{_atomic.temp_dir_prefix('osm').replace(str(os.getpid()), '999999999')}xyz"
    spill.mkdir()  # the buildings spill folder of an import-osm killed with kill -9
    (spill / "chunk_0.parquet").write_bytes(b"x")
    store.write_store({"parks": frame}, tmp_path / "planatlas.gpkg")
    names = {p.name for p in tmp_path.iterdir()}
    assert dead.name not in names and dead.name + "-journal" not in names and spill.name not in names
    assert mine.name in names and users.name in names


def _intake_units(tmp_path: Path) -> Path:
    from tests.test_cli_errors import _intake_files

    return Path(_intake_files(tmp_path)["units"])


@pytest.mark.parametrize("kind", ["fifo", "folder", "users gpkg", "damaged store", "the input itself"])
def test_an_import_never_writes_a_store_it_must_not(tmp_path: Path, kind: str,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    units = _intake_units(tmp_path)
    target = tmp_path / "project.gpkg"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "folder":
        target.mkdir()
    elif kind == "users gpkg":  # a GeoPackage of the planner's, not a planatlas store
        gpd.read_file(units).to_file(target, driver="GPKG")
    elif kind == "damaged store":
        store.write_store({"units": gpd.read_file(units)}, target)
        target.write_bytes(target.read_bytes()[:5000])
    else:
        target = units.with_suffix(".gpkg")
        gpd.read_file(units).to_file(target, driver="GPKG")
        units = target
    before = _outputs._identity(target) if target.is_file() else None
    content = target.read_bytes() if target.is_file() else None
    code, _, err = run(["import-units", str(units), "--store", str(target), "--force"], capsys)
    assert code == 1, err
    line = one_error_line(err)
    assert str(target.name) in line and "Traceback" not in err
    if content is not None:
        assert target.read_bytes() == content and _outputs._identity(target) == before
    assert not [p for p in tmp_path.iterdir() if ".planatlas-" in p.name]


def test_an_import_creates_a_store_it_may_update_again(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    units = _intake_units(tmp_path)
    target = tmp_path / "project.gpkg"
    assert run(["import-units", str(units), "--store", str(target)], capsys)[0] == 0
    assert _outputs.written_by_planatlas(target)
    code, _, err = run(["import-units", str(units), "--name", "streets", "--store", str(target)], capsys)
    assert code == 0, err
    assert {"units", "streets"} <= set(store.list_layers(target)["name"])


@pytest.mark.parametrize("out", ["/vsimem/x.tif", "/vsizip//tmp/x.zip/x.geojson", "https://example.org/x.gpkg"])
def test_outputs_are_local_files_never_virtual_paths(tmp_path: Path, out: str) -> None:
    with pytest.raises(StoreError, match="输出须为本地文件"):
        _outputs.plan_outputs([("--distance-tif", out)])


def test_site_plans_its_folder_like_every_output(seed_store: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sites"
    out.mkdir()
    (out / "siting.xlsx").write_bytes(b"the planner's own workbook")
    argv = ["site", "--type", "park", "--count", "2", "--facilities", "parks", "--candidate-cell", "3000",
            "--method", "buffer", "--distance", "500", "--store", str(seed_store), "--out", str(out)]
    code, _, err = run(argv, capsys)
    assert code == 1 and "siting.xlsx" in one_error_line(err) and "--force" in err
    assert (out / "siting.xlsx").read_bytes() == b"the planner's own workbook"
    assert sorted(p.name for p in out.iterdir()) == ["siting.xlsx"]  # nothing written before the refusal
    code, _, err = run([*argv, "--force"], capsys)
    assert code == 0, err
    assert _outputs.written_by_planatlas(out / "siting.xlsx") and _outputs.written_by_planatlas(out / "sites.gpkg")
