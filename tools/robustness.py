"""Run a fixed, seeded battery of hostile and broken inputs and write docs/robustness.md.

Every input planatlas accepts is tried with generated and crafted data:

==========================  =====================================================
category                    what is fed in
==========================  =====================================================
report text                 random Unicode and report-shaped token soup; slices
                            of the real report mixed with noise
report bytes                random bytes; text in UTF-8, GB18030, UTF-16
quantities                  generated number + multiplier + unit in Chinese text
                            (value, unit and span checked); noise
geocoder text               random text; gazetteer names mixed with noise
                            (spans and the Shandong box checked)
uploads: <format>           valid GeoJSON / GeoPackage / zipped Shapefile / CSV
                            (must be read with every feature) and the same
                            files damaged by byte flips, truncation, insertions
uploads: random bytes       random bytes and magic numbers under every extension
zip attacks                 path traversal, absolute paths, symlinks, zip bombs,
                            lying sizes, too many members, encryption, damaged
                            streams (must all be refused, nothing written outside)
export layer names          ``..``, separators, NUL in the layer name of an export
store: failed writes        unwritable frames, reserved names, writes failing at
                            a random layer (KeyboardInterrupt / OSError)
store: killed writer        a writer process SIGKILLed in the middle of a write
injection payloads          XSS payloads in every layer's text, rendered to the
                            map page, the standalone page, popups, the report
                            page's highlight, KML and GeoJSON exports
==========================  =====================================================

For each category the table counts the inputs tried, how many were accepted,
how many were refused with a planatlas error (``spatial._errors``), contract
violations (a wrong value, a span that does not index the text, a payload left
unescaped, an attack accepted), crashes (any other exception type: must be 0)
and data lost (the previous store unreadable or missing layers after a failed
or killed write: must be 0).

Run from the project root::

    python tools/robustness.py            # writes docs/robustness.md
    python tools/robustness.py --quick    # a tenth of the inputs, no file written

The exit status is 1 when any crash, violation or data loss was found.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import io
import json
import os
import platform
import random
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import textwrap
import time
import traceback
import warnings
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SEED = 20221226  # the report's date: any fixed number would do
OUT = ROOT / "docs" / "robustness.md"
#: Shandong province, lon/lat degrees (generous by about 0.3 degrees).
SHANDONG = (114.5, 34.2, 122.9, 38.6)
JINAN_BOX = (116.8, 36.5, 117.3, 36.8)


# --------------------------------------------------------------------------- tally


@dataclass
class Tally:
    """Counts of one category."""

    category: str
    tracks_data: bool = False
    tried: int = 0
    accepted: int = 0
    refused: int = 0
    violations: int = 0
    crashes: int = 0
    lost: int = 0
    crash_types: Counter = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def run(self, check, *args) -> None:
        """Call ``check(*args)``: True = accepted and correct, False = violation,
        a planatlas error = refused, anything else = crash."""
        from spatial._errors import PlanatlasError

        self.tried += 1
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ok = check(*args)
        except PlanatlasError:
            self.refused += 1
        except Exception as exc:
            self.crashes += 1
            name = f"{type(exc).__module__}.{type(exc).__qualname__}"
            self.crash_types[name] += 1
            if len(self.examples) < 3:
                tb = traceback.extract_tb(exc.__traceback__)[-1]
                self.examples.append(f"{name}: {str(exc)[:120]} ({Path(tb.filename).name}:{tb.lineno}) "
                                     f"input {_short(args)}")
        else:
            if ok is False:
                self.violations += 1
                if len(self.examples) < 3:
                    self.examples.append(f"violation on input {_short(args)}")
            elif ok == "refused":  # a check that expects refusal reports it itself
                self.refused += 1
            else:
                self.accepted += 1


def _short(args) -> str:
    text = repr(args[0] if len(args) == 1 else args)
    return text if len(text) <= 160 else text[:157] + "..."


# --------------------------------------------------------------------------- generators


REPORT_TOKENS = [
    "## 一、2022年工作回顾", "## 二、2023年工作总体要求", "三、重点工作",
    "#### **四、政府建设**", "十一、", "**（一）建设公园城市**", "（二）着力稳定增长。", "(三)",
    "**建设公园。**", "**纵", "深推进。**",
    "**", "。", "；", "，", "！", "？", "：", "……", "“", "”", "（", "）", "《", "》",
    "\n", "\n\n", "\r\n", "\r", " ", "\u3000", "\xa0", "\ufeff", "\t", "\u2028", "\u2029",
    "\x0b", "\x0c",
    "\x85", "各位代表：", "各位代表！", "新建公园55处", "绿道130公里，", "到2035年", "2035年前",
    "PM<sub>2.5</sub>", "推进", "建成通车，", "济南黄河大桥", "#", "-", "é", "\u200b",
]


def rand_char(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.5:
        return chr(rng.randrange(0x4E00, 0x9FA6))  # common Han
    if roll < 0.7:
        return chr(rng.randrange(0x20, 0x7F))
    while True:
        cp = rng.randrange(0x110000)
        if not 0xD800 <= cp <= 0xDFFF:
            return chr(cp)


def rand_text(rng: random.Random, n: int) -> str:
    return "".join(rand_char(rng) for _ in range(n))


def report_soup(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randrange(0, 80)):
        parts.append(rng.choice(REPORT_TOKENS) if rng.random() < 0.6 else rand_text(rng, rng.randrange(0, 5)))
    return "".join(parts)


# --------------------------------------------------------------------------- report


def battery_report(n: int, rng: random.Random) -> list[Tally]:
    from spatial import settings
    from spatial.report import clean_span, parse_report, read_report

    seed_text = settings.DEFAULT_REPORT.read_text(encoding="utf-8")
    blank = re.compile(r"[\s\ufeff]")

    def check_text(text: str):
        report = parse_report(text)
        for item in report.items:
            if not (0 <= item.start < item.end <= len(text)):
                return False
            if clean_span(text, item.start, item.end) != item.text:
                return False
            if blank.sub("", text[item.start:item.end]) != blank.sub("", item.text):
                return False
        return [i.item_id for i in parse_report(text).items] == [i.item_id for i in report.items]

    def check_bytes(data: bytes):
        return check_text(read_report(data).source)

    text_tally = Tally("report text")
    t0 = time.perf_counter()
    front = "# 政府工作报告\n\n——2022年12月26日\n\n## 一、2022年工作回顾\n\n"
    for k in range(n):
        kind = k % 3
        if kind == 0:
            text = rand_text(rng, rng.randrange(0, 300))
        elif kind == 1:
            text = report_soup(rng)
        else:
            i, j = rng.randrange(len(seed_text)), rng.randrange(len(seed_text))
            text = front + seed_text[i:i + rng.randrange(200, 4000)] + report_soup(rng) + seed_text[j:j + 800]
        text_tally.run(check_text, text)
    text_tally.run(check_text, seed_text)  # and the real report itself
    text_tally.seconds = time.perf_counter() - t0

    bytes_tally = Tally("report bytes")
    t0 = time.perf_counter()
    for k in range(n):
        kind = k % 4
        if kind == 0:
            data = rng.randbytes(rng.randrange(0, 400))
        else:
            enc = ("utf-8", "gb18030", "utf-16")[kind - 1]
            data = report_soup(rng).encode(enc, "ignore")
        bytes_tally.run(check_bytes, data)
    bytes_tally.seconds = time.perf_counter() - t0
    return [text_tally, bytes_tally]


# --------------------------------------------------------------------------- quantities


def battery_quantities(n: int, rng: random.Random) -> list[Tally]:
    import math

    from spatial.quantities import UNITS, extract_quantities

    words = ["建设", "城市", "公园", "绿道", "项目", "新区", "推动", "工作", "济南", "完成", "新建",
             "改造", "提升", "老旧小区", "黄河", "生态", "保障", "住房", "面积", "投资", "总量"]
    marks = ["，", "。", "、", "；"]
    units = [u for u in UNITS if u != "年"]
    mults = {"": 1.0, "万": 1e4, "亿": 1e8, "万亿": 1e12}

    def phrase() -> str:
        return "".join(rng.choice(words) for _ in range(rng.randrange(0, 4)))

    def check_embedded(text, num, value, mult, unit):
        found = extract_quantities(text)
        if len(found) != 1:
            return False
        q = found[0]
        return (math.isclose(q.value, value, rel_tol=1e-12) and q.unit == ("%" if unit == "％" else unit)
                and q.unit_as_written == mult + unit and text[q.start:q.end] == q.raw
                and q.raw.startswith(num))

    def check_noise(text):
        return all(0 <= q.start < q.end <= len(text) and text[q.start:q.end] == q.raw for q in extract_quantities(text))

    tally = Tally("quantities")
    t0 = time.perf_counter()
    for k in range(n):
        if k % 3 == 2:
            noise = "".join(rng.choice(units + list(mults) + ["第", "位", "约", "左右", "余", ",", ".", "０",
                                                              "<sub>", "</sub>", str(rng.randrange(10 ** 6))])
                            if rng.random() < 0.6 else rand_text(rng, 3) for _ in range(rng.randrange(30)))
            tally.run(check_noise, noise)
            continue
        whole = rng.randrange(0, 10_000_000)
        style = rng.choice(["int", "dec", "sep"])
        num = {"dec": f"{whole}.{rng.randrange(1, 1000)}", "sep": f"{whole:,}"}.get(style, str(whole))
        value = float(num.replace(",", ""))
        mult, unit = rng.choice(sorted(mults)), rng.choice(units)
        text = phrase() + rng.choice(marks) + phrase() + f"{num}{rng.choice(['', ' '])}{mult}{unit}" \
            + rng.choice(marks) + phrase()
        tally.run(check_embedded, text, num, value * mults[mult], mult, unit)
    tally.seconds = time.perf_counter() - t0
    return [tally]


# --------------------------------------------------------------------------- geocoder


def battery_geocoder(n: int, rng: random.Random) -> list[Tally]:
    import shapely

    from spatial.geocode import Geocoder

    geocoder = Geocoder.default()
    gaz = geocoder.gazetteer
    names = sorted(gaz["name"])

    def inside(geom) -> bool:
        x0, y0, x1, y1 = shapely.bounds(geom)
        return SHANDONG[0] <= x0 and x1 <= SHANDONG[2] and SHANDONG[1] <= y0 and y1 <= SHANDONG[3]

    from spatial.gazetteer import normalise_name

    def check(text, inserted=()):
        mentions = geocoder.find_mentions(text)
        for m in mentions:
            if not (0 <= m.start < m.end <= len(text) and text[m.start:m.end] == m.text):
                return False
            if m.place_id is not None:
                geom = gaz.loc[m.place_id, "geometry"]
                if geom is not None and not inside(geom):
                    return False
        # every gazetteer name put into the text is found (as itself or inside a longer name)
        found = [normalise_name(m.text) for m in mentions if m.place_id is not None]
        return all(any(normalise_name(n) in f or f in normalise_name(n) for f in found) for n in inserted)

    tally = Tally("geocoder text")
    t0 = time.perf_counter()
    for k in range(n):
        if k % 2:
            tally.run(check, rand_text(rng, rng.randrange(0, 200)))
            continue
        bits, inserted = [], []
        for _ in range(rng.randrange(1, 8)):
            name = rng.choice(names)
            inserted.append(name)
            if rng.random() < 0.3:
                name = " ".join(name)  # PDF conversions scatter spaces through names
            bits += [rand_text(rng, rng.randrange(0, 4)), rng.choice(["，", "、", "\n", "……", "㎡", "℃，"]), name,
                     rng.choice(["，", "。", "；"])]
        tally.run(check, "".join(bits), tuple(inserted))
    tally.seconds = time.perf_counter() - t0
    return [tally]


# --------------------------------------------------------------------------- uploads


def _frame(rng: random.Random, kind: str, n: int):
    import geopandas as gpd
    import shapely

    xs = [rng.uniform(JINAN_BOX[0], JINAN_BOX[2]) for _ in range(n)]
    ys = [rng.uniform(JINAN_BOX[1], JINAN_BOX[3]) for _ in range(n)]
    if kind == "point":
        geoms = [shapely.Point(x, y) for x, y in zip(xs, ys, strict=False)]
    elif kind == "line":
        geoms = [shapely.LineString([(x, y), (x + 0.01, y + 0.004)]) for x, y in zip(xs, ys, strict=False)]
    else:
        geoms = [shapely.box(x, y, x + 0.01, y + 0.008) for x, y in zip(xs, ys, strict=False)]
    names = [rng.choice(["济南", "趵突泉,公园", '"引号"', "a\nb", "<b>x</b>", "0531", "", rand_text(rng, 6)])
             for _ in range(n)]
    return gpd.GeoDataFrame({"名称": names, "value": [rng.uniform(-1e6, 1e6) for _ in range(n)]},
                            geometry=geoms, crs="EPSG:4326")


def _file_bytes(gdf, fmt: str) -> tuple[bytes, str]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if fmt == "geojson":
            gdf.to_file(folder / "l.geojson", driver="GeoJSON")
            return (folder / "l.geojson").read_bytes(), "layer.geojson"
        if fmt == "gpkg":
            gdf.to_file(folder / "l.gpkg", driver="GPKG", layer="l")
            return (folder / "l.gpkg").read_bytes(), "layer.gpkg"
        if fmt == "shp":
            gdf.to_file(folder / "l.shp", driver="ESRI Shapefile", encoding="UTF-8")
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
                for part in sorted(folder.glob("l.*")):
                    zf.write(part, arcname=part.name)
            return buf.getvalue(), "layer.zip"
        table = gdf.drop(columns="geometry").copy()
        if (gdf.geom_type == "Point").all():
            table["lon"], table["lat"] = gdf.geometry.x, gdf.geometry.y
        else:
            table["wkt"] = gdf.geometry.to_wkt()
        return table.to_csv(index=False).encode("utf-8"), "layer.csv"


def _damage(rng: random.Random, data: bytes) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randrange(1, 7)):
        if not buf:
            break
        i = rng.randrange(len(buf))
        op = rng.choice(["flip", "truncate", "insert", "zero"])
        if op == "flip":
            buf[i] ^= rng.randrange(1, 256)
        elif op == "truncate":
            del buf[i:]
        elif op == "insert":
            buf[i:i] = rng.randbytes(rng.randrange(1, 9))
        else:
            buf[i:i + 16] = bytes(len(buf[i:i + 16]))
    return bytes(buf)


def battery_uploads(n: int, rng: random.Random, scratch: Path) -> list[Tally]:
    from spatial.io import list_layers, read_upload

    def leftovers() -> list[str]:
        return [p.name for p in scratch.iterdir() if p.name.startswith("planatlas-upload-")]

    def check_valid(data, name, n_features):
        result = read_upload(data, filename=name)
        return result.n_features == n_features and str(result.frame.crs) == "EPSG:4326" and not leftovers()

    def check_any(data, name):
        try:
            list_layers(data, filename=name)
        except Exception as exc:  # list_layers' own refusals count as refusals of read_upload too
            from spatial._errors import PlanatlasError

            if not isinstance(exc, PlanatlasError):
                raise
        try:
            result = read_upload(data, filename=name)
        finally:
            if leftovers():
                return False  # noqa: B012 - a leftover folder is a violation whatever happened
        return result.n_features == len(result.frame) >= 1

    tallies = []
    for fmt in ("geojson", "gpkg", "shp", "csv"):
        tally = Tally(f"uploads: {fmt}")
        t0 = time.perf_counter()
        for k in range(n):
            kind = rng.choice(["point", "line", "polygon"]) if fmt != "csv" or k % 2 else "point"
            gdf = _frame(rng, kind, rng.randrange(1, 7))
            data, name = _file_bytes(gdf, fmt)
            if k % 4 == 0:
                tally.run(check_valid, data, name, len(gdf))
            else:
                tally.run(check_any, _damage(rng, data), name)
        tally.seconds = time.perf_counter() - t0
        tallies.append(tally)

    tally = Tally("uploads: random bytes")
    t0 = time.perf_counter()
    exts = [".geojson", ".json", ".gpkg", ".zip", ".csv", ".shp", ".txt", ""]
    magics = [b"", b"PK\x03\x04", b"PK\x05\x06", b"SQLite format 3\x00", b"{", b"[", b"\xff\xfe", b"lon,lat\n"]
    for _ in range(2 * n):
        tally.run(check_any, rng.choice(magics) + rng.randbytes(rng.randrange(0, 600)), "upload" + rng.choice(exts))
    tally.seconds = time.perf_counter() - t0
    tallies.append(tally)
    return tallies


# --------------------------------------------------------------------------- zip attacks


def _zip(members: list[tuple[str, bytes]], *, method=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return buf.getvalue()


def _patch_central(data: bytes, *, offset: int, fmt: str, value: int) -> bytes:
    """Overwrite a field of every central-directory header (sizes, method, flags)."""
    out = bytearray(data)
    pos = out.find(b"PK\x01\x02")
    while pos >= 0:
        struct.pack_into(fmt, out, pos + offset, value)
        pos = out.find(b"PK\x01\x02", pos + 4)
    return bytes(out)


def zip_attacks(shp_zip: bytes) -> dict[str, bytes]:
    """Crafted hostile archives, by name. Each must be refused."""
    shp_members = []
    with zipfile.ZipFile(io.BytesIO(shp_zip)) as zf:
        shp_members = [(i.filename, zf.read(i)) for i in zf.infolist()]
    attacks = {
        "traversal ../": _zip([("../../escaped.shp", b"x" * 100), *shp_members]),
        "traversal ..\\": _zip([("..\\..\\escaped.shp", b"x" * 100), *shp_members]),
        "traversal in folder": _zip([("a/../../escaped.dbf", b"x"), *shp_members]),
        "absolute path": _zip([("/tmp/planatlas-escaped.shp", b"x"), *shp_members]),
        "drive letter": _zip([("C:/escaped.shp", b"x"), *shp_members]),
        "colon (NTFS stream)": _zip([("layer.shp:evil", b"x"), *shp_members]),
        "control characters": _zip([("lay\x1b[2Jer.shp", b"x"), *shp_members]),
        "too many members": _zip([(f"f{i}.txt", b"") for i in range(300)]),
        "nested zip only": _zip([("inner.zip", shp_zip)]),
        "no layer in zip": _zip([("readme.txt", b"hello")]),
        "empty zip": _zip([]),
        "shapefile without .shx": _zip([m for m in shp_members if not m[0].endswith(".shx")]),
    }
    # symlink member pointing outside
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("layer.shp")
        info.external_attr = (0o120777 << 16)
        zf.writestr(info, "/etc/passwd")
        for name, data in shp_members:
            if not name.endswith(".shp"):
                zf.writestr(name, data)
    attacks["symlink member"] = buf.getvalue()
    # zip bomb: 64 MB of zeros in one member (ratio about 1000 : 1)
    attacks["zip bomb (ratio)"] = _zip([("layer.dbf", bytes(64 * 1024 * 1024)), *shp_members[:1]])
    # declared sizes that lie: the header says 10 bytes, the member holds 2 MB
    lying = _zip([("layer.dbf", bytes(2 * 1024 * 1024))])
    attacks["size smaller than content"] = _patch_central(lying, offset=24, fmt="<I", value=10)
    attacks["declared total > limit"] = _patch_central(_zip([("a.txt", b"x")]), offset=24, fmt="<I",
                                                       value=0xFFFFFFF0)
    attacks["encrypted flag"] = _patch_central(shp_zip, offset=8, fmt="<H", value=0x1)
    attacks["damaged deflate stream"] = _patch_central(
        _zip([("layer.shp", b"\x07" * 300)], method=zipfile.ZIP_STORED), offset=10, fmt="<H", value=8)
    attacks["damaged LZMA stream"] = _patch_central(
        _zip([("layer.shp", b"\xe6&\xca\x00\x9e%\x82t\xfd" + bytes(291))], method=zipfile.ZIP_STORED),
        offset=10, fmt="<H", value=14)
    attacks["unknown compression"] = _patch_central(
        _zip([("layer.shp", b"x" * 300)], method=zipfile.ZIP_STORED), offset=10, fmt="<H", value=99)
    attacks["truncated archive"] = shp_zip[: len(shp_zip) // 2]
    return attacks


def battery_zip(rng: random.Random, scratch: Path) -> list[Tally]:
    from spatial.io import read_upload

    shp_zip, _ = _file_bytes(_frame(rng, "point", 3), "shp")

    def escaped_files() -> set[str]:
        # where a traversal would land: anywhere in the scratch tree, or /tmp itself
        found = {str(p) for p in scratch.parent.rglob("*escaped*")}
        return found | {str(p) for p in Path(tempfile.gettempdir()).glob("*escaped*")} | {
            str(p) for p in Path("/tmp").glob("*escaped*")}

    def check(name: str, data: bytes):
        before = escaped_files()
        try:
            read_upload(data, filename=f"{name}.zip")
            accepted = True
        except Exception as exc:
            from spatial._errors import PlanatlasError

            if not isinstance(exc, PlanatlasError):
                raise
            accepted = False
        escaped = escaped_files() - before
        left = [p.name for p in scratch.iterdir() if p.name.startswith("planatlas-upload-")]
        if accepted or escaped or left:
            return False
        return "refused"

    tally = Tally("zip attacks")
    t0 = time.perf_counter()
    for name, data in zip_attacks(shp_zip).items():
        tally.run(check, name, data)
    tally.seconds = time.perf_counter() - t0
    return [tally]


def _walk_files(root: Path, *, limit: int) -> list[str]:
    out = []
    for dirpath, _, files in os.walk(root):
        for f in files:
            out.append(os.path.join(dirpath, f))
            if len(out) >= limit:
                return out
    return out


def battery_export_names(scratch: Path) -> list[Tally]:
    import geopandas as gpd
    import shapely

    from spatial.io import export_bytes

    gdf = gpd.GeoDataFrame({"name": ["x"]}, geometry=[shapely.Point(117.0, 36.6)], crs="EPSG:4326")
    names = ["../../escaped", "..", ".", "", "a/b", "a\\b", "x\x00y", "../" * 10 + "escaped", "/tmp/escaped"]

    def outside_files() -> set[str]:
        return set(_walk_files(scratch, limit=10000)) | {str(p) for p in Path("/tmp").glob("escaped*")}

    def check(layer, fmt):
        before = outside_files()
        try:
            export_bytes(gdf, fmt, layer=layer)
            accepted = True
        except Exception as exc:
            from spatial._errors import PlanatlasError

            if not isinstance(exc, PlanatlasError):
                raise
            accepted = False
        new = outside_files() - before
        if new or (accepted and layer in {"..", ".", ""}):
            return False
        return True if accepted else "refused"

    tally = Tally("export layer names")
    t0 = time.perf_counter()
    work = scratch / "a" / "b" / "c"
    work.mkdir(parents=True, exist_ok=True)
    old = tempfile.tempdir
    tempfile.tempdir = str(work)  # export_bytes' folder: deep enough for ../.. to land in scratch
    try:
        for layer in names:
            for fmt in ("geojson", "shp", "kml"):
                tally.run(check, layer, fmt)
    finally:
        tempfile.tempdir = old
    tally.seconds = time.perf_counter() - t0
    return [tally]


# --------------------------------------------------------------------------- store


def _store_state(path: Path) -> dict[str, int] | None:
    """Feature count per layer of a store, or None when it cannot be read."""
    import pyogrio

    from spatial import store

    try:
        names = [row[0] for row in pyogrio.list_layers(path)]
        return {n: len(store.read_layer(n, path=path)) for n in names if n != store.META_TABLE}
    except Exception:
        return None


def battery_store(n: int, rng: random.Random, scratch: Path) -> list[Tally]:
    import geopandas as gpd
    import pyogrio
    import shapely

    from spatial import store
    from spatial._errors import PlanatlasError

    pts = [shapely.Point(117.02, 36.67), shapely.Point(117.05, 36.66)]

    def good(k: int):
        return gpd.GeoDataFrame({"name": [f"p{i}" for i in range(k)]}, geometry=(pts * k)[:k], crs="EPSG:4326")

    bad = [
        lambda: gpd.GeoDataFrame({"Name": ["a", "b"], "name": ["c", "d"]}, geometry=pts, crs="EPSG:4326"),
        lambda: gpd.GeoDataFrame({"c": [1 + 2j, 3j]}, geometry=pts, crs="EPSG:4326"),
        lambda: gpd.GeoDataFrame({5: ["a", "b"]}, geometry=pts, crs="EPSG:4326"),
        lambda: gpd.GeoDataFrame({"name": ["a", "b"]}, geometry=pts),
    ]
    bad_names = ["", " ", store.META_TABLE, "gpkg_contents", "sqlite_master"]
    baseline = {"parks": good(3), "places": good(2)}
    expect = {"parks": 3, "places": 2}
    tally = Tally("store: failed writes", tracks_data=True)
    t0 = time.perf_counter()
    real_write = pyogrio.write_dataframe
    for k in range(n):
        folder = scratch / f"store{k}"
        folder.mkdir()
        path = folder / "planatlas.gpkg"
        store.write_store(baseline, path)
        layers = {}
        for _ in range(rng.randrange(1, 5)):
            roll = rng.random()
            if roll < 0.5:
                layers[rng.choice(["parks", "places", "grid", "上传", "a b"])] = good(rng.randrange(0, 4))
            elif roll < 0.8:
                layers[f"bad{rng.randrange(3)}"] = rng.choice(bad)()
            else:
                layers[rng.choice(bad_names)] = good(1)
        fail_at = rng.choice([None, 0, 1, 2, 3])
        interrupt = rng.choice([KeyboardInterrupt, OSError])
        calls = []

        def flaky(*args, **kwargs):
            calls.append(1)
            if fail_at is not None and len(calls) > fail_at:
                raise interrupt("simulated failure while writing")
            return real_write(*args, **kwargs)

        def attempt():
            pyogrio.write_dataframe = flaky
            try:
                store.write_store(layers, path)
            except KeyboardInterrupt:
                raise PlanatlasError("interrupted") from None  # counted as refused
            finally:
                pyogrio.write_dataframe = real_write
                state = _store_state(path)
                temps = [p for p in folder.iterdir() if p.name.endswith(".tmp.gpkg")]
                old_ok = state == expect
                new_ok = state is not None and all(state.get(nm) == len(f) for nm, f in layers.items())
                if not (old_ok or new_ok) or temps:
                    tally.lost += 1
            return True

        tally.run(attempt)
    tally.seconds = time.perf_counter() - t0

    killed = Tally("store: killed writer", tracks_data=True)
    t0 = time.perf_counter()
    writer = textwrap.dedent("""
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
    for k, threshold in enumerate([0, 200_000, 1_000_000, 3_000_000]):
        folder = scratch / f"killed{k}"
        folder.mkdir()
        path = folder / "planatlas.gpkg"
        store.write_store(baseline, path)
        before = path.read_bytes()

        def attempt():
            env = dict(os.environ, PYTHONPATH=str(ROOT))
            proc = subprocess.Popen([sys.executable, "-c", writer, str(path), "120000"], stdout=subprocess.PIPE,
                                    text=True, env=env, cwd=str(ROOT))
            try:
                proc.stdout.readline()
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline and proc.poll() is None:
                    temps = [p for p in folder.iterdir() if p.name.endswith(".tmp.gpkg")]
                    if temps and temps[0].stat().st_size >= threshold:
                        break
                    time.sleep(0.01)
                proc.send_signal(signal.SIGKILL)
            finally:
                proc.wait(timeout=60)
                proc.stdout.close()
            state = _store_state(path)
            if state != expect or path.read_bytes() != before:
                killed.lost += 1
            # the killed writer leaves its temporary file: harmless, and removed here
            for p in folder.iterdir():
                if p.name.endswith(".tmp.gpkg"):
                    p.unlink()
            return proc.returncode == -signal.SIGKILL

        killed.run(attempt)
    killed.seconds = time.perf_counter() - t0
    return [tally, killed]


# --------------------------------------------------------------------------- injection


PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "javascript:alert(1)",
    "</script><script>alert(1)</script>",
    "'-alert(1)-'${alert(1)}`",
    '<a href="javascript:alert(1)">x</a>',
]


def battery_injection() -> list[Tally]:
    import xml.etree.ElementTree as ET

    import geopandas as gpd
    import shapely

    from spatial import webmap
    from spatial.io import export, read_upload

    def unescape_json(page: str) -> str:
        return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), page)

    def layers(p: str) -> dict:
        pt, box = shapely.Point(117.02, 36.67), shapely.box(117.0, 36.6, 117.05, 36.65)
        line = shapely.LineString([(117.0, 36.70), (117.0, 36.73)])
        prov = {"source": ["s" + p], "source_datum": ["WGS84" + p], "precision": ["approximate" + p]}

        def f(cols, g):
            return gpd.GeoDataFrame(cols, geometry=[g], crs="EPSG:4326")

        doc = {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {
            "type": "Point", "coordinates": [117.03, 36.66]}, "properties": {"name": p, p: p}}]}
        upload = read_upload(json.dumps(doc).encode(), filename=p + ".geojson").frame
        return {
            "districts": f({"name": ["历下区" + p], "density": [1.0], **prov}, box),
            "starting_zone": f({"name": [p], **prov}, box),
            "metro_rings": f({"name": [p], "ring": [p], "sentence": [p], **prov}, pt),
            "yellow_river": f({"name": [p], **prov}, line),
            "river_crossings": f({"name": [p], "status": [p], "mode": [p], "carries": [p], **prov}, line),
            "parks": f({"name": [p], "note": [p], **prov}, box),
            "greenways": f({"name": [p], **prov}, line),
            "places": f({"id": [p], "name": ["趵突泉" + p], "aliases": [p], **prov}, pt),
            "report_items": f({"item_id": [p], "part_title": [p], "section_title": [p], "topic": [p],
                               "year": [2023], "category": [p], "text": ["新建" + p],
                               "quantities": [json.dumps([{"raw": p}])], "place_name": [p],
                               "geocode_status": [p], **prov}, pt),
            p: upload,
        }

    def unsafe(page: str, p: str) -> bool:
        decoded = unescape_json(page)
        if any(ch in p for ch in "<>\"'`$") and (p in page or p in decoded):
            return True
        return bool(re.search(r"""(?:href|src|action)\s*=\s*["']?\s*javascript:""", decoded, re.I))

    def map_page(p):
        page = webmap.make_map(layers(p), cluster_items=False, hidden=[]).get_root().render()
        return not unsafe(page, p) and webmap.escape(p) in unescape_json(page)

    def standalone(p):
        return not unsafe(webmap.standalone_html(webmap.make_map(layers(p))), p)

    def popup(p):
        html = webmap.popup_html(p, [(p, p)], quote=p, provenance={"source": p})
        return not unsafe(html, p)

    def highlight(p):
        from app_pages.page_report import highlighted_source

        src = "新建公园" + p + "。"
        return not unsafe(highlighted_source(src, 4, 4 + len(p)), p)

    def kml(p):
        data, _, _ = export.export_bytes(layers(p)["places"], "kml", layer="places")
        root = ET.fromstring(data)
        ns = {"k": "http://www.opengis.net/kml/2.2"}
        names = [e.text for e in root.iterfind(".//k:Placemark/k:name", ns)]
        return names == ["趵突泉" + p] and ("<" not in p or p not in data.decode("utf-8"))

    def geojson(p):
        data, _, _ = export.export_bytes(layers(p)["report_items"], "geojson", layer="items")
        props = json.loads(data)["features"][0]["properties"]
        return props["text"] == "新建" + p and props["place_name"] == p

    tally = Tally("injection payloads")
    t0 = time.perf_counter()
    for check in (map_page, standalone, popup, highlight, kml, geojson):
        for p in PAYLOADS:
            tally.run(check, p)
    tally.seconds = time.perf_counter() - t0
    return [tally]


# --------------------------------------------------------------------------- report

#: What this battery (and the Hypothesis tests) found when they were first run,
#: all fixed since; kept here so the generated page records it.
FINDINGS_FIXED = [
    ("report text", "a U+2028 line separator stayed inside an item and a BOM at a line start was "
     "not removed by `clean_span`, so `clean_span(source, start, end) != item.text` "
     "(`spatial/report.py`: line terminators and the page-break gap now match `str.splitlines`)"),
    ("quantities", "`5千米` came back as 5000 米, so the unit 千米 listed in `UNITS` never appeared "
     "(`spatial/quantities.py`: 千 is no multiplier before 米/瓦)"),
    ("geocoder text", "one character whose NFKC form is longer (`……`, `㎡`, `℃`, `¼`) switched "
     "normalisation off for the whole text, so names with full-width brackets such as "
     "齐鲁号欧亚班列（济南）集结中心 were not found (`spatial/geocode.py`: NFKC per character)"),
    ("zip attacks", "a damaged deflate or LZMA stream raised `zlib.error` / `lzma.LZMAError` "
     "instead of `InputFileError` (`spatial/io/`)"),
    ("export layer names", "`export_bytes(layer='../../x')` wrote x.geojson (or the shapefile parts) "
     "outside its temporary folder and left it there; `/tmp/x` wrote to /tmp "
     "(`spatial/io/export.py`: such layer names are refused)"),
    ("store: failed writes", "columns differing only in case, complex numbers, a non-text column "
     "name, an empty or reserved layer name (`gpkg_*`, `sqlite_*`) raised raw pyogrio/Python errors, "
     "and a layer named `planatlas_layers` was silently replaced by the metadata table "
     "(`spatial/store.py`: `StoreError`; the previous store was never damaged)"),
]


def _cell(value: int, must_be_zero: bool) -> str:
    return f"**{value}**" if must_be_zero and value else str(value)


def render(tallies: list[Tally], *, started: _dt.datetime, seconds: float, quick: bool) -> str:
    import pyogrio
    import shapely

    lines = [
        "# Robustness of planatlas's inputs",
        "",
        "Generated by `python tools/robustness.py` (do not edit by hand). Every input planatlas "
        "accepts was fed a fixed, seeded battery of generated, damaged and hostile data.",
        "",
        "* **accepted**: read, and every checked property held;",
        "* **refused**: a clear planatlas error (`spatial._errors`), the intended outcome for bad input;",
        "* **violations**: accepted but wrong (value, unit, span, an attack accepted, a payload left "
        "unescaped, a temporary folder left behind);",
        "* **crashes**: any other exception type (must be 0);",
        "* **data lost**: the previous store unreadable, changed or missing layers after a failed or "
        "killed write, or a temporary file left (must be 0).",
        "",
        "| category | inputs tried | accepted | refused | violations | crashes | data lost | seconds |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for t in tallies:
        lost = _cell(t.lost, True) if t.tracks_data else "–"
        lines.append(f"| {t.category} | {t.tried} | {t.accepted} | {t.refused} | {_cell(t.violations, True)} "
                     f"| {_cell(t.crashes, True)} | {lost} | {t.seconds:.1f} |")
    total = Tally("**total**")
    for t in tallies:
        total.tried += t.tried
        total.accepted += t.accepted
        total.refused += t.refused
        total.violations += t.violations
        total.crashes += t.crashes
        total.lost += t.lost
    lines.append(f"| **total** | {total.tried} | {total.accepted} | {total.refused} | {total.violations} "
                 f"| {total.crashes} | {total.lost} | {seconds:.1f} |")
    problems = [(t.category, e) for t in tallies for e in t.examples]
    lines += ["", "## Problems found in this run", ""]
    if problems:
        lines += [f"* {cat}: `{e}`" for cat, e in problems]
    else:
        lines.append("None: no crash, no violation, no data lost.")
    lines += ["", "## Found when the battery was introduced (all fixed)", ""]
    lines += [f"* {cat}: {text}." for cat, text in FINDINGS_FIXED]
    cpu = ""
    try:
        cpu = next(ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                   if ln.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor() or platform.machine()
    lines += [
        "",
        "## How it was run",
        "",
        f"{started:%Y-%m-%d %H:%M} UTC, `python tools/robustness.py{' --quick' if quick else ''}` "
        f"(seed {SEED}), {seconds:.0f} s on {os.cpu_count()} cores ({cpu}), "
        f"Python {platform.python_version()}, {platform.system()} {platform.machine()}, "
        f"GDAL {pyogrio.__gdal_version_string__}, pyogrio {pyogrio.__version__}, shapely {shapely.__version__}.",
        "",
        "The same properties run in CI with Hypothesis (derandomised, fixed budget): "
        "`tests/test_fuzz_report.py`, `tests/test_fuzz_quantities.py`, `tests/test_fuzz_geocode.py`, "
        "`tests/test_fuzz_uploads.py`, `tests/test_fuzz_store.py`, `tests/test_injection.py`, "
        "`tests/test_offline_paths.py`, `tests/test_fuzz_datum.py`, `tests/test_store_atomic.py`.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the inputs; print, do not write")
    parser.add_argument("--out", type=Path, default=OUT, help=f"Markdown file to write (default {OUT})")
    args = parser.parse_args(argv)
    scale = 0.1 if args.quick else 1.0
    started = _dt.datetime.now(_dt.UTC)
    t0 = time.perf_counter()
    rng = random.Random(SEED)
    scratch_root = Path(tempfile.mkdtemp(prefix="planatlas-robustness-"))
    old_env = os.environ.get("PLANATLAS_DATA_DIR")
    os.environ["PLANATLAS_DATA_DIR"] = str(scratch_root / "data")
    tallies: list[Tally] = []
    try:
        # tempfile's folder for uploads and exports: a private one, to see what is left in it
        upload_tmp = scratch_root / "tmp"
        upload_tmp.mkdir()
        old_tmp = tempfile.tempdir
        tempfile.tempdir = str(upload_tmp)
        try:
            tallies += battery_report(int(3000 * scale), rng)
            tallies += battery_quantities(int(6000 * scale), rng)
            tallies += battery_geocoder(int(3000 * scale), rng)
            tallies += battery_uploads(max(int(500 * scale), 8), rng, upload_tmp)
            tallies += battery_zip(rng, upload_tmp)
        finally:
            tempfile.tempdir = old_tmp
        tallies += battery_export_names(scratch_root / "export")
        tallies += battery_store(max(int(100 * scale), 5), rng, scratch_root)
        tallies += battery_injection()
    finally:
        shutil.rmtree(scratch_root, ignore_errors=True)
        if old_env is None:
            os.environ.pop("PLANATLAS_DATA_DIR", None)
        else:
            os.environ["PLANATLAS_DATA_DIR"] = old_env
    seconds = time.perf_counter() - t0
    text = render(tallies, started=started, seconds=seconds, quick=args.quick)
    if args.quick:
        print(text)
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
        print(text)
        print(f"written {args.out}")
    bad = sum(t.crashes + t.violations + t.lost for t in tallies)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
