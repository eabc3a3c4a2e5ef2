"""fetch-osm: opt-in, clear offline, and the same layers as import-osm (a recorded answer stands in)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import shapely

from spatial import intake, settings, store
from spatial.cli import main
from spatial.io import fetch

SMALL = Path(__file__).resolve().parent / "data" / "intake_jinan.osm"
AREA = shapely.box(117.039, 36.6575, 117.054, 36.669)


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLANATLAS_DATA_DIR", str(tmp_path / "data"))


def test_offline_it_fails_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "allow_online", False)
    assert main(["fetch-osm", "--place", "历下区", "--store", str(tmp_path / "p.gpkg")]) == 1
    err = capsys.readouterr().err
    assert "需要联网" in err and "PLANATLAS_ALLOW_ONLINE=1" in err and err.count("\n") == 1
    assert not (tmp_path / "p.gpkg").exists()


def test_recorded_answer_gives_the_layers_import_osm_gives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "allow_online", True)
    calls: list[str] = []
    monkeypatch.setattr(fetch, "_place_area", lambda place: AREA)

    def recorded(query: str, dest: Path) -> None:  # the Overpass answer, recorded as an .osm file
        calls.append(query)
        shutil.copyfile(SMALL, dest)

    monkeypatch.setattr(fetch, "_download", recorded)
    fetched = tmp_path / "fetched.gpkg"
    assert main(["fetch-osm", "--place", "历下区, 济南市", "--store", str(fetched)]) == 0
    assert main(["fetch-osm", "--place", "历下区, 济南市", "--store", str(tmp_path / "again.gpkg")]) == 0
    assert len(calls) == 1  # the second time from the cache
    assert 'nwr["highway"](poly:"' in calls[0] and "out meta" in calls[0] and "[out:xml]" in calls[0]
    imported = intake.import_osm(SMALL, store_path=tmp_path / "imported.gpkg",
                                 clip=intake.ClipArea(AREA, "同一范围")).store
    a = store.list_layers(fetched).set_index("name")["n_features"]
    b = store.list_layers(imported).set_index("name")["n_features"]
    assert a.to_dict() == b.to_dict()
    assert "历下区, 济南市" in intake.imported_layers(fetched)["details"].iloc[0]


def test_the_boundary_sent_is_small() -> None:
    circle = shapely.Point(117.0, 36.6).buffer(0.1, quad_segs=400)
    poly = fetch._poly_filter(circle)
    assert len(poly.split()) // 2 <= fetch.MAX_POLY_VERTICES
    lat, lon = (float(v) for v in poly.split()[:2])
    assert 36.4 < lat < 36.8 and 116.8 < lon < 117.2  # Overpass wants "lat lon"
