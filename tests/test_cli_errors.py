"""Every subcommand, every kind of bad argument: one clear Chinese line, never a traceback.

The cases are generated from the parser itself: for each option of each
subcommand, values of the wrong kind for its type (words for numbers,
negative and non-finite numbers, unknown choices, missing or unreadable
files), required options left out, and the pairs of options that exclude
each other. A new option is covered as soon as it is declared.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from spatial.cli import build_parser, main
from spatial.cli._parser import bbox, positive_float, positive_int


def _intake_files(tmp: Path) -> dict[str, Path]:
    """Small files the import commands' working command lines read."""
    import geopandas as gpd
    import shapely
    from _intake_samples import write_amap_csv

    files = {"poi": write_amap_csv(tmp / "amap.csv"), "roads": tmp / "roads.geojson", "units": tmp / "units.geojson"}
    gpd.GeoDataFrame(geometry=[shapely.LineString([(117.0, 36.65), (117.01, 36.65)])], crs=4326).to_file(
        files["roads"], driver="GeoJSON")
    gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.box(117.0, 36.64, 117.02, 36.66)], crs=4326).to_file(
        files["units"], driver="GeoJSON")
    return files


#: A working command line per subcommand; each case breaks one thing in it.
def _good(store: Path, tmp: Path) -> dict[str, list[str]]:
    files = _intake_files(tmp)
    osm = Path(__file__).resolve().parent / "data" / "intake_jinan.osm"
    return {
        "build": ["build", "--out", str(tmp / "built.gpkg")],
        "layers": ["layers", "--store", str(store)],
        "geocode": ["geocode", "历下区"],
        "export": ["export", "--layer", "parks", "--out", str(tmp / "parks.geojson"), "--store", str(store)],
        "presets": ["presets"],
        "coverage": ["coverage", "--layer", "parks", "--preset", "park-500m", "--store", str(store)],
        "unresolved": ["unresolved", "--out", str(tmp / "todo.csv"), "--store", str(store)],
        "import-places": ["import-places", str(_answers(tmp)), "--datum", "WGS84", "--store", str(store)],
        "evaluate": ["evaluate", "--standard", "gb50180", "--store", str(store), "--out", str(tmp / "evaluation")],
        "import-osm": ["import-osm", str(osm), "--store", str(tmp / "osm.gpkg")],
        "fetch-osm": ["fetch-osm", "--place", "历下区", "--store", str(tmp / "fetched.gpkg")],
        "import-poi": ["import-poi", str(files["poi"]), "--store", str(tmp / "poi.gpkg")],
        "import-roads": ["import-roads", str(files["roads"]), "--store", str(tmp / "roads.gpkg")],
        "import-units": ["import-units", str(files["units"]), "--store", str(tmp / "units.gpkg")],
        "import-population": ["import-population", "--dasymetric", "land", "--store", str(tmp / "osm.gpkg")],
        "demo": ["demo"],
        "site": ["site", "--type", "park", "--count", "2", "--facilities", "parks", "--candidate-cell", "3000",
                 "--cell", "1000", "--store", str(store)],
    }


def _answers(tmp: Path) -> Path:
    """A filled-in corrections CSV (each case breaks something else in the command line)."""
    path = tmp / "answers.csv"
    path.write_text("item_id,name,lon,lat\n,泉水博物馆,117.0,36.62\n", encoding="utf-8")
    return path


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


_NUMBER_TYPES = (float, int, positive_float, positive_int)


def _bad_values(action: argparse.Action, tmp: Path) -> list[str]:
    if action.choices:
        return ["bogus", ""]
    if action.type in _NUMBER_TYPES:
        return ["abc", "-3", "0", "nan", "inf", "1e999"]
    if action.type is bbox:
        return ["1,2,3", "10,10,0,0", "a,b,c,d"]
    dest = action.dest
    if dest in {"store", "report", "network", "population"}:
        (tmp / "a_folder").mkdir(exist_ok=True)
        garbage = tmp / "garbage.bin"
        garbage.write_bytes(b"\x00\xffnot a file of any kind\x00" * 50)
        # a name no file system takes: refused by the parser, never an OSError later
        return [str(tmp / "missing.file"), str(tmp / "a_folder"), str(garbage), str(tmp / ("长" * 120 + ".gpkg"))]
    if dest in {"datum"}:
        return ["bogus", ""]
    if dest in {"out", "distance_tif"}:
        (tmp / "a_file").write_text("x")
        # a missing folder is created; a file where a folder should be, or an unknown format, is refused
        return [str(tmp / "a_file" / "x.gpkg"), str(tmp / "x.dwg"), str(tmp / ("长" * 120 + ".gpkg"))]
    if dest in {"layer"}:
        return ["no_such_layer", ""]
    if dest in {"preset"}:
        return ["gb-9999"]
    return []


def _cases(store: Path, tmp: Path) -> list[list[str]]:
    good = _good(store, tmp)
    cases: list[list[str]] = []
    for name, sub in _subparsers().items():
        assert name in good, f"add a working command line for the new subcommand {name!r}"
        base = good[name]
        for action in sub._actions:
            if not action.option_strings or isinstance(action, argparse._HelpAction):
                continue
            flag = action.option_strings[-1]
            if action.nargs == 0:  # a switch: repeat it with a value it does not take
                cases.append([*base, flag + "=yes"])
                continue
            for value in _bad_values(action, tmp):
                argv = [a for i, a in enumerate(base) if not (base[i - 1:i] == [flag] or a == flag)]
                cases.append([*argv, flag, value])
            if action.required:
                argv = list(base)
                i = argv.index(flag)
                del argv[i:i + 2]
                cases.append(argv)
        cases.append([*base, "--no-such-option"])
    # options that exclude each other, and values that are fine alone but not together
    cases += [
        ["coverage", "--layer", "parks", "--distance", "100", "--minutes", "5", "--store", str(store)],
        ["coverage", "--layer", "parks", "--preset", "park-500m", "--speed", "60", "--store", str(store)],
        ["coverage", "--layer", "parks", "--store", str(store)],
        ["coverage", "--layer", "parks", "--distance", "500", "--method", "network", "--store", str(store)],
        ["coverage", "--layer", "parks", "--distance", "500", "--method", "buffer", "--network", "x.osm",
         "--store", str(store)],
        ["site", "--type", "park", "--store", str(store)],
        ["site", "--type", "bogus", "--count", "2", "--store", str(store)],
        ["site", "--type", "park", "--count", "2", "--model", "lscp", "--store", str(store)],
        ["site", "--type", "park", "--count", "2", "--share", "0.8", "--store", str(store)],
        ["site", "--type", "park", "--model", "lscp", "--share", "1.5", "--store", str(store)],
        ["site", "--type", "park", "--count", "2", "--method", "network", "--store", str(store)],
        ["site", "--type", "bus_stop", "--from-target", "--store", str(store)],
        ["site", "--type", "park", "--count", "2", "--candidates", "no_such_layer", "--store", str(store)],
        ["site", "--type", "park", "--count", "2", "--exclude", "no_such_layer", "--store", str(store)],
        ["site", "--type", "elderly_canteen", "--count", "2", "--store", str(store)],
        ["geocode", "火星基地"],
        ["export", "--layer", "planatlas_layers", "--out", str(tmp / "m.geojson"), "--store", str(store)],
        ["import-osm", str(tmp / "missing.osm.pbf"), "--store", str(tmp / "x.gpkg")],
        ["import-osm", str(tmp / "garbage.bin"), "--store", str(tmp / "x.gpkg")],
        ["import-osm", str(Path(__file__).resolve().parent / "data" / "intake_jinan.osm"), "--bbox",
         "24.9,60.1,25.0,60.2", "--store", str(tmp / "x.gpkg")],
        ["import-osm", str(Path(__file__).resolve().parent / "data" / "intake_jinan.osm"), "--clip", "火星区",
         "--store", str(store)],
        ["import-poi", str(tmp / "garbage.bin"), "--store", str(tmp / "x.gpkg")],
        ["import-population", "--store", str(tmp / "x.gpkg")],
        ["import-population", str(tmp / "garbage.bin"), "--dasymetric", "land", "--store", str(tmp / "x.gpkg")],
        ["import-units", str(tmp / "garbage.bin"), "--store", str(tmp / "x.gpkg")],
        ["import-roads", str(tmp / "garbage.bin"), "--store", str(tmp / "x.gpkg")],
        [],
        ["no-such-command"],
    ]
    return cases


def test_every_bad_argument_gives_one_clear_line(seed_store: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    cases = _cases(seed_store, tmp_path)
    assert len(cases) > 60  # the generator must keep producing cases
    failures = []
    for argv in cases:
        try:
            code = main(argv)
        except SystemExit as exc:  # usage errors: argparse's exit, status 2
            code = exc.code
        out, err = capsys.readouterr()
        lines = [line for line in err.splitlines() if line.strip()]
        ok = (
            code not in (0, None)
            and "Traceback" not in err + out
            and len(lines) >= 1
            and any("错误" in line for line in lines)
            and all(len(line) < 600 for line in lines)
            and sum("错误" in line for line in lines) == 1
        )
        if not ok:
            failures.append((argv, code, err[-400:]))
    assert not failures, "\n".join(f"{a}: exit {c}: {e}" for a, c, e in failures)


@pytest.mark.parametrize("argv", [
    ["coverage", "--layer", "parks", "--distance", "100", "--minutes", "5"],
    ["coverage", "--layer", "parks", "--speed", "-3", "--distance", "100"],
])
def test_the_examples_of_the_issue_exit_non_zero_in_a_real_process(argv: list[str], seed_store: Path) -> None:
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "spatial.cli", *argv, "--store", str(seed_store)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1
    assert "错误" in proc.stderr
