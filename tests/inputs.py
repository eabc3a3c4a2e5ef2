"""Generated test inputs, one module for the tests and for ``tools/robustness.py``.

Everything hostile, broken or awkward that planatlas is fed lives here, once:
the tokens that drive the report parser, XSS payloads, the files a planner
uploads (and the same files damaged), zip attacks, files that would make GDAL
read other files of the server, layers with a payload in every cell. The
tests draw from these with Hypothesis (``st.randoms()`` feeds the generators
below) or parametrise over them; the robustness battery (``tests/battery.py``,
reported by ``tools/robustness.py``) draws from them with a seeded
:class:`random.Random`. So the corpora can no longer drift apart.

Generators take a :class:`random.Random` and return plain values (text,
bytes, frames); builders of files return ``(bytes, file name)``. Nothing here
asserts anything: what must hold is said by the tests and the battery.

Importable as ``tests.inputs`` from the project root (pytest's
``pythonpath = ["."]``; the tool puts the root on ``sys.path``).
"""

from __future__ import annotations

import io
import json
import random
import struct
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

ROOT = Path(__file__).resolve().parent.parent

#: Jinan, lon/lat degrees: where generated features are put.
JINAN_BOX = (116.8, 36.5, 117.3, 36.8)

#: Shandong province, lon/lat degrees (generous by about 0.3 degrees).
SHANDONG = (114.5, 34.2, 122.9, 38.6)

#: Extensions an uploaded file may carry (and a few it should not).
UPLOAD_EXTENSIONS = [".geojson", ".json", ".gpkg", ".zip", ".csv", ".shp", ".txt", ""]

#: First bytes of the formats planatlas reads (and of UTF-16 text), to put before noise.
MAGIC_HEADS = [b"", b"PK\x03\x04", b"PK\x05\x06", b"SQLite format 3\x00", b"{", b"[", b"\xef\xbb\xbf{",
               b"\xff\xfe", b"lon,lat\n"]

#: Upload formats the writers below produce.
UPLOAD_FORMATS = ("geojson", "gpkg", "shp", "csv")

# --------------------------------------------------------------------------- report text

#: The embedded report, and a front matter that makes a slice of it a report again.
SEED_REPORT = (ROOT / "seeds" / "jinan_2023_government_work_report.md").read_text(encoding="utf-8")
REPORT_FRONT = "# 政府工作报告\n\n——2022年12月26日\n\n"

#: What drives the report parser: part and section numbers, bold markers,
#: sentence marks, line breaks of every kind, invisible characters.
REPORT_TOKENS = [
    "## 一、2022年工作回顾", "## 二、2023年工作总体要求", "三、重点工作",
    "#### **四、政府建设**", "十一、", "**（一）建设公园城市**", "（二）着力稳定增长。", "(三)",
    "**建设公园。**", "**纵", "深推进。**",
    "**", "。", "；", "，", "！", "？", "：", "……", "“", "”", "（", "）", "《", "》",
    "\n", "\n\n", "\r\n", "\r", " ", "\u3000", "\xa0", "\ufeff", "\t", "\u2028", "\u2029",
    "\x0b", "\x0c",
    "\x85", "\x1c", "各位代表：", "各位代表！", "新建公园55处", "绿道130公里，", "到2035年", "2035年前",
    "PM<sub>2.5</sub>", "推进", "建成通车，", "济南黄河大桥", "#", "-", "1.", "é", "\u200b", "\x00",
]

#: Encodings a report arrives in (what planatlas must recognise or refuse with the right reason).
REPORT_ENCODINGS = ("utf-8", "utf-8-sig", "gb18030", "gbk", "big5", "utf-16", "utf-16-le", "utf-16-be",
                    "utf-32", "utf-32-le", "utf-32-be")


def rand_char(rng: random.Random) -> str:
    """One character: common Han half the time, printable ASCII, else any code point but a surrogate."""
    roll = rng.random()
    if roll < 0.5:
        return chr(rng.randrange(0x4E00, 0x9FA6))
    if roll < 0.7:
        return chr(rng.randrange(0x20, 0x7F))
    while True:
        cp = rng.randrange(0x110000)
        if not 0xD800 <= cp <= 0xDFFF:
            return chr(cp)


def rand_text(rng: random.Random, n: int) -> str:
    """``n`` characters of :func:`rand_char`."""
    return "".join(rand_char(rng) for _ in range(n))


def noise_text(rng: random.Random, n: int) -> str:
    """``n`` characters of :func:`rand_char` that are no letters of a script without case (Han and the like):
    noise that cannot extend a place name it touches."""
    import unicodedata

    out = []
    while len(out) < n:
        ch = rand_char(rng)
        if unicodedata.category(ch) != "Lo":
            out.append(ch)
    return "".join(out)


def report_soup(rng: random.Random, *, max_tokens: int = 80) -> str:
    """Report-shaped text: parser tokens and short random runs, in random order."""
    parts = []
    for _ in range(rng.randrange(0, max_tokens)):
        parts.append(rng.choice(REPORT_TOKENS) if rng.random() < 0.6 else rand_text(rng, rng.randrange(0, 5)))
    return "".join(parts)


def seed_fragment(rng: random.Random) -> str:
    """A front matter and part heading, a slice of the real report, noise, another slice."""
    i, j = rng.randrange(len(SEED_REPORT)), rng.randrange(len(SEED_REPORT))
    return (REPORT_FRONT + "## 一、2022年工作回顾\n\n" + SEED_REPORT[i:i + rng.randrange(200, 4000)]
            + report_soup(rng) + SEED_REPORT[j:j + 800])


def report_text(rng: random.Random, k: int) -> str:
    """The ``k``-th report text of a battery: random Unicode, token soup or a seed fragment, in turn."""
    kind = k % 3
    if kind == 0:
        return rand_text(rng, rng.randrange(0, 300))
    if kind == 1:
        return report_soup(rng)
    return seed_fragment(rng)


def report_bytes(rng: random.Random, k: int) -> bytes:
    """The ``k``-th report file of a battery: random bytes, or token soup in a generated encoding."""
    if k % 4 == 0:
        return rng.randbytes(rng.randrange(0, 400))
    enc = rng.choice(REPORT_ENCODINGS)
    return report_soup(rng).encode(enc, "ignore")


# --------------------------------------------------------------------------- quantities and places

#: Words, marks and multipliers quantities are embedded in.
QUANTITY_WORDS = ["建设", "城市", "公园", "绿道", "项目", "新区", "推动", "工作", "济南", "完成", "新建",
                  "改造", "提升", "老旧小区", "黄河", "生态", "保障", "住房", "面积", "投资", "总量"]
QUANTITY_MARKS = ["，", "。", "、", "；"]
MULTIPLIERS = {"": 1.0, "万": 1e4, "亿": 1e8, "万亿": 1e12}
QUANTITY_NOISE = ["第", "位", "约", "左右", "余", ",", ".", "０", "<sub>", "</sub>"]

#: What PDF conversions and typing put around a place name.
NAME_SEPARATORS = ["，", "、", "\n", "……", "㎡", "℃，"]


# --------------------------------------------------------------------------- injection

#: XSS payloads: each must reach pages and files only as inert text.
PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "javascript:alert(1)",
    "</script><script>alert(1)</script>",
    "'-alert(1)-'${alert(1)}`",
    '<a href="javascript:alert(1)">x</a>',
]

#: Text a planner's attribute table may hold: Chinese, quotes, delimiters, newlines, markup.
ATTR_SAMPLES = ["济南", "趵突泉,公园", '"引号"', "a\nb", "<b>x</b>", "0531", "", "１２３"]

#: Provenance of the hostile layers (the payload is appended to each value).
PROVENANCE = {"source": "test", "source_datum": "WGS84", "precision": "approximate"}


def _frame(columns: dict[str, list[object]], geoms: list[shapely.Geometry]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=geoms, crs="EPSG:4326")


def hostile_layers(p: str) -> dict[str, gpd.GeoDataFrame]:
    """Every default store layer with ``p`` in each text cell (the same columns as the store)."""
    pt, box = shapely.Point(117.02, 36.67), shapely.box(117.0, 36.6, 117.05, 36.65)
    line = shapely.LineString([(117.0, 36.70), (117.0, 36.73)])
    prov: dict[str, list[object]] = {k: [v + p] for k, v in PROVENANCE.items()}
    return {
        "districts": _frame({"name": ["历下区" + p], "density": [1000.0], "area_km2": [10.0], **prov}, [box]),
        "starting_zone": _frame({"name": ["起步区" + p], **prov}, [box]),
        "metro_rings": _frame({"name": ["德州" + p], "ring": ["core" + p], "sentence": ["一句" + p],
                               "distance_km": [100.0], **prov}, [pt]),
        "yellow_river": _frame({"name": ["黄河" + p], **prov}, [line]),
        "river_crossings": _frame({"name": ["桥" + p], "status": ["open" + p], "mode": ["bridge" + p],
                                   "carries": ["road" + p], "opened": [2020], **prov}, [line]),
        "parks": _frame({"name": ["公园" + p], "note": [p], **prov}, [box]),
        "greenways": _frame({"name": ["绿道" + p], **prov}, [line]),
        "places": _frame({"id": ["P1" + p], "name": ["趵突泉" + p], "aliases": [p], "kind": [p],
                          "district": [p], **prov}, [pt]),
        "report_items": _frame({
            "item_id": ["p1-s1-001-abcdef" + p], "part": [1], "part_title": ["回顾" + p],
            "section": [1], "section_title": ["章节" + p], "topic": ["主题" + p], "year": [2023],
            "category": ["parks" + p], "text": ["新建公园" + p + "。"], "start": [0], "end": [5],
            "quantities": [json.dumps([{"raw": "10处" + p, "subject": p}], ensure_ascii=False)],
            "mentions": [json.dumps([{"text": p, "place_id": None}], ensure_ascii=False)],
            "place_id": ["P1" + p], "place_name": ["趵突泉" + p], "geocode_status": ["place" + p],
            **prov}, [pt]),
    }


def hostile_upload(p: str) -> bytes:
    """A GeoJSON upload with the payload as values and as a column name."""
    doc = {"type": "FeatureCollection", "features": [{
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [117.03, 36.66]},
        "properties": {"name": p, p: p, "备注": "见 " + p},
    }]}
    return json.dumps(doc).encode("utf-8")


# --------------------------------------------------------------------------- uploads


def jinan_frame(kind: str, names: list[str], values: list[float], *, seed: int | None = None) -> gpd.GeoDataFrame:
    """Points, lines or polygons in Jinan with a Chinese text column, a number and a rank.

    Parameters
    ----------
    kind : {"point", "line", "polygon"}
    names, values : list
        One per feature.
    seed : int, optional, keyword-only
        Seed of the coordinates (default: the number of features).
    """
    n = len(names)
    rng = np.random.default_rng(n if seed is None else seed)
    x = rng.uniform(JINAN_BOX[0], JINAN_BOX[2], n)
    y = rng.uniform(JINAN_BOX[1], JINAN_BOX[3], n)
    if kind == "point":
        geoms = list(shapely.points(x, y))
    elif kind == "line":
        geoms = [shapely.LineString([(a, b), (a + 0.01, b + 0.005)]) for a, b in zip(x, y, strict=True)]
    else:
        geoms = [shapely.box(a, b, a + 0.01, b + 0.008) for a, b in zip(x, y, strict=True)]
    return gpd.GeoDataFrame({"名称": names, "value": values, "rank": list(range(n))}, geometry=geoms,
                            crs="EPSG:4326")


def random_frame(rng: random.Random, kind: str | None = None, *, max_rows: int = 6) -> gpd.GeoDataFrame:
    """A small :func:`jinan_frame` with awkward names, drawn from ``rng``."""
    kind = kind or rng.choice(["point", "line", "polygon"])
    n = rng.randrange(1, max_rows + 1)
    names = [rng.choice([*ATTR_SAMPLES, rand_text(rng, 6).replace("\x00", "")]) for _ in range(n)]
    values = [rng.uniform(-1e6, 1e6) for _ in range(n)]
    return jinan_frame(kind, names, values, seed=rng.randrange(2**31))


def file_bytes(gdf: gpd.GeoDataFrame, fmt: str) -> tuple[bytes, str]:
    """The frame as the file a planner would upload: ``(bytes, file name)``.

    ``fmt`` is one of :data:`UPLOAD_FORMATS`; a shapefile comes zipped, a CSV
    holds points as ``lon``/``lat`` and other geometries as ``wkt``.
    """
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if fmt == "geojson":
            gdf.to_file(folder / "layer.geojson", driver="GeoJSON", engine="pyogrio")
            return (folder / "layer.geojson").read_bytes(), "layer.geojson"
        if fmt == "gpkg":
            gdf.to_file(folder / "layer.gpkg", driver="GPKG", layer="layer", engine="pyogrio")
            return (folder / "layer.gpkg").read_bytes(), "layer.gpkg"
        if fmt == "shp":
            gdf.to_file(folder / "layer.shp", driver="ESRI Shapefile", encoding="UTF-8", engine="pyogrio")
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
                for part in sorted(folder.glob("layer.*")):
                    zf.write(part, arcname=part.name)
            return buf.getvalue(), "layer.zip"
        table = gdf.drop(columns="geometry").copy()
        if (gdf.geom_type == "Point").all():
            table["lon"], table["lat"] = gdf.geometry.x, gdf.geometry.y
        else:
            table["wkt"] = gdf.geometry.to_wkt()
        return table.to_csv(index=False).encode("utf-8"), "layer.csv"


def damage(rng: random.Random, data: bytes) -> bytes:
    """``data`` with one to six random byte flips, truncations, insertions or zeroed runs."""
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


def noise_file(rng: random.Random) -> tuple[bytes, str]:
    """Random bytes after a random magic number, under a random extension."""
    return (rng.choice(MAGIC_HEADS) + rng.randbytes(rng.randrange(0, 600)),
            "upload" + rng.choice(UPLOAD_EXTENSIONS))


# --------------------------------------------------------------------------- zip archives


def zip_of(members: dict[str, bytes] | list[tuple[str, bytes]], *, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip archive of ``name -> bytes`` members."""
    items = members.items() if isinstance(members, dict) else members
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in items:
            zf.writestr(name, data)
    return buf.getvalue()


def patch_central(data: bytes, *, offset: int, fmt: str, value: int) -> bytes:
    """Overwrite a field of every central-directory header of a zip (sizes, method, flags)."""
    out = bytearray(data)
    pos = out.find(b"PK\x01\x02")
    while pos >= 0:
        struct.pack_into(fmt, out, pos + offset, value)
        pos = out.find(b"PK\x01\x02", pos + 4)
    return bytes(out)


#: Stored bytes that a central directory claims are compressed: a damaged
#: deflate stream, and an LZMA header with impossible filter properties.
BAD_STREAMS = {
    zipfile.ZIP_DEFLATED: b"\x07" * 300,
    zipfile.ZIP_LZMA: b"\xe6&\xca\x00\x9e%\x82t\xfd" + bytes(291),
}


def zip_with_bad_stream(method: int) -> bytes:
    """A zip whose central directory says ``method`` for bytes that are not."""
    return patch_central(zip_of({"layer.shp": BAD_STREAMS[method]}, method=zipfile.ZIP_STORED), offset=10,
                         fmt="<H", value=method)


def zip_attacks(shp_zip: bytes) -> dict[str, bytes]:
    """Crafted hostile archives around a real zipped shapefile, by name. Each must be refused."""
    with zipfile.ZipFile(io.BytesIO(shp_zip)) as zf:
        shp = [(i.filename, zf.read(i)) for i in zf.infolist()]
    attacks = {
        "traversal ../": zip_of([("../../escaped.shp", b"x" * 100), *shp]),
        "traversal ..\\": zip_of([("..\\..\\escaped.shp", b"x" * 100), *shp]),
        "traversal in folder": zip_of([("a/../../escaped.dbf", b"x"), *shp]),
        "absolute path": zip_of([("/tmp/planatlas-escaped.shp", b"x"), *shp]),
        "drive letter": zip_of([("C:/escaped.shp", b"x"), *shp]),
        "colon (NTFS stream)": zip_of([("layer.shp:evil", b"x"), *shp]),
        "control characters": zip_of([("lay\x1b[2Jer.shp", b"x"), *shp]),
        "too many members": zip_of([(f"f{i}.txt", b"") for i in range(300)]),
        "nested zip only": zip_of([("inner.zip", shp_zip)]),
        "no layer in zip": zip_of([("readme.txt", b"hello")]),
        "empty zip": zip_of([]),
        "shapefile without .shx": zip_of([m for m in shp if not m[0].endswith(".shx")]),
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:  # a symbolic link member pointing outside
        info = zipfile.ZipInfo("layer.shp")
        info.external_attr = 0o120777 << 16
        zf.writestr(info, "/etc/passwd")
        for name, data in shp:
            if not name.endswith(".shp"):
                zf.writestr(name, data)
    attacks["symlink member"] = buf.getvalue()
    # 64 MB of zeros in one member (ratio about 1000 : 1)
    attacks["zip bomb (ratio)"] = zip_of([("layer.dbf", bytes(64 * 1024 * 1024)), *shp[:1]])
    # declared sizes that lie: the header says 10 bytes, the member holds 2 MB
    lying = zip_of([("layer.dbf", bytes(2 * 1024 * 1024))])
    attacks["size smaller than content"] = patch_central(lying, offset=24, fmt="<I", value=10)
    attacks["declared total > limit"] = patch_central(zip_of([("a.txt", b"x")]), offset=24, fmt="<I",
                                                      value=0xFFFFFFF0)
    attacks["encrypted flag"] = patch_central(shp_zip, offset=8, fmt="<H", value=0x1)
    attacks["damaged deflate stream"] = zip_with_bad_stream(zipfile.ZIP_DEFLATED)
    attacks["damaged LZMA stream"] = zip_with_bad_stream(zipfile.ZIP_LZMA)
    attacks["unknown compression"] = patch_central(
        zip_of([("layer.shp", b"x" * 300)], method=zipfile.ZIP_STORED), offset=10, fmt="<H", value=99)
    attacks["truncated archive"] = shp_zip[: len(shp_zip) // 2]
    return attacks


# --------------------------------------------------------------------------- files that read other files

#: A file of the server an upload must never read back (the tests point at it).
PASSWD = Path("/etc/passwd")


def vrt_reading(target: str) -> bytes:
    """An OGR VRT serving ``target`` (a CSV-readable file) as a point layer in Jinan."""
    return (
        '<OGRVRTDataSource><OGRVRTLayer name="leak">'
        f"<SrcDataSource>CSV:{target}</SrcDataSource>"
        "<SrcSQL dialect=\"SQLITE\">SELECT *, 'POINT (117.02 36.66)' AS wkt FROM leak</SrcSQL>"
        "<GeometryType>wkbPoint</GeometryType><LayerSRS>EPSG:4326</LayerSRS>"
        '<GeometryField encoding="WKT" field="wkt"/></OGRVRTLayer></OGRVRTDataSource>'
    ).encode()


def gdalg_reading(target: str, *, type_first: bool = False) -> bytes:
    """A GDALG pipeline reading ``target``; its ``type`` member last unless ``type_first``."""
    body = {"command_line": f"gdal vector pipeline ! read CSV:{target}",
            "relative_paths_relative_to_this_file": False}
    doc = {"type": "gdal_streamed_alg", **body} if type_first else {**body, "type": "gdal_streamed_alg"}
    return json.dumps(doc).encode()


#: What GDAL's content sniffing would open for a file of any name.
PASSWD_VRT = (
    b'<OGRVRTDataSource><OGRVRTLayer name="passwd">'
    b"<SrcDataSource>CSV:/etc/passwd</SrcDataSource>"
    b"<SrcSQL dialect=\"SQLITE\">SELECT *, 'POINT (117.02 36.66)' AS wkt FROM passwd</SrcSQL>"
    b"<GeometryType>wkbPoint</GeometryType><LayerSRS>EPSG:4326</LayerSRS>"
    b'<GeometryField encoding="WKT" field="wkt"/></OGRVRTLayer></OGRVRTDataSource>'
)
PASSWD_GDALG = gdalg_reading("/etc/passwd")

#: KML, GPX and GML: formats planatlas does not read, which GDAL would open under any name.
FOREIGN_XML = {
    "KML": b'<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
           b"<Placemark><name>x</name><Point><coordinates>117.02,36.66</coordinates></Point></Placemark>"
           b"</Document></kml>",
    "GPX": b'<?xml version="1.0"?>\n<!-- from a GPS -->\n<gpx version="1.1" creator="t" '
           b'xmlns="http://www.topografix.com/GPX/1/1"><wpt lat="36.66" lon="117.02"><name>x</name></wpt></gpx>',
    "GML": b'<?xml version="1.0" encoding="utf-8" ?>\n<ogr:FeatureCollection xmlns:ogr="http://ogr.maptools.org/" '
           b'xmlns:gml="http://www.opengis.net/gml"><gml:featureMember><ogr:x><ogr:geometryProperty>'
           b"<gml:Point><gml:coordinates>117.02,36.66</gml:coordinates></gml:Point></ogr:geometryProperty>"
           b"</ogr:x></gml:featureMember></ogr:FeatureCollection>",
}


def passwd_secrets() -> list[str]:
    """Lines of /etc/passwd: none of them may come back from planatlas."""
    return [line for line in PASSWD.read_text(errors="replace").splitlines() if line.strip()]


# --------------------------------------------------------------------------- store frames


_PTS = [shapely.Point(117.02, 36.67), shapely.Point(117.05, 36.66)]


def good_frame(n: int = 2) -> gpd.GeoDataFrame:
    """``n`` points in Jinan named 趵突泉0, 趵突泉1 …"""
    return gpd.GeoDataFrame({"name": [f"趵突泉{i}" for i in range(n)], "v": list(range(n))},
                            geometry=(_PTS * n)[:n], crs="EPSG:4326")


#: Frames GDAL cannot write: the store must refuse them and keep the previous store.
BAD_FRAMES: dict[str, Callable[[], gpd.GeoDataFrame]] = {
    "case-duplicate columns": lambda: gpd.GeoDataFrame({"Name": ["a", "b"], "name": ["c", "d"]},
                                                       geometry=_PTS, crs="EPSG:4326"),
    "complex numbers": lambda: gpd.GeoDataFrame({"c": [1 + 2j, 3j]}, geometry=_PTS, crs="EPSG:4326"),
    "integer column name": lambda: gpd.GeoDataFrame({5: ["a", "b"]}, geometry=_PTS, crs="EPSG:4326"),
    "no CRS": lambda: gpd.GeoDataFrame({"name": ["a", "b"]}, geometry=_PTS),
}

#: Layer names the store must refuse (empty, its own table, GeoPackage's and SQLite's).
BAD_LAYER_NAMES = ["", "   ", "planatlas_layers", "gpkg_contents", "sqlite_master", "GPKG_x"]

#: Layer names that are fine in a store but would escape a folder as file names.
ESCAPING_NAMES = ["../../escaped", "..", ".", "", "a/b", "a\\b", "x\x00y", "../" * 10 + "escaped", "/tmp/escaped"]


def layer_set(rng: random.Random) -> dict[str, gpd.GeoDataFrame]:
    """One to four layers to write into a store, some good, some unwritable, some badly named."""
    layers: dict[str, gpd.GeoDataFrame] = {}
    for _ in range(rng.randrange(1, 5)):
        roll = rng.random()
        if roll < 0.5:
            layers[rng.choice(["parks", "places", "districts", "grid", "上传图层", "a b"])] = good_frame(
                rng.randrange(0, 4))
        elif roll < 0.8:
            layers[f"bad{rng.randrange(3)}"] = BAD_FRAMES[rng.choice(sorted(BAD_FRAMES))]()
        else:
            layers[rng.choice(BAD_LAYER_NAMES)] = good_frame(1)
    return layers


# --------------------------------------------------------------------------- files that point elsewhere


def disclosure_files(secret: Path, rng: random.Random) -> list[tuple[str, bytes]]:
    """Files that would make a reader open ``secret`` (or a URL), as ``(kind, bytes)``, with variations.

    OGR VRTs (with a BOM, leading blanks, comments, an XML declaration, upper
    case), GDALG pipelines (``type`` first or last), GeoJSON whose ``crs``
    links to the file, a raster VRT over it, and KML, GPX and GML, which
    planatlas does not read at all.
    """
    vrt = vrt_reading(str(secret))
    raster_vrt = (f'<VRTDataset rasterXSize="10" rasterYSize="10"><VRTRasterBand dataType="Byte" band="1">'
                  f"<SimpleSource><SourceFilename>{secret}</SourceFilename><SourceBand>1</SourceBand>"
                  "</SimpleSource></VRTRasterBand></VRTDataset>").encode()
    link = json.dumps({"type": "FeatureCollection",
                       "crs": {"type": "link", "properties": {"href": str(secret), "type": "ogcwkt"}},
                       "features": [{"type": "Feature", "properties": {},
                                     "geometry": {"type": "Point", "coordinates": [117.02, 36.66]}}]}).encode()
    prologue = rng.choice([b"", b"\xef\xbb\xbf", b"  \n\t", b"<?xml version='1.0'?>\n", b"<!-- x -->\n"])
    files = [
        ("vrt", vrt),
        ("vrt with prologue", prologue + vrt),
        ("vrt upper case", vrt.replace(b"OGRVRTDataSource", b"OGRVRTDATASOURCE")),
        ("gdalg type last", gdalg_reading(str(secret))),
        ("gdalg type first", gdalg_reading(str(secret), type_first=True)),
        ("geojson crs link", link),
        ("raster vrt", raster_vrt),
        ("vsicurl vrt", vrt_reading("/vsicurl/http://127.0.0.1:9/leak.csv")),
        *((kind.lower(), data) for kind, data in FOREIGN_XML.items()),
    ]
    return files


def secret_file(folder: Path) -> tuple[Path, str]:
    """A CSV-readable file holding a canary that must never come back, and the canary."""
    canary = "PLANATLAS_CANARY_" + "".join(random.Random(str(folder)).choice("ABCDEFGHJK") for _ in range(12))
    path = folder / "secret.csv"
    path.write_text(f"name,lon,lat\n{canary},117.02,36.66\n", encoding="utf-8")
    return path, canary


# --------------------------------------------------------------------------- paths a user may name


def hostile_paths(folder: Path, *, suffix: str, planted: dict[str, Path]) -> dict[str, str]:
    """Paths of every kind a user can type where planatlas expects a file, by a name for reports.

    Created in ``folder``: a folder, a FIFO, a symbolic link loop, a link to
    a foreign file, a file whose parent is a file, a name with control
    characters, a very long name, an empty file and a file of garbage, each
    with ``suffix``; plus system paths (/dev/null, /dev/zero, /proc/…) and
    GDAL's virtual paths. ``planted`` maps names to existing files to include
    (the store, a foreign file …).
    """
    import os

    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"a_folder{suffix}").mkdir(exist_ok=True)
    fifo = folder / f"fifo{suffix}"
    if not fifo.exists():
        os.mkfifo(fifo)
    loop = folder / f"loop{suffix}"
    if not loop.is_symlink():
        loop.symlink_to(loop)
    a_file = folder / "a_file"
    a_file.write_text("x")
    empty = folder / f"empty{suffix}"
    empty.write_bytes(b"")
    garbage = folder / f"garbage{suffix}"
    garbage.write_bytes(bytes(range(256)) * 16)
    paths = {
        "missing": str(folder / f"missing{suffix}"),
        "folder": str(folder / f"a_folder{suffix}"),
        "fifo": str(fifo),
        "symlink loop": str(loop),
        "parent is a file": str(a_file / f"x{suffix}"),
        "control characters": str(folder / f"ctl\x1b[31m\u202e{suffix}"),
        "very long name": str(folder / ("长" * 120 + suffix)),
        "empty": str(empty),
        "garbage": str(garbage),
        "/dev/null": "/dev/null",
        "/dev/zero": "/dev/zero",
        "/proc file": "/proc/version",
        "vsicurl": f"/vsicurl/http://127.0.0.1:9/x{suffix}",
        "driver prefix": "CSV:/etc/passwd",
    }
    for name, target in planted.items():
        paths[name] = str(target)
        link = folder / f"link_to_{name.replace(' ', '_')}{suffix}"
        if not link.is_symlink():
            link.symlink_to(target)
        paths[f"link to {name}"] = str(link)
    return paths


# --------------------------------------------------------------------------- damaged stores

#: Ways a store on disk gets damaged.
STORE_DAMAGE = ("truncate", "garbage", "empty", "zero pages", "flip bytes", "drop layer table",
                "drop a layer", "garbage geometry", "not sqlite", "header only")


def damage_store(store: Path, out: Path, how: str, rng: random.Random) -> Path:
    """A copy of ``store`` at ``out`` damaged as ``how`` (one of :data:`STORE_DAMAGE`)."""
    import shutil
    import sqlite3

    data = store.read_bytes()
    if how == "truncate":
        out.write_bytes(data[: rng.randrange(100, len(data) - 1)])
    elif how == "garbage":
        out.write_bytes(rng.randbytes(rng.randrange(1, 200_000)))
    elif how == "empty":
        out.write_bytes(b"")
    elif how == "header only":
        out.write_bytes(data[:100])
    elif how == "not sqlite":
        out.write_bytes(b'{"type": "FeatureCollection", "features": []}')
    elif how == "zero pages":
        buf = bytearray(data)
        page = 4096
        for _ in range(rng.randrange(1, 6)):
            i = rng.randrange(1, max(2, len(buf) // page)) * page
            buf[i:i + page] = bytes(len(buf[i:i + page]))
        out.write_bytes(bytes(buf))
    elif how == "flip bytes":
        buf = bytearray(data)
        for _ in range(rng.randrange(1, 40)):
            buf[rng.randrange(100, len(buf))] ^= rng.randrange(1, 256)
        out.write_bytes(bytes(buf))
    else:
        shutil.copyfile(store, out)
        con = sqlite3.connect(out)
        try:
            for fn in ("ST_IsEmpty", "ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY"):
                con.create_function(fn, 1, lambda *a: 0)
            if how == "drop layer table":
                con.execute('DROP TABLE "planatlas_layers"')
            elif how == "drop a layer":
                name = rng.choice([r[0] for r in con.execute(
                    "SELECT table_name FROM gpkg_contents WHERE data_type = 'features'")])
                con.execute(f'DROP TABLE "{name}"')
            else:  # garbage geometry blobs in every other row of every layer
                for table, column in con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns"
                                                 ).fetchall():
                    con.execute(f'UPDATE "{table}" SET "{column}" = randomblob(?) WHERE rowid % 2 = 1',
                                (rng.randrange(8, 80),))
            con.commit()
        finally:
            con.close()
    return out


# --------------------------------------------------------------------------- large inputs


def wide_csv(n_columns: int) -> bytes:
    """A CSV with ``n_columns`` columns (two of them lon/lat) and one row."""
    header = ",".join(["lon", "lat", *(f"c{i}" for i in range(n_columns - 2))])
    row = ",".join(["117.02", "36.66", *("1" for _ in range(n_columns - 2))])
    return f"{header}\n{row}\n".encode()


def long_csv(n_rows: int, rng: random.Random) -> bytes:
    """A CSV of ``n_rows`` points in Jinan."""
    lines = ["name,lon,lat"]
    for i in range(n_rows):
        x, y = rng.uniform(JINAN_BOX[0], JINAN_BOX[2]), rng.uniform(JINAN_BOX[1], JINAN_BOX[3])
        lines.append(f"p{i},{x:.6f},{y:.6f}")
    return ("\n".join(lines) + "\n").encode()


def nested_collection_wkt(depth: int) -> str:
    """A point inside ``depth`` nested GeometryCollections."""
    return "GEOMETRYCOLLECTION (" * depth + "POINT (117.02 36.66)" + ")" * depth


def nested_collection_geojson(depth: int) -> bytes:
    """A GeoJSON feature whose geometry is a point inside ``depth`` nested collections (written as text:
    ``json.dumps`` itself cannot nest that deep)."""
    geom = '{"type": "Point", "coordinates": [117.02, 36.66]}'
    geom = '{"type": "GeometryCollection", "geometries": [' * depth + geom + "]}" * depth
    head = '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"d": ' + str(depth)
    return (head + '}, "geometry": ' + geom + "}]}").encode()


def sparse_geotiff(path: Path, *, width: int, height: int) -> Path:
    """A tiled, deflated GeoTIFF of ``width`` x ``height`` cells that is tiny on disk (sparse tiles)."""
    import warnings

    import rasterio
    from rasterio.transform import from_origin

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with rasterio.open(path, "w", driver="GTiff", width=width, height=height, count=1, dtype="float32",
                           crs="EPSG:4326", transform=from_origin(116.8, 36.8, 1e-5, 1e-5), tiled=True,
                           blockxsize=512, blockysize=512, compress="deflate", sparse_ok=True, nodata=0):
            pass
    return path


def small_geotiff(path: Path, *, origin: tuple[float, float], cells: int = 20, value: float = 100.0,
                  cell_deg: float = 0.005) -> Path:
    """A ``cells`` x ``cells`` GeoTIFF of ``cell_deg`` degree cells from ``origin`` (west, north), ``value`` each."""
    import warnings

    import rasterio
    from rasterio.transform import from_origin

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with rasterio.open(path, "w", driver="GTiff", width=cells, height=cells, count=1, dtype="float32",
                           crs="EPSG:4326", transform=from_origin(origin[0], origin[1], cell_deg, cell_deg)) as ds:
            ds.write(np.full((cells, cells), value, dtype="float32"), 1)
    return path


#: Places for a population raster: inside Jinan, and places it does not overlap.
RASTER_ORIGINS = {"jinan": (116.9, 36.75), "beijing": (116.3, 40.0), "ocean": (150.0, 10.0),
                  "null island": (0.0, 0.05)}
