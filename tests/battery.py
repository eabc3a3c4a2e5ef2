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
from collections.abc import Callable, Iterator
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

    Clear: one line under 600 characters, Chinese first with the English in
    brackets after it, and no library text (exception names, GDAL or SQLite
    phrases, temporary paths).
    """
    text = message.strip()
    if not text:
        return "empty message"
    if "\n" in text:
        return "more than one line"
    if len(text) > 600:
        return "longer than 600 characters"
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

    def run(self, check: Callable[..., object], *args: object) -> None:
        """Run ``check(*args)`` in this process and count what came out.

        ``check`` returns True (accepted and correct), False (wrong),
        ``"refused"`` (it expected and saw a refusal itself) or an
        :class:`Outcome`; a :class:`~spatial._errors.PlanatlasError` is a
        refusal, anything else a traceback.
        """
        from spatial._errors import PlanatlasError

        self.tried += 1
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = check(*args)
        except PlanatlasError as exc:
            self.refusal(str(exc), args)
        except Exception as exc:
            self.tracebacks += 1
            tb = traceback.extract_tb(exc.__traceback__)[-1]
            name = f"{type(exc).__module__}.{type(exc).__qualname__}"
            self.note(f"traceback {name}: {str(exc)[:120]} ({Path(tb.filename).name}:{tb.lineno})", args)
        else:
            self.count(result, args)

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
                bits += [inputs.rand_text(rng, rng.randrange(0, 4)), rng.choice(inputs.NAME_SEPARATORS), name,
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


# --------------------------------------------------------------------------- the whole battery

#: Categories in the order of the report: (function, full size, quick size).
CATEGORIES: list[tuple[Callable[[int, random.Random, Path], Tally | list[Tally]], int, int]] = [
    (cat_report_text, 3000, 150),
    (cat_report_bytes, 3000, 150),
    (cat_quantities, 6000, 300),
    (cat_geocoder, 3000, 150),
    (cat_uploads, 500, 12),
    (cat_zip, 1, 1),
    (cat_export_names, 1, 1),
    (cat_store_writes, 100, 6),
    (cat_store_killed, 4, 2),
    (cat_injection, 1, 1),
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
