"""``planatlas import-osm | import-poi | import-roads | import-units | import-population | fetch-osm | demo``.

A city's own data into the project store, one command each (:mod:`spatial.intake`).
Each prints what it wrote, layer by layer with counts, and every guess and
conversion it made; a failure prints one line and leaves the store as it was.
``--store PATH`` names the project (a new ``.gpkg`` is created); without it
the default store (built from the embedded report) takes the layers.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

from .. import facilities, intake, settings, store, vocab
from .._errors import ParameterError, StoreError
from ..io import _outputs
from ..io.roads import parse_modes
from ..network import MODES
from ._common import add_force_argument, plan_outputs, record_outputs, step, warn
from ._parser import bbox, positive_float


def _store_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", help="项目数据库 GeoPackage (.gpkg；不存在时新建；"
                        "默认：用户数据目录中的 planatlas.gpkg)")
    add_force_argument(parser)


def import_store(args: argparse.Namespace, *, reading: Sequence[str | None] = ()) -> Path:
    """The store an import writes to: ``--store`` (created when missing), else the default store.

    An existing ``--store`` must be a whole planatlas store (it is updated, one
    atomic step); a new one is planned like every output
    (:func:`spatial.cli._common.plan_outputs`: a regular file, not a file the
    import reads, not over a file planatlas did not write unless ``--force``).
    """
    if getattr(args, "store", None):
        path = settings.user_path(args.store)
        if path.suffix.lower() != ".gpkg":
            msg = f"--store 须为 .gpkg 文件，收到 {args.store} (--store must be a .gpkg file)"
            raise StoreError(msg)
        if os.path.isfile(path):  # a store to update: never one of the import's own inputs, and whole
            _outputs.plan_outputs([("--store", path)], reading=reading, force=True)
            return store.check_store(path)
        planned = plan_outputs(args, [("--store", path)], reading=reading)[0]
        if not planned.target.parent.is_dir():
            msg = f"--store 的文件夹 {path.parent} 不存在 (the folder of --store does not exist)"
            raise StoreError(msg)
        args.new_store = planned
        return planned.target
    from layers.build import ensure_default_store  # the CLI sits on top: it may build the default store

    for given in reading:  # the default store is never an input file of its own import
        if given is not None and settings.user_path(given).resolve() == settings.default_store_path().resolve():
            msg = (f"{given} 是项目数据库本身，不能导入它自己 "
                   f"({given} is the project store itself; it cannot be imported into itself)")
            raise ParameterError(msg)
    step("正在打开默认数据库 (缺失或损坏时离线重建)")
    return ensure_default_store()


def _written(args: argparse.Namespace) -> None:
    """Remember a store the import created as planatlas's own."""
    planned = getattr(args, "new_store", None)
    if planned is not None:
        record_outputs([planned])


def _modes(text: str) -> tuple[str, ...]:
    try:
        return parse_modes(text)
    except ParameterError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("import-osm", help="导入 OSM 提取文件：街道网络、设施、公园绿地、居住用地与建筑 "
                       "(import an OSM extract)")
    p.add_argument("file", help="OSM 文件 (.osm.pbf 或 .osm)，如 Geofabrik 的 shandong-latest.osm.pbf")
    clip = p.add_mutually_exclusive_group()
    clip.add_argument("--clip", help="只导入项目中此区县或单元的范围，如 历下区")
    clip.add_argument("--bbox", type=bbox, help="只导入此范围：西,南,东,北 (WGS-84 经纬度)")
    clip.add_argument("--clip-file", help="只导入此多边形文件的范围 (GeoJSON、GeoPackage、Shapefile)")
    p.add_argument("--modes", type=_modes, default=MODES, help="街道网络的出行方式 (默认 walk,bike,drive)")
    p.add_argument("--components", choices=["largest", "all"], default="largest",
                   help="largest：每个网络只保留最大的连通部分 (默认)；all：全部保留")
    p.add_argument("--replace", action="store_true", help="替换此前导入的同名图层 (默认图层从不被替换)")
    _store_argument(p)
    p.set_defaults(func=cmd_import_osm)

    p = sub.add_parser("fetch-osm", help="在线下载 OSM 数据并导入 (需 PLANATLAS_ALLOW_ONLINE=1) "
                       "(download and import OSM)")
    p.add_argument("--place", required=True, help="地名，如 \"历下区, 济南市\"")
    p.add_argument("--modes", type=_modes, default=MODES, help="街道网络的出行方式 (默认 walk,bike,drive)")
    p.add_argument("--replace", action="store_true", help="替换此前导入的同名图层")
    _store_argument(p)
    p.set_defaults(func=cmd_fetch_osm)

    p = sub.add_parser("import-poi", help="导入高德、百度、腾讯的 POI 导出文件 (import a POI export)")
    p.add_argument("file", help="POI 文件 (.csv、.xlsx 或 .json)")
    p.add_argument("--source", choices=["auto", *facilities.VENDORS], default="auto",
                   help="数据来源：amap 高德、baidu 百度、tencent 腾讯；auto 按列名判断 (默认)")
    p.add_argument("--datum", choices=["WGS84", "GCJ02", "BD09"],
                   help="坐标系 (默认：按来源，高德/腾讯 GCJ02、百度 BD09)")
    p.add_argument("--merge-m", type=positive_float, default=10.0,
                   help="同名且相距不到此距离 (米) 的 POI 合并 (默认 10)")
    p.add_argument("--keep-duplicates", action="store_true", help="不合并重复的 POI")
    p.add_argument("--name", help="图层名 (默认 poi_<来源>)")
    p.add_argument("--replace", action="store_true", help="替换此前导入的同名图层")
    _store_argument(p)
    p.set_defaults(func=cmd_import_poi)

    p = sub.add_parser("import-roads", help="把道路中心线做成可寻路的街道网络 (road centrelines into a network)")
    p.add_argument("file", help="线图层 (Shapefile .shp、GeoPackage、GeoJSON，任意坐标系)")
    p.add_argument("--modes", type=_modes, default=MODES, help="写出的网络 (默认 walk,bike,drive)")
    p.add_argument("--tolerance", type=positive_float, default=1.0, help="端点吸附容差，米 (默认 1)")
    p.add_argument("--components", choices=["largest", "all"], default="largest",
                   help="largest：只保留最大的连通部分 (默认)；all：全部保留")
    p.add_argument("--datum", choices=["WGS84", "GCJ02", "BD09"], default="WGS84", help="经纬度坐标的坐标系")
    p.add_argument("--crs", help="文件未声明坐标系时使用的坐标系，如 EPSG:4548")
    for key, what in (("oneway", "单行 (1/yes 顺画线方向，-1 逆向)"), ("level", "层 (立交、桥隧的高程层)"),
                      ("bridge", "是否桥梁"), ("tunnel", "是否隧道"), ("walk", "可步行"), ("bike", "可骑行"),
                      ("drive", "可机动车"), ("speed", "速度 km/h"), ("name", "路名")):
        p.add_argument(f"--{key}-field", help=f"{what}字段 (默认按常见列名识别)")
    p.add_argument("--replace", action="store_true", help="替换此前导入的网络图层")
    _store_argument(p)
    p.set_defaults(func=cmd_import_roads)

    p = sub.add_parser("import-units", help="导入统计单元 (街道、社区、控规单元) (import units of aggregation)")
    p.add_argument("file", help="面图层 (GeoJSON、GeoPackage、Shapefile)")
    p.add_argument("--name", default="units", help="图层名 (默认 units)")
    p.add_argument("--title", help="中文名称，如 街道")
    p.add_argument("--name-field", help="单元名称字段 (默认按常见列名识别)")
    p.add_argument("--population-field", help="单元人口字段")
    p.add_argument("--population-source", help="人口数据的来源，如 第七次人口普查 (默认：文件与字段名)")
    p.add_argument("--datum", choices=["WGS84", "GCJ02", "BD09"], default="WGS84", help="经纬度坐标的坐标系")
    p.add_argument("--crs", help="文件未声明坐标系时使用的坐标系")
    p.add_argument("--replace", action="store_true", help="替换此前导入的同名图层")
    _store_argument(p)
    p.set_defaults(func=cmd_import_units)

    p = sub.add_parser("import-population", help="导入人口：栅格、单元人口表，或按住宅分配 (import population)")
    p.add_argument("file", nargs="?", help="人口栅格 GeoTIFF (每格人数)，或单元人口表 (.csv/.xlsx，需 --units --key)")
    p.add_argument("--units", help="单元图层：人口表按名称接入它，或按它的人口做分配")
    p.add_argument("--key", help="人口表中单元名称的列")
    p.add_argument("--population-field", help="人口表中人口的列")
    p.add_argument("--population-source", help="人口数据的来源")
    p.add_argument("--dasymetric", choices=["buildings", "land", "floor-area"],
                   help="把单元人口按住宅建筑面积 (buildings) 或居住用地 (land) 分配；"
                   "floor-area：无人口数据时以住宅建筑面积统计")
    p.add_argument("--cell", type=positive_float, default=100.0, help="网格大小，米 (默认 100)")
    p.add_argument("--replace", action="store_true", help="替换此前导入的人口网格")
    _store_argument(p)
    p.set_defaults(func=cmd_import_population)

    p = sub.add_parser("demo", help="构建赫尔辛基真实 OSM 数据的演示项目并打印其路径 (build the demo project)")
    p.add_argument("--rebuild", action="store_true", help="重新构建")
    p.set_defaults(func=cmd_demo)


def _report(result: intake.ImportResult) -> None:
    """What was written, then the notes (guesses, conversions, drops), one line each."""
    from .. import store

    if result.created:
        print(f"新建项目数据库 {result.store}")
    specs = store.read_specs(result.store)
    for name, n in result.layers.items():
        spec = specs.get(name)
        print(f"  {name}（{spec.title_zh if spec else name}）：{n:,} 个要素")
    counts = intake.facility_counts(result.store)
    for name in result.layers:
        if name in counts:
            print(f"    {name} 按设施类型：{facilities.describe_counts(counts[name])}")
    for note in result.notes:
        warn(note)
    print(f"已写入 {result.store}")


def cmd_import_osm(args: argparse.Namespace) -> int:
    path = import_store(args, reading=[args.file, args.clip_file])
    area = intake.clip_area(store_path=path, district=args.clip, bbox=args.bbox, clip_file=args.clip_file)
    result = intake.import_osm(args.file, store_path=path, clip=area, modes=args.modes, components=args.components,
                               replace=args.replace, progress=print)
    _written(args)
    _report(result)
    return 0


def cmd_fetch_osm(args: argparse.Namespace) -> int:
    from ..io.fetch import fetch_osm

    path = import_store(args)
    extract, area = fetch_osm(args.place)
    result = intake.import_osm(extract, store_path=path, clip=area, modes=args.modes, replace=args.replace,
                               progress=print)
    _written(args)
    _report(result)
    return 0


def cmd_import_poi(args: argparse.Namespace) -> int:
    path = import_store(args, reading=[args.file])
    result = intake.import_poi(args.file, store_path=path, source=args.source, datum=args.datum,
                               merge_m=0.0 if args.keep_duplicates else args.merge_m, name=args.name,
                               replace=args.replace)
    _written(args)
    _report(result)
    c = result.counts
    print(f"读取 {c['rows']:,} 条：无坐标 {c['no_coordinates']:,}、境外 {c['outside_china']:,}、"
          f"合并重复 {c['merged']:,}、"
          f"未归类 {c['unclassified']:,}、导入 {c['kept']:,}")
    return 0


def cmd_import_roads(args: argparse.Namespace) -> int:
    path = import_store(args, reading=[args.file])
    fields = {k: getattr(args, f"{k}_field") for k in ("oneway", "level", "bridge", "tunnel", "walk", "bike",
                                                         "drive", "speed", "name")}
    result = intake.import_roads(args.file, store_path=path, modes=args.modes, tolerance_m=args.tolerance,
                                 components=args.components, datum=args.datum, assume_crs=args.crs, fields=fields,
                                 replace=args.replace)
    _written(args)
    _report(result)
    return 0


def cmd_import_units(args: argparse.Namespace) -> int:
    path = import_store(args, reading=[args.file])
    result = intake.import_units(args.file, store_path=path, name=args.name, title=args.title,
                                 name_field=args.name_field, population_field=args.population_field,
                                 population_source=args.population_source, datum=args.datum, assume_crs=args.crs,
                                 replace=args.replace)
    _written(args)
    _report(result)
    return 0


def cmd_import_population(args: argparse.Namespace) -> int:
    path = import_store(args, reading=[args.file])
    table = args.file is not None and Path(args.file).suffix.lower() in (".csv", ".txt", ".xlsx")
    if args.dasymetric:
        if args.file:
            msg = "--dasymetric 不需要文件：它按项目中的住宅建筑或居住用地分配单元人口 (--dasymetric takes no file)"
            raise ParameterError(msg)
        weight = {"floor-area": "floor_area_only"}.get(args.dasymetric, args.dasymetric)
        result = intake.build_population(store_path=path, units=args.units or "districts", weight=weight,
                                         cell_m=args.cell, replace=args.replace)
    elif table:
        if not (args.units and args.key and args.population_field):
            msg = ("人口表需要 --units、--key 与 --population-field "
                   "(a population table needs --units, --key, --population-field)")
            raise ParameterError(msg)
        result = intake.join_population(args.file, store_path=path, units=args.units, key=args.key,
                                        population_field=args.population_field,
                                        population_source=args.population_source)
    elif args.file:
        result = intake.import_population(args.file, store_path=path, cell_m=args.cell, replace=args.replace)
    else:
        msg = "请给出人口栅格或人口表文件，或 --dasymetric (give a raster, a table, or --dasymetric)"
        raise ParameterError(msg)
    _written(args)
    _report(result)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from layers.demo import DEMO_LABEL, ensure_demo_store

    path = ensure_demo_store(rebuild=args.rebuild)
    print(f"{DEMO_LABEL}：{path}")
    counts = intake.facility_counts(path)
    for name, per_type in counts.items():
        print(f"  {name}：{facilities.describe_counts(per_type)}")
    print(f"用法：planatlas layers --store {path}")
    print(f"      planatlas coverage --layer osm_green --preset park-500m --store {path}")
    label = vocab.label("mode", "walk")
    print(f"      planatlas coverage --layer osm_facilities --facility-type supermarket --method network "
          f"--store {path}  # {label}网络")
    return 0
