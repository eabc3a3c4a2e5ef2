"""The robustness battery: generated hostile inputs, run through planatlas, counted per category.

Each category is a function ``(n, rng, scratch) -> Tally``: it draws ``n``
cases from :mod:`tests.inputs` (or generates them from the parser, the
environment, the store …), runs each, and counts what came out. A case ends
in one of:

* **accepted**: it ran and every property checked held;
* **refused**: a :class:`~spatial._errors.PlanatlasError` (or a CLI exit
  status 1/2 with one ``错误`` line), whose message is clear;
* **traceback**: any other exception, or a traceback printed by the CLI;
* **unclear message**: refused, but the message is not one line, not Chinese
  first with the English in brackets, or shows library text (GDAL, SQLite,
  Python exception names, temporary paths);
* **wrong**: accepted, but a property did not hold (a value, a span, an
  attack accepted, a payload left unescaped);
* **data lost** (counted beside the outcome): a file that was there before is
  damaged or gone, or a temporary file was left behind;
* **hang**: the case did not finish within its time limit or ran out of its
  memory limit (cases that can hang run in a child process, see :func:`isolated`).

``tools/robustness.py`` runs every category and writes ``docs/robustness.md``;
``tests/test_robustness.py`` runs the quick battery inside the test command.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import traceback
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests import inputs

ROOT = inputs.ROOT

#: Fixed seed of the battery (the report's date: any fixed number would do).
SEED = 20221226


# --------------------------------------------------------------------------- outcomes

_CJK = re.compile(r"[\u3400-\u9fff]")
#: Library text a planner must never read: exception class names, GDAL and SQLite phrases, temp paths.
_RAW = re.compile(
    r"Traceback|Error:|Exception:|errno|sqlite3?\.|pyogrio|DataSourceError|OperationalError|"
    r"DatabaseError|sqlite3_|GDAL error|CPLE_|planatlas-upload-|\.tmp\.gpkg|/tmp/tmp|<class |"
    r"not recognized as being in a supported file format|file is not a database|"
    r"database disk image is malformed",
    re.IGNORECASE,
)


def _english_bracket(text: str) -> int | None:
    """Index of the bracket that opens the English at the end of a message, or None."""
    if not text.endswith(")"):
        return None
    depth = 0
    for i in range(len(text) - 1, -1, -1):
        if text[i] == ")":
            depth += 1
        elif text[i] == "(":
            depth -= 1
            if depth == 0:
                return i
    return None


def unclear(message: str) -> str | None:
    """Why a refusal message is unclear, or None when a planner can read it.

    Clear: one line under 1000 characters, Chinese first with the English in
    brackets after it, and no library text (exception names, GDAL or SQLite
    phrases, temporary paths).
    """
    text = message.strip()
    if not text:
        return "empty message"
    if "\n" in text:
        return "more than one line"
    if len(text) > 1000:  # a user's own long path may appear twice (Chinese and English)
        return "longer than 1000 characters"
    cjk = _CJK.search(text)
    if cjk is None:
        return "no Chinese"
    opening = _english_bracket(text)
    if opening is None or cjk.start() > opening:
        return "not Chinese first with the English in brackets"
    raw = _RAW.search(text)
    if raw:
        return f"library text {raw.group(0)!r}"
    return None


@dataclass
class Tally:
    """Counts of one category."""

    category: str
    tracks_data: bool = False
    tried: int = 0
    accepted: int = 0
    refused: int = 0
    tracebacks: int = 0
    unclear: int = 0
    wrong: int = 0
    lost: int = 0
    hangs: int = 0
    seconds: float = 0.0
    kinds: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    #: (label, outcome, seconds) of every labelled case, for the report's details
    cases: list[tuple[str, str, float]] = field(default_factory=list)

    @property
    def problems(self) -> int:
        """Everything that must be 0."""
        return self.tracebacks + self.unclear + self.wrong + self.lost + self.hangs

    def note(self, what: str, case: object) -> None:
        self.kinds[what.split(":", 1)[0]] += 1
        if len(self.examples) < 4:
            self.examples.append(f"{what} on input {short(case)}")

    def refusal(self, message: str, case: object) -> None:
        """Count a refusal, clear or not."""
        why = unclear(message)
        if why is None:
            self.refused += 1
        else:
            self.unclear += 1
            self.note(f"unclear message ({why}): {message[:160]!r}", case)

    def run(self, check: Callable[..., object], *args: object, label: str | None = None) -> None:
        """Run ``check(*args)`` in this process and count what came out.

        ``check`` returns True (accepted and correct), False (wrong),
        ``"refused"`` (it expected and saw a refusal itself) or an
        :class:`Outcome`; a :class:`~spatial._errors.PlanatlasError` is a
        refusal, anything else a traceback.
        """
        from spatial._errors import PlanatlasError

        self.tried += 1
        case: object = label if label is not None else args
        before = (self.accepted, self.refused, self.tracebacks, self.unclear, self.wrong, self.hangs)
        t0 = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = check(*args)
        except PlanatlasError as exc:
            self.refusal(str(exc), case)
        except Exception as exc:
            self.tracebacks += 1
            tb = traceback.extract_tb(exc.__traceback__)[-1]
            name = f"{type(exc).__module__}.{type(exc).__qualname__}"
            self.note(f"traceback {name}: {str(exc)[:120]} ({Path(tb.filename).name}:{tb.lineno})", case)
        else:
            self.count(result, case)
        if label is not None:
            after = (self.accepted, self.refused, self.tracebacks, self.unclear, self.wrong, self.hangs)
            names = ("accepted", "refused", "traceback", "unclear message", "wrong", "hang")
            outcome = next((n for n, a, b in zip(names, after, before, strict=True) if a != b), "?")
            self.cases.append((label, outcome, time.perf_counter() - t0))

    def count(self, result: object, case: object) -> None:
        """Count the result of a check that did not raise."""
        if isinstance(result, Outcome):
            result.count_into(self, case)
        elif result is False:
            self.wrong += 1
            self.note("wrong result", case)
        elif result == "refused":
            self.refused += 1
        else:
            self.accepted += 1


@dataclass
class Outcome:
    """What a case run in a child process or through the CLI came to.

    Attributes
    ----------
    status : {"accepted", "refused", "traceback", "wrong", "hang"}
    message : str
        The refusal's message (checked by :func:`unclear`), or what went wrong.
    lost : list of str
        Files damaged, gone or left behind.
    """

    status: str
    message: str = ""
    lost: list[str] = field(default_factory=list)

    def count_into(self, tally: Tally, case: object) -> None:
        if self.status == "accepted":
            tally.accepted += 1
        elif self.status == "refused":
            tally.refusal(self.message, case)
        elif self.status == "traceback":
            tally.tracebacks += 1
            tally.note(f"traceback: {self.message[-300:]}", case)
        elif self.status == "hang":
            tally.hangs += 1
            tally.note(f"hang: {self.message}", case)
        else:
            tally.wrong += 1
            tally.note(f"wrong result: {self.message[:200]}", case)
        if self.lost:
            tally.lost += 1
            tally.note(f"data lost: {', '.join(self.lost)[:200]}", case)


def short(case: object) -> str:
    if isinstance(case, tuple) and len(case) == 1:
        case = case[0]
    text = repr(case)
    return text if len(text) <= 160 else text[:157] + "..."


@contextlib.contextmanager
def timed(tally: Tally) -> Iterator[Tally]:
    t0 = time.perf_counter()
    try:
        yield tally
    finally:
        tally.seconds += time.perf_counter() - t0


def _refused_or_raise(call: Callable[[], object]) -> tuple[object | None, str | None]:
    """``(result, None)``, or ``(None, message)`` when ``call`` raised a planatlas error."""
    from spatial._errors import PlanatlasError

    try:
        return call(), None
    except PlanatlasError as exc:
        return None, str(exc)


# --------------------------------------------------------------------------- report, quantities, places


def cat_report_text(n: int, rng: random.Random, scratch: Path) -> Tally:
    """Report text: random Unicode, token soup, slices of the real report mixed with noise."""
    from spatial.report import clean_span, parse_report

    blank = re.compile(r"[\s\ufeff]")

    def check(text: str) -> bool:
        report = parse_report(text)
        for item in report.items:
            if not (0 <= item.start < item.end <= len(text)):
                return False
            if clean_span(text, item.start, item.end) != item.text:
                return False
            if blank.sub("", text[item.start:item.end]) != blank.sub("", item.text):
                return False
        return [i.item_id for i in parse_report(text).items] == [i.item_id for i in report.items]

    tally = Tally("report text")
    with timed(tally):
        for k in range(n):
            tally.run(check, inputs.report_text(rng, k))
        tally.run(check, inputs.SEED_REPORT)
    return tally


def cat_report_bytes(n: int, rng: random.Random, scratch: Path) -> Tally:
    """Report bytes: random bytes, and report-shaped text in every encoding planatlas may meet."""
    from spatial.report import read_report

    def check(data: bytes) -> bool:
        report = read_report(data)
        return all(0 <= i.start < i.end <= len(report.source) for i in report.items)

    tally = Tally("report bytes")
    with timed(tally):
        for k in range(n):
            tally.run(check, inputs.report_bytes(rng, k))
    return tally


def cat_quantities(n: int, rng: random.Random, scratch: Path) -> Tally:
    """Generated number + multiplier + unit inside Chinese text (value, unit and span checked); noise."""
    import math

    from spatial.quantities import UNITS, extract_quantities

    units = [u for u in UNITS if u != "年"]
    mults = inputs.MULTIPLIERS

    def phrase() -> str:
        return "".join(rng.choice(inputs.QUANTITY_WORDS) for _ in range(rng.randrange(0, 4)))

    def check_embedded(text: str, num: str, value: float, mult: str, unit: str) -> bool:
        found = extract_quantities(text)
        if len(found) != 1:
            return False
        q = found[0]
        return (math.isclose(q.value, value, rel_tol=1e-12) and q.unit == ("%" if unit == "％" else unit)
                and q.unit_as_written == mult + unit and text[q.start:q.end] == q.raw
                and q.raw.startswith(num))

    def check_noise(text: str) -> bool:
        return all(0 <= q.start < q.end <= len(text) and text[q.start:q.end] == q.raw
                   for q in extract_quantities(text))

    tally = Tally("quantities")
    with timed(tally):
        for k in range(n):
            if k % 3 == 2:
                pool = units + list(mults) + inputs.QUANTITY_NOISE + [str(rng.randrange(10 ** 6))]
                noise = "".join(rng.choice(pool) if rng.random() < 0.6 else inputs.rand_text(rng, 3)
                                for _ in range(rng.randrange(30)))
                tally.run(check_noise, noise)
                continue
            whole = rng.randrange(0, 10_000_000)
            style = rng.choice(["int", "dec", "sep"])
            num = {"dec": f"{whole}.{rng.randrange(1, 1000)}", "sep": f"{whole:,}"}.get(style, str(whole))
            mult, unit = rng.choice(sorted(mults)), rng.choice(units)
            marks = inputs.QUANTITY_MARKS
            text = (phrase() + rng.choice(marks) + phrase() + f"{num}{rng.choice(['', ' '])}{mult}{unit}"
                    + rng.choice(marks) + phrase())
            tally.run(check_embedded, text, num, float(num.replace(",", "")) * mults[mult], mult, unit)
    return tally


def cat_geocoder(n: int, rng: random.Random, scratch: Path) -> Tally:
    """Random text; gazetteer names mixed with noise (spans and the Shandong box checked)."""
    import shapely

    from spatial.gazetteer import normalise_name
    from spatial.geocode import Geocoder

    geocoder = Geocoder.default()
    gaz = geocoder.gazetteer
    names = sorted(gaz["name"])
    box = inputs.SHANDONG

    def inside(geom: object) -> bool:
        x0, y0, x1, y1 = shapely.bounds(geom)
        return bool(box[0] <= x0 and x1 <= box[2] and box[1] <= y0 and y1 <= box[3])

    def check(text: str, inserted: tuple[str, ...] = ()) -> bool:
        mentions = geocoder.find_mentions(text)
        for m in mentions:
            if not (0 <= m.start < m.end <= len(text) and text[m.start:m.end] == m.text):
                return False
            if m.place_id is not None:
                geom = gaz.loc[m.place_id, "geometry"]
                if geom is not None and not inside(geom):
                    return False
        found = [normalise_name(m.text) for m in mentions if m.place_id is not None]
        return all(any(normalise_name(n) in f or f in normalise_name(n) for f in found) for n in inserted)

    tally = Tally("geocoder text")
    with timed(tally):
        for k in range(n):
            if k % 2:
                tally.run(check, inputs.rand_text(rng, rng.randrange(0, 200)))
                continue
            bits, inserted = [], []
            for _ in range(rng.randrange(1, 8)):
                name = rng.choice(names)
                inserted.append(name)
                if rng.random() < 0.3:
                    name = " ".join(name)  # PDF conversions scatter spaces through names
                bits += [inputs.noise_text(rng, rng.randrange(0, 4)), rng.choice(inputs.NAME_SEPARATORS), name,
                         rng.choice(["，", "。", "；"])]
            tally.run(check, "".join(bits), tuple(inserted))
    return tally


# --------------------------------------------------------------------------- uploads


def _upload_leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith("planatlas-upload-")]


@contextlib.contextmanager
def private_tempdir(scratch: Path) -> Iterator[Path]:
    """Point :mod:`tempfile` at a folder of its own, to see what is left in it."""
    folder = scratch / "sys_tmp"
    folder.mkdir(parents=True, exist_ok=True)
    old = tempfile.tempdir
    tempfile.tempdir = str(folder)
    try:
        yield folder
    finally:
        tempfile.tempdir = old


def _upload_check(folder: Path, *, n_features: int | None = None) -> Callable[[bytes, str], object]:
    from spatial.io import list_layers, read_upload

    def check(data: bytes, name: str) -> object:
        _refused_or_raise(lambda: list_layers(data, filename=name))
        result, message = _refused_or_raise(lambda: read_upload(data, filename=name))
        lost = [f"temporary {p}" for p in _upload_leftovers(folder)]
        if message is not None:
            return Outcome("refused", message, lost)
        assert result is not None
        ok = result.n_features == len(result.frame) >= 1 and str(result.frame.crs) == "EPSG:4326"  # type: ignore[attr-defined]
        if n_features is not None:
            ok = ok and result.n_features == n_features  # type: ignore[attr-defined]
        return Outcome("accepted" if ok else "wrong", "" if ok else "features or CRS wrong", lost)

    return check


def cat_uploads(n: int, rng: random.Random, scratch: Path) -> list[Tally]:
    """Valid uploads in every format (read with every feature) and the same files damaged; noise."""
    tallies = []
    with private_tempdir(scratch) as folder:
        for fmt in inputs.UPLOAD_FORMATS:
            tally = Tally(f"uploads: {fmt}")
            with timed(tally):
                for k in range(n):
                    kind = rng.choice(["point", "line", "polygon"]) if fmt != "csv" or k % 2 else "point"
                    gdf = inputs.random_frame(rng, kind)
                    data, name = inputs.file_bytes(gdf, fmt)
                    if k % 4 == 0:
                        tally.run(_upload_check(folder, n_features=len(gdf)), data, name)
                    else:
                        tally.run(_upload_check(folder), inputs.damage(rng, data), name)
            tallies.append(tally)
        tally = Tally("uploads: random bytes")
        with timed(tally):
            for _ in range(2 * n):
                tally.run(_upload_check(folder), *inputs.noise_file(rng))
        tallies.append(tally)
    return tallies


def _escaped_files(scratch: Path) -> set[str]:
    found = {str(p) for p in scratch.rglob("*escaped*")}
    return found | {str(p) for p in Path(tempfile.gettempdir()).glob("*escaped*")} | {
        str(p) for p in Path("/tmp").glob("*escaped*")}


def cat_zip(n: int, rng: random.Random, scratch: Path) -> Tally:
    """Zip slip, absolute paths, symlinks, zip bombs, lying sizes, encryption, damaged streams: all refused."""
    from spatial.io import read_upload

    shp_zip, _ = inputs.file_bytes(inputs.random_frame(rng, "point"), "shp")
    tally = Tally("zip attacks")
    with timed(tally), private_tempdir(scratch) as folder:

        def check(name: str, data: bytes) -> object:
            before = _escaped_files(scratch)
            _, message = _refused_or_raise(lambda: read_upload(data, filename=f"{name}.zip"))
            lost = [f"escaped {p}" for p in _escaped_files(scratch) - before]
            lost += [f"temporary {p}" for p in _upload_leftovers(folder)]
            if message is None:
                return Outcome("wrong", "attack accepted", lost)
            return Outcome("refused", message, lost)

        for name, data in inputs.zip_attacks(shp_zip).items():
            tally.run(check, name, data)
    return tally


def cat_export_names(n: int, rng: random.Random, scratch: Path) -> Tally:
    """``..``, separators and NUL as the layer name of an export: nothing written outside its folder."""
    import geopandas as gpd
    import shapely

    from spatial.io import export_bytes

    gdf = gpd.GeoDataFrame({"name": ["x"]}, geometry=[shapely.Point(117.0, 36.6)], crs="EPSG:4326")
    root = scratch / "export"
    work = root / "a" / "b" / "c"
    work.mkdir(parents=True, exist_ok=True)

    def outside() -> set[str]:
        return {str(p) for p in root.rglob("*") if p.is_file()} | {str(p) for p in Path("/tmp").glob("escaped*")}

    def check(layer: str, fmt: str) -> object:
        before = outside()
        _, message = _refused_or_raise(lambda: export_bytes(gdf, fmt, layer=layer))
        lost = [f"written outside: {p}" for p in outside() - before]
        if message is not None:
            return Outcome("refused", message, lost)
        ok = layer not in {"..", ".", ""}
        return Outcome("accepted" if ok else "wrong", "" if ok else "a layer name that is no file name", lost)

    tally = Tally("export layer names")
    old = tempfile.tempdir
    tempfile.tempdir = str(work)  # export_bytes' folder: deep enough for ../.. to land in scratch
    try:
        with timed(tally):
            for layer in inputs.ESCAPING_NAMES:
                for fmt in ("geojson", "shp", "kml"):
                    tally.run(check, layer, fmt)
    finally:
        tempfile.tempdir = old
    return tally


# --------------------------------------------------------------------------- store writes


def store_state(path: Path) -> dict[str, int] | None:
    """Feature count per layer of a store, or None when it cannot be read."""
    import pyogrio

    from spatial import store

    try:
        names = [row[0] for row in pyogrio.list_layers(path)]
        return {n: len(store.read_layer(n, path=path)) for n in names if not n.startswith(store.TABLE_PREFIX)}
    except Exception:
        return None


def _temp_files(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(".") and ".tmp" in p.name]


def cat_store_writes(n: int, rng: random.Random, scratch: Path) -> Tally:
    """Unwritable frames, reserved names, writes failing at a random layer (KeyboardInterrupt / OSError)."""
    import pyogrio

    from spatial import store

    baseline = {"parks": inputs.good_frame(3), "places": inputs.good_frame(2)}
    expect = {"parks": 3, "places": 2}
    tally = Tally("store: failed writes", tracks_data=True)
    real_write = pyogrio.write_dataframe
    with timed(tally):
        for k in range(n):
            folder = scratch / f"store{k}"
            folder.mkdir()
            path = folder / "planatlas.gpkg"
            store.write_store(baseline, path)
            layers = inputs.layer_set(rng)
            fail_at = rng.choice([None, 0, 1, 2, 3])
            interrupt = rng.choice([KeyboardInterrupt, OSError])
            calls: list[int] = []

            def flaky(*args: Any, **kwargs: Any) -> Any:
                calls.append(1)
                if fail_at is not None and len(calls) > fail_at:
                    raise interrupt("simulated failure while writing")
                return real_write(*args, **kwargs)

            def attempt() -> object:
                pyogrio.write_dataframe = flaky
                message = None
                try:
                    store.write_store(layers, path)
                except KeyboardInterrupt:
                    message = "interrupted"
                except Exception as exc:
                    from spatial._errors import PlanatlasError

                    if not isinstance(exc, PlanatlasError):
                        raise
                    message = str(exc)
                finally:
                    pyogrio.write_dataframe = real_write
                state = store_state(path)
                old_ok = state == expect
                new_ok = state is not None and all(state.get(nm) == len(f) for nm, f in layers.items())
                lost = [] if (old_ok or new_ok) else ["the previous store"]
                lost += [f"temporary {t}" for t in _temp_files(folder)]
                if message == "interrupted":
                    return Outcome("accepted", "", lost)  # the interrupt itself came out: as it should
                return Outcome("refused" if message else "accepted", message or "", lost)

            tally.run(attempt)
    return tally


_KILLED_WRITER = textwrap.dedent("""
    import sys
    import numpy as np
    import geopandas as gpd
    from spatial import store
    n = int(sys.argv[2])
    rng = np.random.default_rng(0)
    big = gpd.GeoDataFrame({"name": [f"item {i}" for i in range(n)], "v": rng.random(n)},
        geometry=gpd.points_from_xy(rng.uniform(116, 118, n), rng.uniform(36, 37.5, n)), crs="EPSG:4326")
    print("writing", flush=True)
    store.write_store({"parks": big, "report_items": big, "places": big}, sys.argv[1])
    print("done", flush=True)
""")


def cat_store_killed(n: int, rng: random.Random, scratch: Path) -> Tally:
    """A writer process SIGKILLed in the middle of a store write: the previous store is intact."""
    from spatial import store

    baseline = {"parks": inputs.good_frame(3), "places": inputs.good_frame(2)}
    expect = {"parks": 3, "places": 2}
    tally = Tally("store: killed writer", tracks_data=True)
    with timed(tally):
        for k, threshold in enumerate([0, 200_000, 1_000_000, 3_000_000][: max(2, n)]):
            folder = scratch / f"killed{k}"
            folder.mkdir()
            path = folder / "planatlas.gpkg"
            store.write_store(baseline, path)
            before = path.read_bytes()

            def attempt() -> object:
                env = dict(os.environ, PYTHONPATH=str(ROOT))
                proc = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(path), "120000"],
                                        stdout=subprocess.PIPE, text=True, env=env, cwd=str(ROOT))
                try:
                    assert proc.stdout is not None
                    proc.stdout.readline()
                    deadline = time.monotonic() + 60
                    while time.monotonic() < deadline and proc.poll() is None:
                        temps = [p for p in folder.iterdir() if ".tmp" in p.name]
                        if temps and temps[0].stat().st_size >= threshold:
                            break
                        time.sleep(0.01)
                    proc.send_signal(signal.SIGKILL)
                finally:
                    proc.wait(timeout=60)
                    if proc.stdout is not None:
                        proc.stdout.close()
                lost = [] if store_state(path) == expect and path.read_bytes() == before else ["the store"]
                return Outcome("accepted" if proc.returncode == -signal.SIGKILL else "wrong",
                               "" if proc.returncode == -signal.SIGKILL else "the writer was not killed", lost)

            tally.run(attempt)
    return tally


# --------------------------------------------------------------------------- injection


def cat_injection(n: int, rng: random.Random, scratch: Path) -> Tally:
    """XSS payloads in every layer's text: the map page, the standalone page, popups, highlight, KML, GeoJSON."""
    import xml.etree.ElementTree as ET

    from spatial import webmap
    from spatial.io import export, read_upload

    def unescape_json(page: str) -> str:
        return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), page)

    def layers(p: str) -> dict[str, Any]:
        out: dict[str, Any] = dict(inputs.hostile_layers(p))
        out[p] = read_upload(inputs.hostile_upload(p), filename=p + ".geojson").frame
        return out

    def unsafe(page: str, p: str) -> bool:
        decoded = unescape_json(page)
        if any(ch in p for ch in "<>\"'`$") and (p in page or p in decoded):
            return True
        return bool(re.search(r"""(?:href|src|action)\s*=\s*["']?\s*javascript:""", decoded, re.I))

    def map_page(p: str) -> bool:
        page = webmap.make_map(layers(p), cluster_items=False, hidden=[]).get_root().render()
        return not unsafe(page, p) and webmap.escape(p) in unescape_json(page)

    def standalone(p: str) -> bool:
        return not unsafe(webmap.standalone_html(webmap.make_map(layers(p))), p)

    def popup(p: str) -> bool:
        return not unsafe(webmap.popup_html(p, [(p, p)], quote=p, provenance={"source": p}), p)

    def highlight(p: str) -> bool:
        from app_pages.page_report import highlighted_source

        src = "新建公园" + p + "。"
        return not unsafe(highlighted_source(src, 4, 4 + len(p)), p)

    def kml(p: str) -> bool:
        data, _, _ = export.export_bytes(layers(p)["places"], "kml", layer="places")
        root = ET.fromstring(data)
        ns = {"k": "http://www.opengis.net/kml/2.2"}
        names = [e.text for e in root.iterfind(".//k:Placemark/k:name", ns)]
        return names == ["趵突泉" + p] and ("<" not in p or p not in data.decode("utf-8"))

    def geojson(p: str) -> bool:
        data, _, _ = export.export_bytes(layers(p)["report_items"], "geojson", layer="items")
        props = json.loads(data)["features"][0]["properties"]
        return bool(props["text"] == "新建公园" + p + "。" and props["place_name"] == "趵突泉" + p)

    tally = Tally("injection payloads")
    with timed(tally):
        for check in (map_page, standalone, popup, highlight, kml, geojson):
            for p in inputs.PAYLOADS:
                tally.run(check, p)
    return tally


# --------------------------------------------------------------------------- running a case apart


@dataclass
class Child:
    """What a case run in a child process came to.

    Attributes
    ----------
    status : {"ok", "raised", "timeout", "memory", "died"}
    value : object
        What the function returned (``ok``).
    error : str
        The exception and its traceback (``raised``), or how it died.
    out, err : str
        What it wrote to standard output and error (file descriptors 1 and 2).
    """

    status: str
    value: object = None
    error: str = ""
    out: str = ""
    err: str = ""


def _vm_size() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def isolated(func: Callable[..., object], *args: object, timeout: float = 60.0, memory: int = 3 << 30,
             file_size: int | None = None) -> Child:
    """Run ``func(*args)`` in a forked child with a time limit, a memory limit and captured output.

    The child may use ``memory`` bytes more address space than the parent
    has mapped; ``file_size`` limits the size of any file it writes (writes
    beyond it fail as on a full disk: ``EFBIG``). A child that does not
    answer within ``timeout`` seconds is killed (a hang).
    """
    import multiprocessing
    import resource

    ctx = multiprocessing.get_context("fork")
    reader, writer = ctx.Pipe(duplex=False)
    out_file = tempfile.TemporaryFile()  # noqa: SIM115 - closed below, after the child has ended
    err_file = tempfile.TemporaryFile()  # noqa: SIM115

    def child() -> None:
        import faulthandler

        faulthandler.disable()  # a crash is counted from the exit status, not dumped into the test log
        warnings.resetwarnings()  # Python's defaults, not the test run's "error": as a user's process
        os.dup2(out_file.fileno(), 1)
        os.dup2(err_file.fileno(), 2)
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115 - the child's stdout until exit
        sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
        limit = _vm_size() + memory
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        if file_size is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))
        try:
            value = func(*args)
            answer: tuple[str, object, str] = ("ok", value, "")
        except MemoryError:
            answer = ("memory", None, "MemoryError")
        except BaseException as exc:
            answer = ("raised", None, "".join(traceback.format_exception(exc))[-3000:])
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        try:
            writer.send(answer)
        except Exception as exc:  # an answer that does not pickle
            writer.send(("raised", None, f"unpicklable answer: {exc!r}"))
        os._exit(0)

    proc = ctx.Process(target=child)
    proc.start()
    writer.close()
    try:
        if reader.poll(timeout):
            try:
                status, value, error = reader.recv()
            except EOFError:
                status, value, error = "died", None, "no answer"
        else:
            status, value, error = "timeout", None, f"no answer within {timeout:.0f} s"
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(30)
        reader.close()
    if status == "died" and proc.exitcode is not None and proc.exitcode < 0:
        error = f"killed by signal {-proc.exitcode}"
    out_file.seek(0)
    err_file.seek(0)
    out = out_file.read().decode("utf-8", "replace")
    err = err_file.read().decode("utf-8", "replace")
    out_file.close()
    err_file.close()
    return Child(status, value, error, out, err)


def child_outcome(child: Child, *, lost: list[str] | None = None) -> Outcome:
    """An :class:`Outcome` of a child whose function returned an Outcome (or raised, hung, died)."""
    lost = lost or []
    if child.status == "ok" and isinstance(child.value, Outcome):
        child.value.lost += lost
        return child.value
    if child.status in {"timeout", "memory"}:
        return Outcome("hang", child.error, lost)
    return Outcome("traceback", child.error or child.status, lost)


def in_child(check: Callable[..., object], *args: object, **limits: Any) -> Callable[[], Outcome]:
    """A case for :meth:`Tally.run` that runs ``check(*args)`` in a child and classifies what came out.

    ``check`` returns like a :meth:`Tally.run` check (an Outcome, True,
    False, "refused"); a planatlas error it raises is a refusal.
    """

    def body() -> Outcome:
        from spatial._errors import PlanatlasError

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = check(*args)
        except PlanatlasError as exc:
            return Outcome("refused", str(exc))
        if isinstance(result, Outcome):
            return result
        if result is False:
            return Outcome("wrong", "check failed")
        return Outcome("refused" if result == "refused" else "accepted")

    def case() -> Outcome:
        return child_outcome(isolated(body, **limits))

    return case


# --------------------------------------------------------------------------- the command line


@dataclass
class CliResult:
    """One command line run in a child: its exit status and output, or how it failed to end."""

    argv: list[str]
    code: object
    out: str
    err: str
    status: str
    error: str = ""


def run_cli(argv: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None,
            timeout: float = 90.0, memory: int = 3 << 30) -> CliResult:
    """``planatlas <argv>`` in a forked child (the parent's imports, a fresh process state)."""

    def go() -> object:
        if env is not None:
            os.environ.clear()
            os.environ.update(env)
        tempfile.tempdir = None
        if cwd is not None:
            os.chdir(cwd)
        from spatial.cli import main

        try:
            return main(list(argv))
        except SystemExit as exc:
            return exc.code

    child = isolated(go, timeout=timeout, memory=memory)
    return CliResult(list(argv), child.value, child.out, child.err, child.status, child.error)


def cli_outcome(res: CliResult) -> Outcome:
    """What a command line came to: accepted (0), refused (1, 2, 130 with one clear 错误 line), or worse."""
    from spatial.cli import EXIT_INTERNAL

    if res.status in {"timeout", "memory"}:
        return Outcome("hang", res.error)
    if res.status != "ok":
        return Outcome("traceback", res.error or res.status)
    if "Traceback" in res.err + res.out or res.code == EXIT_INTERNAL:
        return Outcome("traceback", res.err[-400:])
    if res.code == 0:
        return Outcome("accepted")
    lines = [ln for ln in res.err.splitlines() if "错误：" in ln]
    if res.code in (1, 2, 130) and len(lines) == 1:
        return Outcome("refused", lines[0].split("错误：", 1)[1])
    if res.code in (1, 2, 130):
        return Outcome("refused", res.err.strip() or "no message")  # counted as unclear by the tally
    return Outcome("wrong", f"exit status {res.code!r}: {res.err[-200:]}")


def snapshot(paths: Iterable[Path]) -> dict[str, tuple[object, ...]]:
    """What each path is now: kind, link target, mode, size, content hash (to tell what a case changed)."""
    import hashlib
    import stat as _stat

    out: dict[str, tuple[object, ...]] = {}
    for path in paths:
        try:
            st = os.lstat(path)
        except OSError:
            out[str(path)] = ("absent",)
            continue
        if _stat.S_ISLNK(st.st_mode):
            out[str(path)] = ("link", os.readlink(path))
        elif _stat.S_ISREG(st.st_mode):
            digest = hashlib.sha256(Path(path).read_bytes()).hexdigest() if st.st_size < 64 << 20 else st.st_size
            out[str(path)] = ("file", _stat.S_IMODE(st.st_mode), digest)
        else:
            out[str(path)] = ("special", _stat.S_IFMT(st.st_mode), st.st_rdev)
    return out


def leftovers(*folders: Path) -> list[str]:
    """Temporary files and folders of planatlas left in ``folders`` (recursively)."""
    found = []
    for folder in folders:
        for root, dirs, files in os.walk(folder):
            for name in dirs + files:
                if ".planatlas-" in name or name.startswith(("planatlas-upload-", "planatlas-export-",
                                                             "planatlas-eval-")):
                    found.append(os.path.join(root, name))
    return found


def _sweep_tree(root: Path) -> None:
    """What the next write in each folder does: remove temporaries whose process is gone."""
    from spatial._atomic import sweep_stale

    for folder, _, _ in os.walk(root):
        sweep_stale(folder)


class Workspace:
    """A folder with a store, files planatlas wrote, files it did not (a user's), and hostile paths."""

    def __init__(self, root: Path, store: Path) -> None:
        self.root = root
        self.pristine = root / "pristine"
        self.pristine.mkdir(parents=True, exist_ok=True)
        self.files = root / "files"
        self.base = root / "base"  # the files of the working command lines (tests/test_cli_errors.py)
        self.base.mkdir(parents=True, exist_ok=True)
        self.seed_store = store
        self.originals: dict[str, bytes] = {}
        self.builders: list[Callable[[], object]] = []
        self.reset()

    def reset(self) -> None:
        """Put every planted file back as it was (cases may change some with --force)."""
        import shutil

        shutil.rmtree(self.files, ignore_errors=True)
        self.files.mkdir(parents=True)
        self.store = self.files / "store.gpkg"
        shutil.copyfile(self.seed_store, self.store)
        self.foreign = {}
        for suffix, data in {".gpkg": self.seed_store.read_bytes(), ".geojson": b'{"mine": true}',
                             ".csv": b"my,own\n1,2\n", ".tif": b"II*\x00mine", ".zip": b"PK\x05\x06" + bytes(18),
                             ".kml": b"<kml/>", ".md": "我的笔记。".encode()}.items():
            path = self.files / f"users_own{suffix}"
            path.write_bytes(data)
            path.chmod(0o600)
            self.foreign[suffix] = path
        self.data_dir = self.root / "data"
        for build in self.builders:  # the hostile paths of the cases, as they were
            build()

    def protected(self) -> list[Path]:
        return [self.store, *self.foreign.values(), Path("/dev/null"), *sorted(self.files.iterdir())]


# --------------------------------------------------------------------------- categories: the command line


def _seed_store(scratch: Path) -> Path:
    from layers.build import build_all, write_build

    global _SEED_BUILD
    if _SEED_BUILD is None:
        _SEED_BUILD = build_all()
    return write_build(_SEED_BUILD, scratch / "seed.gpkg")


_SEED_BUILD: Any = None


#: Options (by dest) that name a file: which the command reads, which it writes, which it may do both to.
_PATH_DESTS = {"file", "store", "report", "network", "population", "out", "distance_tif", "clip_file"}
_OUT_DESTS = {"out", "distance_tif"}
#: The suffix of a pool when the working command line gives no value to copy it from.
_DEFAULT_SUFFIX = {"report": ".md", "network": ".osm", "population": ".tif", "store": ".gpkg",
                   "clip_file": ".geojson", "file": ".csv", "out": ".gpkg", "distance_tif": ".tif"}


#: Options added to a working command line to keep a case short (the same command, a coarser run).
_QUICKER = {"evaluate": ["--method", "buffer", "--cell", "1000"]}


def working_lines(store: Path, folder: Path) -> dict[str, list[str]]:
    """A working command line for every subcommand: the table of ``tests/test_cli_errors.py``
    (a new subcommand must add one there), made quicker where an option allows it."""
    if str(ROOT / "tests") not in sys.path:  # the test modules import their helpers as top-level modules
        sys.path.append(str(ROOT / "tests"))
    from tests.test_cli_errors import _good

    return {cmd: [*argv, *_QUICKER.get(cmd, [])] for cmd, argv in _good(store, folder).items()}


def _subparsers() -> dict[str, Any]:
    import argparse

    from spatial.cli import build_parser

    action = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def _suffix(value: str | None, dest: str) -> str:
    if value is None:
        return _DEFAULT_SUFFIX[dest]
    name = Path(value).name.lower()
    if name.endswith((".osm.pbf", ".pbf")):
        return ".osm"
    return Path(value).suffix.lower()


def _value_of(argv: list[str], action: Any) -> tuple[int | None, str | None]:
    """Where the working command line gives ``action`` a value, and the value."""
    if action.option_strings:
        for flag in action.option_strings:
            if flag in argv[:-1]:
                i = argv.index(flag) + 1
                return i, argv[i]
        return None, None
    # the positional file: the first argument after the subcommand that is not an option or its value
    i = 1
    while i < len(argv):
        if argv[i].startswith("--"):
            i += 2
            continue
        return i, argv[i]
    return None, None


def _updates_its_store(sub: Any) -> bool:
    """Whether a subcommand changes the store it is given (an import: that is its job)."""
    return any(a.dest == "store" and ("新建" in (a.help or "")) for a in sub._actions) or sub.prog.endswith(
        "import-places")


def _cli_pools(ws: Workspace, rng: random.Random) -> Callable[[], tuple[dict[str, dict[str, str]],
                                                                       dict[str, dict[str, str]]]]:
    """A maker of the hostile paths (inputs and outputs by suffix), made again after every case."""
    report = inputs.SEED_REPORT
    reports = {
        "big5 report": report.encode("big5", "replace"),
        "utf-32 report": report.encode("utf-32"),
        "utf-16 no bom": report.encode("utf-16-le"),
        "3 MB report": (report * 50).encode()[: 3 << 20],
        "vrt as report": inputs.PASSWD_VRT,
    }
    damage = rng.choice(inputs.STORE_DAMAGE)
    damage_seed = rng.random()
    suffixes_in = (".md", ".gpkg", ".osm", ".tif", ".csv", ".geojson")
    suffixes_out = (".gpkg", ".geojson", ".csv", ".kml", ".zip", ".tif", "")

    def make() -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
        for name, data in reports.items():
            (ws.files / f"{name.replace(' ', '_')}.md").write_bytes(data)
        pop_outside = inputs.small_geotiff(ws.files / "pop_outside.tif", origin=inputs.RASTER_ORIGINS["beijing"])
        pop_sparse = inputs.sparse_geotiff(ws.files / "pop_sparse.tif", width=200_000, height=200_000)
        for suffix in (".tif", ".gpkg", ".geojson", ".csv", ".osm"):
            (ws.files / f"vrt{suffix}").write_bytes(inputs.PASSWD_VRT)
        damaged = inputs.damage_store(ws.store, ws.files / "damaged.gpkg", damage, random.Random(damage_seed))
        planted = {"store": ws.store, "users own file": ws.foreign[".gpkg"]}
        pool_in = {suffix: inputs.hostile_paths(ws.files / f"in{suffix.replace('.', '_')}", suffix=suffix,
                                                planted=planted) for suffix in suffixes_in}
        pool_in[".md"].update({k: str(ws.files / f"{k.replace(' ', '_')}.md") for k in reports})
        pool_in[".tif"].update({"outside the city": str(pop_outside), "sparse 200000 x 200000": str(pop_sparse)})
        pool_in[".gpkg"]["damaged store"] = str(damaged)
        for suffix in (".tif", ".gpkg", ".geojson", ".csv", ".osm"):
            pool_in[suffix][f"vrt named {suffix}"] = str(ws.files / f"vrt{suffix}")
        pool_out = {suffix: inputs.hostile_paths(ws.files / f"out{suffix.replace('.', '_')}", suffix=suffix,
                                                 planted={"store": ws.store, "users own file": ws.foreign.get(
                                                     suffix, ws.foreign[".gpkg"])})
                    for suffix in suffixes_out}
        return pool_in, pool_out

    return make


def _cli_cases(ws: Workspace, rng: random.Random, n: int) -> list[tuple[list[str], set[str]]]:
    """Command lines with one hostile path each (and --force now and then), with the paths they may change.

    Generated from the parser: every subcommand, every option that names a
    file (a new subcommand is covered as soon as ``tests/test_cli_errors.py``
    has a working command line for it), each given every kind of hostile path.
    """
    make = _cli_pools(ws, rng)
    pool_in, pool_out = make()
    ws.builders.append(make)
    store = str(ws.store)
    good = working_lines(ws.store, ws.base)
    # commands whose working line writes a new store of its own: import into the workspace's store instead
    new = str(ws.files / "new")
    every: list[tuple[str, Any, str, str]] = []
    for cmd, sub in _subparsers().items():
        base = good.get(cmd)
        if base is None:
            continue
        for action in sub._actions:
            if action.dest not in _PATH_DESTS:
                continue
            _, value = _value_of(base, action)
            suffix = _suffix(value, action.dest)
            writes = action.dest in _OUT_DESTS
            pool = pool_out.get(suffix, pool_out[".gpkg"]) if writes else pool_in.get(suffix, pool_in[".csv"])
            every += [(cmd, action, name, path) for name, path in pool.items()]
    rng.shuffle(every)
    subs = _subparsers()
    cases: list[tuple[list[str], set[str]]] = []
    for cmd, action, _name, value in every[:n]:
        argv = list(good[cmd])
        i, _ = _value_of(argv, action)
        if i is not None:
            argv[i] = value
        elif action.option_strings:
            argv += [action.option_strings[-1], value]
        else:  # a positional file the working line does without (import-population --dasymetric)
            if "--dasymetric" in argv:
                k = argv.index("--dasymetric")
                del argv[k:k + 2]
            argv.insert(1, value)
        if action.dest == "network":
            argv += ["--method", "network"]
        updates = _updates_its_store(subs[cmd])
        force = rng.random() < 0.3 and any(a.dest == "force" for a in subs[cmd]._actions)
        if force:
            argv.append("--force")
        may_change: set[str] = set()
        outs = [argv[j + 1] for j, a in enumerate(argv[:-1]) if a in ("--out", "--distance-tif")]
        if force:  # --force may replace what the outputs name (and what the links there point at)
            for out in outs:
                may_change |= {out, os.path.realpath(out), str(Path(out).with_suffix(".csv")),
                               os.path.realpath(Path(out).with_suffix(".csv"))}
        if updates:  # an import updates the store it is given: that is its job (when it is a whole store)
            _, given = _value_of(argv, next(a for a in subs[cmd]._actions if a.dest == "store"))
            if given is not None:
                may_change |= {given, os.path.realpath(given)}
        cases.append((argv, may_change))
    # two outputs to one path, and the store as an output, whatever the force
    osm = ROOT / "tests" / "data" / "net_tiny.osm"
    cases += [
        (["coverage", "--layer", "parks", "--preset", "park-500m", "--store", store, "--out", new + "2.gpkg",
          "--distance-tif", new + "2.tif", "--force"], {new + "2.gpkg", new + "2.csv", new + "2.tif"}),
        (["export", "--layer", "parks", "--out", store, "--store", store, "--force"], set()),
        (["coverage", "--layer", "parks", "--preset", "park-500m", "--store", store, "--out", store, "--force"],
         set()),
        (["coverage", "--layer", "parks", "--method", "network", "--network", str(osm), "--preset", "park-500m",
          "--store", store, "--out", str(osm.with_suffix(".gpkg"))], set()),
        (["import-units", store, "--store", store, "--force"], set()),
    ]
    return cases


def cat_cli(n: int, rng: random.Random, scratch: Path) -> Tally:
    """The command line: every subcommand with a hostile path in each option (devices, FIFOs, links, the store …)."""
    tally = Tally("command line: hostile paths", tracks_data=True)
    with timed(tally):
        ws = Workspace(scratch / "ws", _seed_store(scratch))
        env = dict(os.environ, PLANATLAS_DATA_DIR=str(ws.data_dir))
        cases = _cli_cases(ws, rng, n)
        for argv, may_change in cases:

            def case(argv: list[str] = argv, may_change: set[str] = may_change) -> Outcome:
                protected = ws.protected()
                before = snapshot(protected)
                res = run_cli(argv, env=env, cwd=ws.files)
                after = snapshot(protected)
                lost = [f"{p} changed" for p in before
                        if before[p] != after.get(p) and p not in may_change and os.path.realpath(p) not in may_change]
                outcome = cli_outcome(res)
                if outcome.status == "hang":  # killed at its time limit: the next write sweeps what it left
                    _sweep_tree(ws.files)
                lost += [f"left {p}" for p in leftovers(ws.files)]
                outcome.lost += lost
                ws.reset()
                return outcome

            tally.run(case, label=" ".join(argv))
    return tally


def cat_environment(n: int, rng: random.Random, scratch: Path) -> Tally:
    """The environment: PLANATLAS_DATA_DIR, XDG_DATA_HOME, HOME and TMPDIR pointing anywhere, for every subcommand."""
    tally = Tally("environment", tracks_data=True)
    with timed(tally):
        store = _seed_store(scratch)
        base = scratch / "env"
        base.mkdir()
        (base / "a_file").write_text("x")
        os.mkfifo(base / "fifo")
        damaged_dir = base / "damaged"
        damaged_dir.mkdir()
        inputs.damage_store(store, damaged_dir / "planatlas.gpkg", "truncate", rng)
        values = {
            "a file": str(base / "a_file"),
            "under a file": str(base / "a_file" / "data"),
            "a fifo": str(base / "fifo"),
            "/dev/null": "/dev/null",
            "/proc": "/proc/planatlas",
            "/sys": "/sys/planatlas",
            "relative": "relative/data",
            "tilde of nobody": "~nobody_here/data",
            "very long": str(base / ("长" * 90)) + "/" + "d" * 250,
            "control characters": str(base / "ctl\x1b[2J\u202e"),
            "holds a damaged store": str(damaged_dir),
            "empty": "",
        }
        commands = [
            ["layers"], ["presets"], ["geocode", "历下区"],
            ["export", "--layer", "parks", "--format", "geojson", "--out", str(base / "out.geojson"), "--force"],
            ["coverage", "--layer", "parks", "--preset", "park-500m", "--store", str(store)],
        ]
        # and every subcommand's working command line (generated from the parser; the demo builds a city)
        (base / "lines").mkdir()
        import shutil

        # on a copy: an import updates the store it is given (its job); the seed store must not change
        good = working_lines(Path(shutil.copyfile(store, base / "lines" / "store.gpkg")), base / "lines")
        commands += [[*good[c], *(["--force"] if "--out" in good[c] else [])] for c in _subparsers()
                     if c in good and c not in ("demo", "presets", "geocode")]
        variables = ["PLANATLAS_DATA_DIR", "PLANATLAS_DATA_DIR", "XDG_DATA_HOME", "TMPDIR"]
        cases = [(var, name, cmd) for var in variables for name in values for cmd in commands]
        rng.shuffle(cases)
        for var, name, cmd in cases[:n]:
            env = {k: v for k, v in os.environ.items() if k not in ("PLANATLAS_DATA_DIR", "XDG_DATA_HOME")}
            env["HOME"] = str(base / "home")
            if var != "PLANATLAS_DATA_DIR":
                env["PLANATLAS_DATA_DIR"] = str(base / "ok_data")
            env[var] = values[name]

            def case(env: dict[str, str] = env, cmd: list[str] = cmd) -> Outcome:
                before = snapshot([store, base / "a_file", Path("/dev/null")])
                outcome = cli_outcome(run_cli(cmd, env=env, cwd=base))
                lost = [f"{p} changed" for p, v in snapshot([store, base / "a_file", Path("/dev/null")]).items()
                        if before[p] != v]
                outcome.lost += lost + [f"left {p}" for p in leftovers(base)]
                return outcome

            tally.run(case, label=f"{var}={name}: planatlas {' '.join(cmd[:1])}")
    return tally


# --------------------------------------------------------------------------- categories: the store on disk


def cat_damaged_store(n: int, rng: random.Random, scratch: Path) -> Tally:
    """Damaged stores (cut short, garbage, zeroed pages, dropped tables, garbage geometry) under every reader."""
    from spatial import store as store_mod

    tally = Tally("damaged stores", tracks_data=True)
    with timed(tally):
        seed = _seed_store(scratch)
        out = scratch / "out"
        out.mkdir()
        readers = ["layers", "export", "coverage", "library", "default store"]
        cases = [(how, reader) for how in inputs.STORE_DAMAGE for reader in readers]
        rng.shuffle(cases)
        for k, (how, reader) in enumerate(cases[:n]):
            folder = scratch / f"damaged{k}"
            folder.mkdir()
            path = inputs.damage_store(seed, folder / "planatlas.gpkg", how, rng)
            env = dict(os.environ, PLANATLAS_DATA_DIR=str(folder))

            def case(path: Path = path, reader: str = reader, env: dict[str, str] = env,
                     folder: Path = folder) -> Outcome:
                before = snapshot([path])
                if reader == "library":
                    def read_everything() -> Outcome:
                        layers = store_mod.read_all(path)
                        unreadable = sum(int(f.attrs.get(store_mod.UNREADABLE_ATTR, 0)) for f in layers.values())
                        return Outcome("accepted" if how != "garbage geometry" or unreadable else "wrong",
                                       "" if how != "garbage geometry" or unreadable else "damage not counted")
                    outcome = child_outcome(isolated(lambda: _library_outcome(read_everything)))
                elif reader == "default store":
                    usable = _store_is_whole(path)
                    res = run_cli(["export", "--layer", "parks", "--out", str(folder / "p.geojson")], env=env)
                    outcome = cli_outcome(res)
                    healed = _store_is_whole(path) and "已损坏，已从内置报告离线重建" in res.err
                    if not usable and not healed:
                        outcome = Outcome("wrong", f"a damaged default store was not rebuilt: {res.err[-200:]}")
                    kept = folder / "planatlas.damaged.gpkg"
                    if healed and snapshot([kept])[str(kept)][1:] != before[str(path)][1:]:
                        outcome.lost.append("the damaged default store was not kept aside")
                    return outcome
                else:
                    argv = {"layers": ["layers"],
                            "export": ["export", "--layer", rng.choice(["parks", "report_items", "districts"]),
                                       "--out", str(folder / "x.geojson")],
                            "coverage": ["coverage", "--layer", "parks", "--preset", "park-500m"]}[reader]
                    res = run_cli([*argv, "--store", str(path)], env=env)
                    outcome = cli_outcome(res)
                    if how == "garbage geometry" and outcome.status == "accepted" and reader == "export" \
                            and "几何" not in res.out + res.err:
                        outcome = Outcome("wrong", "garbage geometry exported without a word")
                    if outcome.status == "refused" and "build --out" not in outcome.message \
                            and "planatlas build" not in outcome.message and "损坏" in outcome.message:
                        outcome = Outcome("wrong", f"no advice on rebuilding: {outcome.message[:120]}")
                if snapshot([path]) != before:
                    outcome.lost.append("the store given by path was changed")
                return outcome

            tally.run(case, label=f"{how} store, read by {reader}")
    return tally


def _store_is_whole(path: Path) -> bool:
    """Whether a store passes planatlas's own check (in a child: the check caches what it saw)."""
    from spatial import store as store_mod

    child = isolated(lambda: _library_outcome(lambda: (store_mod.check_store(path), Outcome("accepted"))[1]))
    return child.status == "ok" and isinstance(child.value, Outcome) and child.value.status == "accepted"


def _library_outcome(call: Callable[[], Outcome]) -> Outcome:
    from spatial._errors import PlanatlasError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return call()
    except PlanatlasError as exc:
        return Outcome("refused", str(exc))


#: What a message about a full disk (or a file grown beyond the system's limit) must say.
_FULL_WORDS = ("磁盘", "文件超过系统允许的大小", "写入失败")


def cat_disk_full(n: int, rng: random.Random, scratch: Path) -> Tally:
    """A full disk (writes failing beyond a random size) under every writer: the old file stays, nothing is left."""
    import geopandas as gpd
    import numpy as np

    from spatial import online
    from spatial import store as store_mod
    from spatial._atomic import write_bytes
    from spatial.io import export_layer
    from spatial.population import census_surface

    tally = Tally("disk full", tracks_data=True)
    with timed(tally):
        seed = _seed_store(scratch)
        layers = store_mod.read_all(seed)
        big = gpd.GeoDataFrame({"name": ["x" * 50] * 3000}, geometry=gpd.points_from_xy(
            np.linspace(116.9, 117.2, 3000), np.linspace(36.6, 36.7, 3000)), crs="EPSG:4326")
        surface = census_surface(layers["districts"], cell_m=500)
        blob = rng.randbytes(300_000)
        exports = {"geojson": "geojson", "gpkg": "gpkg", "shp": "zip", "kml": "kml", "csv": "csv"}

        def writer(name: str, folder: Path) -> tuple[Path, Callable[[], object]]:
            if name == "write_store":
                return folder / "s.gpkg", lambda: store_mod.write_store(
                    {"parks": layers["parks"], "report_items": layers["report_items"], "big": big}, folder / "s.gpkg")
            if name == "update_store":
                return folder / "s.gpkg", lambda: store_mod.update_store(folder / "s.gpkg", add={"big": big})
            if name.startswith("export "):
                fmt = name.split()[1]
                path = folder / f"e.{exports[fmt]}"
                return path, lambda: export_layer(layers["report_items"], path, fmt=fmt, layer="items")
            if name == "geotiff":
                return folder / "p.tif", lambda: surface.to_geotiff(folder / "p.tif")
            if name == "cache bytes":
                return folder / "c.bin", lambda: write_bytes(folder / "c.bin", blob)
            path = online._cache_file("geocode", "battery")
            return path, lambda: online.write_cache("geocode", {"big": "x" * 200_000}, "battery")

        names = ["write_store", "update_store", *(f"export {f}" for f in exports), "geotiff", "cache bytes",
                 "online cache"]
        cases = [(name, limit) for name in names for limit in (1, 4096, 65536, 300_000, 1_000_000)]
        rng.shuffle(cases)
        for k, (name, limit) in enumerate(cases[:n]):
            folder = scratch / f"full{k}"
            folder.mkdir()
            os.environ["PLANATLAS_DATA_DIR"] = str(folder / "data")
            target, call = writer(name, folder)
            if name in ("write_store", "update_store"):
                store_mod.write_store({"parks": layers["parks"]}, target)  # the previous store
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(b"previous")

            def case(call: Callable[[], object] = call, limit: int = limit, folder: Path = folder,
                     target: Path = target) -> Outcome:
                before = snapshot([target])
                outcome = child_outcome(isolated(
                    lambda: _library_outcome(lambda: (call(), Outcome("accepted"))[1]), file_size=limit))
                if outcome.status != "accepted" and snapshot([target]) != before:
                    outcome.lost.append(f"{target.name} changed by a failed write")
                outcome.lost += [f"left {p}" for p in leftovers(folder)]
                if outcome.status == "refused" and not any(w in outcome.message for w in _FULL_WORDS):
                    return Outcome("wrong", f"the message does not say the write failed: {outcome.message[:160]}",
                                   outcome.lost)
                return outcome

            tally.run(case, label=f"{name}, writes fail beyond {limit} bytes")
        if _can_mount_tmpfs(scratch):  # and on a real full file system, where one can be made
            for name in rng.sample(_REAL_FULL_WRITERS, k=min(len(_REAL_FULL_WRITERS), max(1, n // 8))):
                tally.run(lambda name=name: _real_full_disk(name, seed, scratch, rng.randrange(0, 200_000)),
                          label=f"{name} on a full tmpfs")
    return tally


#: Writers tried on a real full file system (a small tmpfs in a private mount namespace).
_REAL_FULL_WRITERS = ["write_store", "export geojson", "export gpkg", "export shp", "export csv", "cli export"]

_FULL_SCRIPT = textwrap.dedent("""
    import json, os, sys, warnings
    warnings.simplefilter("ignore")
    name, seed, folder, free = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    os.environ["PLANATLAS_DATA_DIR"] = os.path.join(folder, "data")
    from spatial import store
    from spatial.io import export_layer
    from spatial._errors import PlanatlasError
    items = store.read_layer("report_items", path=seed)
    target = os.path.join(folder, {"write_store": "s.gpkg", "cli export": "c.geojson"}.get(
        name, "e." + {"geojson": "geojson", "gpkg": "gpkg", "shp": "zip", "csv": "csv"}.get(name.split()[-1], "x")))
    with open(target, "wb") as fh:
        fh.write(b"previous")
    vfs = os.statvfs(folder)
    room = vfs.f_bavail * vfs.f_frsize
    with open(os.path.join(folder, "filler"), "wb") as fh:
        fh.write(bytes(max(room - free, 0)))
    status, message = "accepted", ""
    try:
        if name == "write_store":
            store.write_store({"report_items": items}, target)
        elif name == "cli export":
            from spatial.cli import main
            import io, contextlib
            err = io.StringIO()
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                code = main(["export", "--layer", "report_items", "--out", target, "--store", seed, "--force"])
            if code != 0:
                status, message = "refused", err.getvalue().split("错误：", 1)[-1].strip()
        else:
            export_layer(items, target, fmt=name.split()[-1], layer="items")
    except PlanatlasError as exc:
        status, message = "refused", str(exc)
    except Exception as exc:
        status, message = "traceback", repr(exc)
    with open(target, "rb") as fh:
        kept = fh.read() == b"previous"
    left = [n for n in os.listdir(folder) if ".planatlas-" in n]
    print(json.dumps({"status": status, "message": message, "kept": kept, "left": left}))
""")


def _can_mount_tmpfs(scratch: Path) -> bool:
    """Whether a small tmpfs can be mounted in a private mount namespace (root with ``unshare``)."""
    import shutil

    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    probe = scratch / "tmpfs_probe"
    probe.mkdir(exist_ok=True)
    proc = subprocess.run(["unshare", "-m", "sh", "-c", f"mount -t tmpfs -o size=64k tmpfs '{probe}'"],
                          capture_output=True, timeout=30)
    return proc.returncode == 0


def _real_full_disk(name: str, seed: Path, scratch: Path, free: int) -> Outcome:
    """``name`` writing onto a 4 MB tmpfs filled up to ``free`` bytes; the outcome the child reports."""
    folder = scratch / f"tmpfs_{name.replace(' ', '_')}_{free}"
    folder.mkdir()
    local_seed = scratch / "seed_for_tmpfs.gpkg"
    if not local_seed.exists():
        import shutil

        shutil.copyfile(seed, local_seed)
    script = (f"mount -t tmpfs -o size=4m tmpfs '{folder}' && exec '{sys.executable}' -c \"$0\" \"$@\"")
    proc = subprocess.run(["unshare", "-m", "sh", "-c", script, _FULL_SCRIPT, name, str(local_seed), str(folder),
                           str(free)], capture_output=True, text=True, timeout=180,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)), cwd=str(ROOT))
    try:
        got = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return Outcome("traceback", f"no answer: {proc.stderr[-300:]}")
    lost = ([] if got["kept"] or got["status"] == "accepted" else ["the previous file"]) + [
        f"left {n}" for n in got["left"]]
    if got["status"] == "refused" and not any(w in got["message"] for w in _FULL_WORDS):
        return Outcome("wrong", f"the message does not say the disk is full: {got['message'][:160]}", lost)
    return Outcome(got["status"], got["message"], lost)


# --------------------------------------------------------------------------- categories: signals


_SIGNALS = {"SIGTERM": signal.SIGTERM, "SIGINT": signal.SIGINT, "SIGKILL": signal.SIGKILL}


def _python_cli(argv: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "spatial.cli", *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(env, PYTHONPATH=str(ROOT)), cwd=str(ROOT))


def cat_signals(n: int, rng: random.Random, scratch: Path) -> Tally:
    """SIGTERM, SIGINT and SIGKILL at a random moment of a build, an export and an upload."""
    from spatial import store as store_mod
    from spatial.io import read_upload

    tally = Tally("signals", tracks_data=True)
    with timed(tally):
        seed = _seed_store(scratch)
        points = inputs.long_csv(400_000, rng)  # about 12 MB: reading it takes a while
        cases = [(what, sig) for what in ("build", "export", "upload") for sig in _SIGNALS]
        rng.shuffle(cases)
        for k, (what, sig_name) in enumerate(cases[:n]):
            folder = scratch / f"sig{k}"
            folder.mkdir()
            env = dict(os.environ, PLANATLAS_DATA_DIR=str(folder / "data"))
            target = folder / "planatlas.gpkg"
            import shutil

            shutil.copyfile(seed, target)
            delay = rng.uniform(0.3, 4.0)

            def case(what: str = what, sig_name: str = sig_name, folder: Path = folder, target: Path = target,
                     env: dict[str, str] = env, delay: float = delay) -> Outcome:
                sig = _SIGNALS[sig_name]
                before = snapshot([target])
                expect_state = store_state(target)
                if what == "upload":
                    tmp = folder / "tmp"
                    tmp.mkdir()

                    def reader() -> Outcome:
                        tempfile.tempdir = str(tmp)
                        if sig != signal.SIGKILL:  # as the CLI (and a server that cleans up) does
                            from spatial.cli import _raise_terminated

                            signal.signal(sig, _raise_terminated)
                        try:
                            read_upload(points, filename="points.csv")
                        except KeyboardInterrupt:
                            return Outcome("accepted", "interrupted")
                        return Outcome("accepted")

                    import multiprocessing

                    ctx = multiprocessing.get_context("fork")
                    proc = ctx.Process(target=reader)
                    proc.start()
                    time.sleep(delay / 4)
                    if proc.pid is not None:
                        with contextlib.suppress(ProcessLookupError):
                            os.kill(proc.pid, sig)
                    proc.join(60)
                    if proc.is_alive():
                        proc.kill()
                        proc.join()
                        return Outcome("hang", "the reader did not stop")
                    if sig == signal.SIGKILL:  # nothing can clean up after kill -9: the next upload sweeps
                        old = tempfile.tempdir
                        tempfile.tempdir = str(tmp)
                        try:
                            read_upload(inputs.long_csv(3, rng), filename="next.csv")
                        finally:
                            tempfile.tempdir = old
                    left = [f"left {p}" for p in leftovers(tmp)]
                    return Outcome("accepted", "", left)
                argv = (["build", "--out", str(target), "--force"] if what == "build" else
                        ["export", "--layer", "report_items", "--format", "gpkg", "--out", str(folder / "items.gpkg"),
                         "--store", str(target), "--force"])  # the user's file may be replaced: never half-written
                if what == "export":
                    (folder / "items.gpkg").write_bytes(b"SQLite format 3\x00 previous")
                    shutil.copyfile(target, folder / "keep.gpkg")
                proc = _python_cli(argv, env)
                time.sleep(delay)
                proc.send_signal(sig)
                try:
                    _, err = proc.communicate(timeout=120)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.communicate()
                    return Outcome("hang", f"{what} did not end after {sig_name}")
                lost = []
                if what == "build":
                    state = store_state(target)
                    if snapshot([target]) != before and (state is None or set(state) != set(expect_state or {})):
                        lost.append("the store is neither the old one nor a complete new one")
                elif snapshot([folder / "items.gpkg"])[str(folder / "items.gpkg")][0] != "file":
                    lost.append("the export target is gone")
                if sig == signal.SIGKILL:  # the next write in the folder sweeps what kill -9 left
                    store_mod.write_store({"x": inputs.good_frame(1)}, folder / "next.gpkg")
                lost += [f"left {p}" for p in leftovers(folder)]
                if "Traceback" in err:
                    return Outcome("traceback", err[-300:], lost)
                if sig != signal.SIGKILL and proc.returncode not in (0, 130, -sig):
                    return Outcome("wrong", f"exit status {proc.returncode} after {sig_name}: {err[-200:]}", lost)
                return Outcome("accepted", "", lost)

            tally.run(case, label=f"{sig_name} {delay:.1f} s into {what}")
    return tally


# --------------------------------------------------------------------------- categories: the app's pages

_APP = str(ROOT / "streamlit_app.py")
_PAGE_PREFIXES = ("无法导入 ", "分析失败：", "无法打开或构建数据库：", "无法读取", "无法保存上传的")


def _app_messages(at: Any) -> list[str]:
    """The errors a page shows, each without the page's own Chinese prefix (so the library's message is judged)."""
    out = []
    for e in at.error:
        text = str(e.value)
        for prefix in _PAGE_PREFIXES:
            if text.startswith(prefix):
                text = text.split("：", 1)[1] if "：" in text else text
                break
        out.append(text)
    return out


def _uploads_of(store: Path, filename: str) -> int:
    """How many layers of the store were imported from a file of this name (0 when it cannot be read)."""
    from spatial._errors import PlanatlasError
    from spatial.intake import imported_layers

    try:
        table = imported_layers(store)
    except PlanatlasError:
        return 0
    return int((table["file"] == filename).sum()) if "file" in table else 0


def _app_case(action: str, payload: tuple[str, bytes], data_dir: Path, seed: Path, canary: str) -> Outcome:
    """One visit of the app: an upload, an analysis with an uploaded raster, or a damaged store between reruns."""
    import shutil

    from streamlit.testing.v1 import AppTest

    os.environ["PLANATLAS_DATA_DIR"] = str(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    store = data_dir / "planatlas.gpkg"
    if not store.exists():
        shutil.copyfile(seed, store)
    name, data = payload
    at = AppTest.from_file(_APP, default_timeout=240)
    at.run()
    shown: list[str] = []
    if action == "upload":
        at.switch_page("app_pages/page_upload.py").run()
        at.file_uploader[0].upload(name, data, "application/octet-stream")
        before = _uploads_of(store, name)
        at.run()  # the datum is asked once a file is chosen (guessed from it when it can be)
        for box in [b for b in at.selectbox if b.label.startswith("坐标系") and b.value is None]:
            box.set_value("WGS84")
        for again in [c for c in at.checkbox if c.label == "仍然再导入一次"]:
            again.check()
        at.run()
        next(b for b in at.button if b.key == "w_up_import").click().run()
        shown = _app_messages(at)
        uploaded = _uploads_of(store, name) > before  # uploads are layers of the store
        at.switch_page("app_pages/page_map.py").run()
        at.run()
        if not shown and not uploaded:
            return Outcome("wrong", "neither imported nor refused")
    elif action == "population":
        at.switch_page("app_pages/page_coverage.py").run()
        next(r for r in at.radio if r.label == "人口数据").set_value("geotiff").run()
        at.file_uploader[-1].upload(name, data, "image/tiff")
        at.run()
        next(b for b in at.button if b.label == "运行分析").click().run()
    else:  # the store is damaged while the app runs: the next rerun must heal
        how = name
        inputs.damage_store(seed, store, how, random.Random(how))
        at.run()
        at.switch_page("app_pages/page_map.py").run()
    if at.exception:
        return Outcome("traceback", " | ".join(str(e.value)[:300] for e in at.exception))
    texts = [str(getattr(el, "value", "")) for kind in ("markdown", "caption", "error", "warning", "success", "info")
             for el in getattr(at, kind)]
    if any(canary in t for t in texts):
        return Outcome("wrong", "the canary file's content is shown on a page")
    messages = shown + _app_messages(at)
    if action == "damage":
        ok = store_state(store) is not None
        return Outcome("accepted" if ok else "wrong", "" if ok else "the damaged store was not rebuilt")
    if action == "population" and any("nan" in t.lower() for t in texts if "%" in t):
        return Outcome("wrong", "a coverage figure of nan %")
    if messages:
        return Outcome("refused", messages[0])
    return Outcome("accepted")


def cat_app(n: int, rng: random.Random, scratch: Path) -> Tally:
    """The app's pages: hostile uploads, rasters of another place or of absurd size, a store damaged mid-session."""
    pytest_streamlit = __import__("importlib").util.find_spec("streamlit")
    tally = Tally("app pages", tracks_data=True)
    if pytest_streamlit is None:
        return tally
    with timed(tally):
        seed = _seed_store(scratch)
        secret, canary = inputs.secret_file(scratch)
        files = scratch / "app_files"
        files.mkdir()
        frame = inputs.random_frame(rng, "polygon")
        uploads: list[tuple[str, bytes]] = [
            ("vrt.geojson", inputs.vrt_reading(str(secret))),
            ("gdalg.json", inputs.gdalg_reading(str(secret))),
            ("nested.geojson", inputs.nested_collection_geojson(25)),
            ("wide.csv", inputs.wide_csv(2000)),
            ("points.csv", inputs.long_csv(30_000, rng)),
            ("damaged.gpkg", inputs.damage(rng, inputs.file_bytes(frame, "gpkg")[0])),
            ("noise.zip", inputs.noise_file(rng)[0]),
            ("bomb.zip", inputs.zip_attacks(inputs.file_bytes(frame, "shp")[0])["zip bomb (ratio)"]),
            ("wkt.csv", ("id,wkt\n1," + '"' + inputs.nested_collection_wkt(60) + '"\n').encode()),
            ("ok.zip", inputs.file_bytes(frame, "shp")[0]),
        ]
        rasters = [(f"{place}.tif", inputs.small_geotiff(files / f"{place}.tif", origin=origin).read_bytes())
                   for place, origin in inputs.RASTER_ORIGINS.items()]
        rasters += [("sparse.tif", inputs.sparse_geotiff(files / "sparse.tif", width=100_000, height=100_000)
                     .read_bytes()), ("vrt.tif", inputs.vrt_reading(str(secret)))]
        damages = [(how, b"") for how in inputs.STORE_DAMAGE]
        cases = ([("upload", u) for u in uploads] + [("population", r) for r in rasters]
                 + [("damage", d) for d in damages])
        rng.shuffle(cases)
        for k, (action, payload) in enumerate(cases[:n]):
            tally.run(in_child(_app_case, action, payload, scratch / f"app{k}", seed, canary, timeout=400),
                      label=f"{action}: {payload[0]}")
    return tally


# --------------------------------------------------------------------------- categories: large inputs


def _map_bytes(frame: Any) -> int:
    """Bytes of GeoJSON a live map of ``frame`` sends to the browser."""
    import folium

    from spatial import webmap

    live = webmap.make_live_map({"upload": frame})
    return sum(len(json.dumps(e.data, ensure_ascii=False)) for g in live.groups for e in webmap.assets.walk(g)
               if isinstance(e, folium.GeoJson))


def cat_large_inputs(n: int, rng: random.Random, scratch: Path) -> Tally:
    """Inputs too large or too deep: reports of megabytes and from /dev/zero, wide and long tables, huge rasters,
    maps of 200,000 points, geometries nested hundreds deep. Each must end quickly, within memory, clearly."""
    import geopandas as gpd
    import numpy as np
    import shapely

    from layers.build import build_all
    from spatial.io import export_bytes, read_upload
    from spatial.population import load_population
    from spatial.report import read_report

    tally = Tally("large inputs", tracks_data=True)
    folder = scratch / "large"
    folder.mkdir()
    fifo = folder / "report.md"
    os.mkfifo(fifo)

    def report_of(mb: float) -> Path:
        path = folder / f"report_{mb}.md"
        text = inputs.SEED_REPORT
        path.write_bytes((text * (int(mb * 1e6) // len(text.encode()) + 1)).encode()[: int(mb * 1e6)]
                         .decode("utf-8", "ignore").encode())
        return path

    def upload(data: bytes, name: str) -> Outcome:
        result = read_upload(data, filename=name)
        ok = result.n_features >= 1
        for fmt in ("geojson", "gpkg", "shp", "kml", "csv"):  # accepted means usable everywhere
            export_bytes(result.frame, fmt, layer="upload")
        size = _map_bytes(result.frame)
        if size > 40 << 20:
            return Outcome("wrong", f"the map would send {size / 2**20:.0f} MB to the browser")
        return Outcome("accepted" if ok else "wrong")

    def drawn(frame: Any) -> Outcome:
        size = _map_bytes(frame)
        return Outcome("accepted" if size < 40 << 20 else "wrong", f"{size / 2**20:.0f} MB")

    def points(k: int) -> Any:
        g = np.random.default_rng(k)
        return gpd.GeoDataFrame({"name": [f"p{i}" for i in range(k)]}, geometry=gpd.points_from_xy(
            g.uniform(116.8, 117.3, k), g.uniform(36.5, 36.8, k)), crs="EPSG:4326")

    def big_polygon(vertices: int) -> Any:
        t = np.linspace(0, 2 * np.pi, vertices)
        ring = np.column_stack([117.0 + 0.1 * np.cos(t) * (1 + 0.01 * np.sin(50 * t)), 36.65 + 0.08 * np.sin(t)])
        return gpd.GeoDataFrame({"name": ["big"]}, geometry=[shapely.Polygon(ring)], crs="EPSG:4326")

    cases: list[tuple[str, Callable[[], object]]] = [
        ("report /dev/zero", lambda: read_report(Path("/dev/zero"))),
        ("report FIFO", lambda: read_report(fifo)),
        ("report 1 MB", lambda: build_all(report_of(1))),
        ("report 3 MB", lambda: read_report(report_of(3))),
        ("report 50 MB", lambda: read_report(report_of(50))),
        ("report text 30 MB", lambda: read_report(inputs.SEED_REPORT * 500)),
        ("csv 1,000,000 columns", lambda: upload(inputs.wide_csv(1_000_000), "wide.csv")),
        ("csv 5,000 columns", lambda: upload(inputs.wide_csv(5000), "wide.csv")),
        ("csv 900 columns", lambda: upload(inputs.wide_csv(900), "wide.csv")),
        ("csv 1,200,000 rows", lambda: upload(inputs.long_csv(1_200_000, rng), "long.csv")),
        ("csv 200,000 rows", lambda: upload(inputs.long_csv(200_000, rng), "long.csv")),
        ("geotiff sparse 200,000 x 200,000", lambda: load_population(
            inputs.sparse_geotiff(folder / "sparse.tif", width=200_000, height=200_000))),
        ("geotiff 6,000 x 6,000", lambda: load_population(
            inputs.sparse_geotiff(folder / "six.tif", width=6000, height=6000))),
        ("map 200,000 points", lambda: drawn(points(200_000))),
        ("map 20,000 points", lambda: drawn(points(20_000))),
        ("map polygon of 2,000,000 vertices", lambda: drawn(big_polygon(2_000_000))),
        *((f"wkt nested {d} deep", (lambda d=d: upload(
            ("id,wkt\n1,\"" + inputs.nested_collection_wkt(d) + "\"\n").encode(), "nested.csv")))
          for d in (3, 10, 40, 500, 20_000)),
        *((f"geojson nested {d} deep", (lambda d=d: upload(inputs.nested_collection_geojson(d), "nested.geojson")))
          for d in (3, 10, 30, 100, 2000)),
        ("geojson 20,000 properties", lambda: upload(json.dumps({"type": "FeatureCollection", "features": [{
            "type": "Feature", "geometry": {"type": "Point", "coordinates": [117.02, 36.66]},
            "properties": {f"k{i}": i for i in range(20_000)}}]}).encode(), "props.geojson")),
        ("zip of a 60 MB geojson", lambda: upload(inputs.zip_of({"big.geojson": b"{" + rng.randbytes(60 << 20)}),
                                                  "big.zip")),
    ]
    rng.shuffle(cases)
    with timed(tally):
        for name, call in cases[:n]:
            tally.run(in_child(call, timeout=90, memory=3 << 30), label=name)
    return tally


# --------------------------------------------------------------------------- categories: files that read other files


def cat_disclosure(n: int, rng: random.Random, scratch: Path) -> Tally:
    """Files that would make GDAL read another file of the server (VRT, GDALG, crs links, raster VRT, KML …)
    under every extension, bare and zipped, as uploads, rasters, networks and CLI paths: all refused, the
    other file's content never shown."""
    from spatial.io import list_layers, read_upload
    from spatial.network import load_network
    from spatial.population import load_population

    tally = Tally("uploads: files that read other files")
    secret, canary = inputs.secret_file(scratch)
    files = scratch / "disclosure"
    files.mkdir()

    def leak(*texts: object) -> bool:
        return any(canary in str(t) for t in texts)

    def upload(data: bytes, name: str, as_path: bool) -> Outcome:
        target: Any = data
        if as_path:
            target = files / name
            target.write_bytes(data)
        _, listing = _refused_or_raise(lambda: list_layers(target, filename=None if as_path else name))
        result, message = _refused_or_raise(lambda: read_upload(target, filename=None if as_path else name))
        if result is not None:
            frame = result.frame  # type: ignore[attr-defined]
            if leak(frame.to_string(), list(frame.columns), result.warnings):  # type: ignore[attr-defined]
                return Outcome("wrong", "the other file's content came back")
            return Outcome("wrong", "accepted a file that reads other files")
        if leak(message, listing):
            return Outcome("wrong", "the other file's content is in the message")
        return Outcome("refused", message or "")

    def other(call: Callable[[], object]) -> Outcome:
        result, message = _refused_or_raise(call)
        if result is not None:
            return Outcome("wrong", "accepted a file that reads other files")
        return Outcome("wrong" if leak(message) else "refused", message or "")

    cases: list[tuple[str, Callable[..., Outcome], tuple[object, ...]]] = []
    for kind, data in inputs.disclosure_files(secret, rng):
        stem = kind.replace(" ", "_")
        for ext in (".geojson", ".json", ".gpkg", ".csv", ".txt", ""):
            cases.append((f"{kind} uploaded as leak{ext}", upload, (data, f"leak{ext}", False)))
            cases.append((f"{kind} given as the path leak{ext}", upload, (data, f"leak_{stem}{ext}", True)))
            if ext:
                cases.append((f"{kind} as leak{ext} inside a zip", upload,
                              (inputs.zip_of({f"inner/leak{ext}": data}), "leak.zip", False)))
        path = files / f"{stem}.tif"
        path.write_bytes(data)
        cases.append((f"{kind} as a population raster .tif", other, (lambda path=path: load_population(path),)))
        for ext in (".gpkg", ".osm", ".graphml"):
            npath = files / f"{stem}_net{ext}"
            npath.write_bytes(data)
            cases.append((f"{kind} as a street network {ext}", other,
                          (lambda npath=npath: load_network(npath, use_cache=False),)))
    rng.shuffle(cases)
    with timed(tally), private_tempdir(scratch):
        for label, check, args in cases[: max(n, 1)]:
            tally.run(check, *args, label=label)
    return tally


# --------------------------------------------------------------------------- categories: report encodings


def cat_report_encodings(n: int, rng: random.Random, scratch: Path) -> Tally:
    """The real report (and slices of it) in every encoding planatlas may meet: read as written, or refused
    with the reason; never decoded into other characters and parsed."""
    from spatial.report import read_report

    tally = Tally("report encodings")

    def check(data: bytes, text: str, enc: str) -> object:
        result, message = _refused_or_raise(lambda: read_report(data))
        if result is None:
            return Outcome("refused", message or "")
        got = result.source  # type: ignore[attr-defined]
        return got.lstrip("\ufeff") == text.lstrip("\ufeff") or Outcome("wrong", f"{enc} decoded as other text")

    with timed(tally):
        for k in range(n):
            enc = inputs.REPORT_ENCODINGS[k % len(inputs.REPORT_ENCODINGS)]
            text = inputs.seed_fragment(rng) if k >= len(inputs.REPORT_ENCODINGS) else inputs.SEED_REPORT
            data = text.encode(enc, "replace")
            tally.run(check, data, data.decode(enc), enc)
    return tally


# --------------------------------------------------------------------------- the whole battery

#: Categories in the order of the report: (function, full size, quick size).
CATEGORIES: list[tuple[Callable[[int, random.Random, Path], Tally | list[Tally]], int, int]] = [
    (cat_report_text, 3000, 150),
    (cat_report_bytes, 3000, 150),
    (cat_report_encodings, 200, 22),
    (cat_quantities, 6000, 300),
    (cat_geocoder, 3000, 150),
    (cat_uploads, 500, 12),
    (cat_zip, 1, 1),
    (cat_disclosure, 1000, 40),
    (cat_export_names, 1, 1),
    (cat_store_writes, 100, 6),
    (cat_store_killed, 4, 2),
    (cat_injection, 1, 1),
    (cat_cli, 400, 14),
    (cat_environment, 240, 8),
    (cat_damaged_store, 50, 8),
    (cat_disk_full, 55, 10),
    (cat_signals, 9, 2),
    (cat_app, 26, 3),
    (cat_large_inputs, 40, 6),
]


@contextlib.contextmanager
def sandbox() -> Iterator[Path]:
    """A scratch folder, with planatlas's data folder inside it for the duration."""
    import shutil

    scratch = Path(tempfile.mkdtemp(prefix="planatlas-robustness-"))
    old = os.environ.get("PLANATLAS_DATA_DIR")
    os.environ["PLANATLAS_DATA_DIR"] = str(scratch / "data")
    try:
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if old is None:
            os.environ.pop("PLANATLAS_DATA_DIR", None)
        else:
            os.environ["PLANATLAS_DATA_DIR"] = old


def run_category(func: Callable[[int, random.Random, Path], Tally | list[Tally]], n: int,
                 *, seed: int = SEED) -> list[Tally]:
    """Run one category with its own seeded generator in a sandbox of its own."""
    rng = random.Random(f"{seed}:{func.__name__}")
    with sandbox() as scratch:
        out = func(n, rng, scratch)
    return out if isinstance(out, list) else [out]


def run_all(*, quick: bool = False, only: str | None = None) -> list[Tally]:
    """Every category (the quick sizes with ``quick``), in report order."""
    tallies: list[Tally] = []
    for func, full, small in CATEGORIES:
        if only and only not in func.__name__:
            continue
        tallies += run_category(func, small if quick else full)
    return tallies
