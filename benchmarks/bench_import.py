"""Benchmark of ``planatlas import-osm`` on an extract of at least 500,000 nodes (a script, not a test).

Prints the import time and the peak memory (the resident set size of the
process, ``ru_maxrss`` from ``os.wait4``) of a full import — walking, cycling
and driving networks, facilities by type, green space, residential land and
buildings, written into a new project store — side by side with pyrosm
reading the same things from the same file (its three networks, buildings,
landuse and POIs, held in memory as GeoDataFrames). Each run is a fresh
subprocess, so one does not inherit the other's memory.

Without ``--file`` the script first writes its own synthetic city as
``.osm.pbf`` (``--nodes``, default 600,000): a jittered street grid around
Jinan cut into ways at every second block (primary to residential, some
one-way, Chinese names), footpaths through blocks, 4-16 buildings per block
(60 % with ``building:levels``), residential land, parks (a third as
multipolygons with a pond), and POI nodes of the life-circle types. Node ids
rise by random gaps up to about 1.2e10, as a real extract's do: dense ids
1..N would hide the cost of location indexes that grow with the largest id.

Usage::

    python benchmarks/bench_import.py                           # generate 600,000 nodes, run both
    python benchmarks/bench_import.py --file shandong.osm.pbf --clip-bbox 116.9,36.6,117.2,36.75
    python benchmarks/bench_import.py --nodes 1500000 --only planatlas
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LON0, LAT0 = 117.0, 36.65
BLOCK_M = 150.0
DEG_LAT = 1.0 / 111_320.0
DEG_LON = 1.0 / (111_320.0 * math.cos(math.radians(LAT0)))
ROADS = ["经十", "历山", "泉城", "和平", "解放", "文化", "舜耕", "燕山", "花园", "北园", "英雄山", "奥体"]
POIS = [  # (key, value, name, weight): what a Chinese city's OSM data holds, life-circle types and not
    ("amenity", "restaurant", "餐馆", 30), ("shop", "convenience", "便利店", 20), ("shop", "supermarket", "超市", 6),
    ("amenity", "pharmacy", "大药房", 8), ("amenity", "clinic", "社区卫生服务站", 5),
    ("amenity", "kindergarten", "幼儿园", 4), ("amenity", "school", "小学", 2), ("amenity", "bank", "银行", 6),
    ("highway", "bus_stop", "公交站", 6), ("shop", "hairdresser", "理发店", 5), ("amenity", "cafe", "咖啡馆", 5),
]


# --------------------------------------------------------------------------- the synthetic extract


class _Ids:
    """Rising ids with random gaps (a real extract's spread)."""

    def __init__(self, rng: random.Random, start: int, gap: int) -> None:
        self.rng, self.value, self.gap = rng, start, gap

    def __call__(self) -> int:
        self.value += self.rng.randint(1, self.gap)
        return self.value


def write_city(path: Path, *, nodes: int, seed: int = 1) -> dict[str, int]:
    """Write a synthetic city of about ``nodes`` nodes to ``path`` (.osm.pbf); return what it holds."""
    import osmium
    import osmium.osm.mutable as mut

    rng = random.Random(seed)
    side = max(4, round(math.sqrt(nodes / 47.0)))  # about 47 nodes per block, measured on this generator
    node_id, way_id, rel_id = _Ids(rng, 10**9, 18_000), _Ids(rng, 10**8, 5_000), _Ids(rng, 10**6, 2_000)
    out_nodes: list[tuple[int, float, float, dict[str, str]]] = []
    out_ways: list[tuple[int, list[int], dict[str, str]]] = []
    out_rels: list[tuple[int, list[tuple[str, int, str]], dict[str, str]]] = []

    def node(x_m: float, y_m: float, tags: dict[str, str] | None = None) -> int:
        i = node_id()
        out_nodes.append((i, LON0 + x_m * DEG_LON, LAT0 + y_m * DEG_LAT, tags or {}))
        return i

    def way(refs: list[int], tags: dict[str, str]) -> int:
        i = way_id()
        out_ways.append((i, refs, tags))
        return i

    def ring(x: float, y: float, w: float, h: float) -> list[int]:
        a, b, c, d = node(x, y), node(x + w, y), node(x + w, y + h), node(x, y + h)
        return [a, b, c, d, a]

    step = BLOCK_M / 3
    grid = {}
    for i in range(side * 3 + 1):  # street vertices every 50 m, shared at crossings
        for j in range(side * 3 + 1):
            if i % 3 == 0 or j % 3 == 0:
                grid[i, j] = node(i * step + rng.uniform(-3, 3), j * step + rng.uniform(-3, 3))
    for line in range(side + 1):
        kind = "primary" if line % 8 == 0 else "secondary" if line % 4 == 0 else "residential"
        for horizontal in (True, False):
            name = f"{ROADS[line % len(ROADS)]}{'路' if horizontal else '街'}"
            pts = [grid[(k, line * 3) if horizontal else (line * 3, k)] for k in range(side * 3 + 1)]
            for start in range(0, len(pts) - 1, 6):  # ways of two blocks
                tags = {"highway": kind, "name": name}
                if kind == "secondary" and rng.random() < 0.3:
                    tags["oneway"] = "yes"
                way(pts[start:start + 7], tags)
    for bi in range(side):
        for bj in range(side):
            x0, y0 = bi * BLOCK_M, bj * BLOCK_M
            if rng.random() < 0.2:  # a footpath across the block, joining two streets
                way([grid[bi * 3 + 1, bj * 3], grid[bi * 3 + 1, bj * 3 + 3]], {"highway": "footway"})
            if rng.random() < 0.03:
                outer = ring(x0 + 10, y0 + 10, 130, 130)
                if rng.random() < 1 / 3:
                    inner = ring(x0 + 50, y0 + 50, 40, 40)
                    wo, wi = way(outer, {}), way(inner, {"natural": "water"})
                    out_rels.append((rel_id(), [("w", wo, "outer"), ("w", wi, "inner")],
                                     {"type": "multipolygon", "leisure": "park", "name": "公园"}))
                else:
                    way(outer, {"leisure": "park", "name": "游园"})
                continue
            if rng.random() < 0.5:
                way(ring(x0 + 8, y0 + 8, 134, 134), {"landuse": "residential", "name": "小区"})
            for _ in range(rng.randint(4, 16)):
                bx, by = x0 + rng.uniform(12, 110), y0 + rng.uniform(12, 110)
                tags = {"building": rng.choice(["yes", "residential", "apartments", "commercial"])}
                if rng.random() < 0.6:
                    tags["building:levels"] = str(rng.randint(2, 33))
                way(ring(bx, by, rng.uniform(10, 25), rng.uniform(10, 25)), tags)
            for _ in range(rng.choices([0, 1, 2, 3], [3, 3, 2, 1])[0]):
                key, value, label, _w = rng.choices(POIS, [p[3] for p in POIS])[0]
                node(x0 + rng.uniform(5, 145), y0 + rng.uniform(5, 145), {key: value, "name": f"{label}{bi}-{bj}"})
    with osmium.SimpleWriter(str(path), overwrite=True) as writer:
        for i, lon, lat, tags in out_nodes:
            writer.add_node(mut.Node(id=i, location=(lon, lat), tags=tags, version=1))
        for i, refs, tags in out_ways:
            writer.add_way(mut.Way(id=i, nodes=refs, tags=tags, version=1))
        for i, members, tags in out_rels:
            writer.add_relation(mut.Relation(id=i, members=members, tags=tags, version=1))
    return {"nodes": len(out_nodes), "ways": len(out_ways), "relations": len(out_rels)}


def count_nodes(path: Path) -> int:
    import osmium

    return sum(1 for _ in osmium.FileProcessor(str(path), osmium.osm.NODE))


# --------------------------------------------------------------------------- the readers (run as workers)


def _planatlas(file: str, out: str, bbox: str | None) -> dict[str, object]:
    from spatial import intake

    clip = intake.clip_area(bbox=tuple(float(v) for v in bbox.split(","))) if bbox else None  # type: ignore[arg-type]
    t0 = time.perf_counter()
    result = intake.import_osm(file, store_path=Path(out) / "bench.gpkg", clip=clip)
    return {"seconds": time.perf_counter() - t0, "layers": result.layers,
            "store_mb": (Path(out) / "bench.gpkg").stat().st_size / 2**20}


def _pyrosm(file: str, out: str, bbox: str | None) -> dict[str, object]:
    import pyrosm

    t0 = time.perf_counter()
    osm = pyrosm.OSM(file, bounding_box=[float(v) for v in bbox.split(",")] if bbox else None)
    kept: dict[str, object] = {}
    for mode in ("walking", "cycling", "driving"):
        found = osm.get_network(network_type=mode, nodes=True)
        kept[f"network_{mode}"] = (0, 0) if found is None else (len(found[0]), len(found[1]))
    for name, frame in (("buildings", osm.get_buildings()), ("landuse", osm.get_landuse()),
                        ("pois", osm.get_pois(custom_filter={"amenity": True, "shop": True, "leisure": True,
                                                             "highway": ["bus_stop"]}))):
        kept[name] = 0 if frame is None else len(frame)
    return {"seconds": time.perf_counter() - t0, "layers": kept}


WORKERS = {"planatlas": _planatlas, "pyrosm": _pyrosm}


def run(reader: str, file: Path, bbox: str | None) -> dict[str, object]:
    """One reader in a fresh process: its own figures, plus peak RSS from the kernel."""
    with tempfile.TemporaryDirectory(prefix="bench-import-") as out:
        args = [sys.executable, __file__, "--worker", reader, str(file), out] + (["--clip-bbox", bbox] if bbox else [])
        env = {**os.environ, "PLANATLAS_DATA_DIR": out}
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
        wall = time.perf_counter()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - wall
        stdout, stderr = proc.stdout.read(), proc.stderr.read()  # type: ignore[union-attr]
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        return {"error": stderr.strip().splitlines()[-1] if stderr.strip() else f"exit {proc.returncode}"}
    figures = json.loads(stdout.strip().splitlines()[-1])
    figures["wall_s"] = wall
    figures["peak_rss_mb"] = usage.ru_maxrss / 1024  # kilobytes on Linux
    return figures


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--file", type=Path, help="an .osm.pbf or .osm extract (default: generate one)")
    ap.add_argument("--nodes", type=int, default=600_000, help="nodes of the generated extract")
    ap.add_argument("--clip-bbox", help="W,S,E,N: import only this box (both readers)")
    ap.add_argument("--only", choices=sorted(WORKERS), help="run one reader")
    ap.add_argument("--keep", type=Path, help="keep the generated extract at this path")
    ap.add_argument("--worker", nargs=3, metavar=("READER", "FILE", "OUT"), help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.worker:
        reader, file, out = a.worker
        print(json.dumps(WORKERS[reader](file, out, a.clip_bbox), ensure_ascii=False, default=str))
        return
    with tempfile.TemporaryDirectory(prefix="bench-city-") as tmp:
        file = a.file
        if file is None:
            file = a.keep or Path(tmp) / f"city_{a.nodes}.osm.pbf"
            t = time.perf_counter()
            held = write_city(file, nodes=a.nodes)
            print(f"generated {file.name}: {held['nodes']:,} nodes, {held['ways']:,} ways, "
                  f"{held['relations']:,} relations, {file.stat().st_size / 2**20:.1f} MB "
                  f"in {time.perf_counter() - t:.1f} s")
        n = count_nodes(file)
        print(f"extract {file.name}: {n:,} nodes, {file.stat().st_size / 2**20:.1f} MB"
              + (f", clipped to {a.clip_bbox}" if a.clip_bbox else ""))
        print(f"{'reader':<10} {'import s':>9} {'peak RSS MB':>12}  what came out")
        for reader in [a.only] if a.only else list(WORKERS):
            r = run(reader, file, a.clip_bbox)
            if "error" in r:
                print(f"{reader:<10} {'-':>9} {'-':>12}  failed: {r['error']}")
                continue
            layers = ", ".join(f"{k} {v}" for k, v in dict(r["layers"]).items())  # type: ignore[call-overload]
            print(f"{reader:<10} {r['wall_s']:>9.1f} {r['peak_rss_mb']:>12,.0f}  {layers}")
        print("planatlas: one pyosmium pass, written into a GeoPackage store; pyrosm: held in memory.")


if __name__ == "__main__":
    main()
