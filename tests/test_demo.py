"""The demo project on real OSM data (Helsinki): built offline, labelled a demo everywhere, usable by every command."""

from __future__ import annotations

from pathlib import Path

import pytest

from spatial import intake, population, settings, store
from spatial.cli import main

pytest.importorskip("pyrosm")


@pytest.fixture(scope="module")
def demo() -> Path:
    from layers.demo import ensure_demo_store

    return ensure_demo_store()


def test_demo_command_builds_it_under_the_data_folder(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert str(demo) in out and demo == settings.data_dir() / "projects" / "helsinki-demo.gpkg"
    assert "演示项目" in out and "公交车站" in out


def test_every_layer_and_the_project_say_it_is_a_demo(demo: Path) -> None:
    from layers.demo import DEMO_LABEL

    specs = store.read_specs(demo)
    assert {"network_walk", "network_drive", "osm_facilities", "osm_green", "osm_residential", "osm_buildings",
            "grid_units", "population_grid"} <= set(specs)
    assert all(s.title_zh.startswith(DEMO_LABEL) for s in specs.values()), [s.title_zh for s in specs.values()]
    info = intake.project_info(demo)
    assert info["kind"] == "demo" and info["label"] == DEMO_LABEL and "不是人数" in info["note"]


def test_no_residents_are_invented(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    surface = population.from_store(demo)
    assert surface is not None and not population.counts_residents(surface)
    units = store.read_layer("grid_units", path=demo)
    assert "population" not in units.columns and units["name"].str.startswith("网格").all()
    assert main(["coverage", "--layer", "osm_green", "--preset", "park-500m", "--store", str(demo)]) == 0
    out = capsys.readouterr().out
    assert "演示项目" in out and "住宅建筑面积 (m²)" in out and "不是人数" in out
    assert "覆盖人口" not in out


def test_network_coverage_on_the_demo(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["coverage", "--layer", "osm_facilities", "--facility-type", "supermarket", "--method", "network",
                 "--preset", "gb50180-10min", "--store", str(demo)]) == 0
    out = capsys.readouterr().out
    assert "超市" in out and "network_walk" in out and "设施 6 个" in out
    assert main(["coverage", "--layer", "osm_facilities", "--facility-type", "kindergarten", "--distance", "300",
                 "--store", str(demo)]) == 1
    assert "没有 幼儿园" in capsys.readouterr().err
