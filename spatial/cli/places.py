"""``planatlas geocode | unresolved | import-places``: places with their provenance, and the planner's answers."""

from __future__ import annotations

import argparse
import json

from .. import vocab
from .._errors import UnknownPlaceError
from ._common import add_force_argument, add_store_argument, plan_outputs, record_outputs, store_path

#: Online geocoders ``--service`` accepts (spatial.online.GEOCODERS).
SERVICES = ("nominatim", "amap", "tianditu")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("geocode", help="在地名库中查找地点 (look a place up in the gazetteer)")
    p.add_argument("name", help="地名或别名，如 济西湿地、济南站、济南市")
    p.add_argument("--json", action="store_true", help="输出带来源信息的 GeoJSON Feature")
    p.add_argument("--online", action="store_true",
                   help="地名库中没有时在线查询 (需 PLANATLAS_ALLOW_ONLINE=1；高德需 AMAP_KEY，天地图需 TIANDITU_KEY)")
    p.add_argument("--service", choices=SERVICES, default="nominatim",
                   help="在线地理编码服务：nominatim (OSM，默认)、amap (高德，GCJ-02 转 WGS-84)、tianditu (天地图)")
    p.add_argument("--city", default="济南市", help="在线查询时限定的城市 (默认：济南市)")
    p.set_defaults(func=cmd_geocode)

    p = sub.add_parser("unresolved", help="列出报告中尚未定位的地名，写成 CSV 供批量补坐标 (what is left to place)")
    p.add_argument("--out", required=True, help="输出 CSV 文件 (UTF-8，Excel 可打开)")
    add_store_argument(p)
    add_force_argument(p)
    p.set_defaults(func=cmd_unresolved)

    p = sub.add_parser("import-places", help="导入补好坐标的 CSV 作为规划师修正，并重新定位 (bring the answers back)")
    p.add_argument("file", help="CSV 文件 (planatlas unresolved 写出的表，填好 lon、lat 列)")
    p.add_argument("--datum", required=True, choices=["WGS84", "GCJ02", "BD09"],
                   help="CSV 中坐标的坐标系：WGS84 (GPS/OSM/天地图)、GCJ02 (高德/腾讯)、BD09 (百度)")
    add_store_argument(p)
    p.set_defaults(func=cmd_import_places)


def cmd_unresolved(args: argparse.Namespace) -> int:
    from .. import store
    from ..corrections import unresolved_table, write_csv

    path = store_path(args)
    planned = plan_outputs(args, [("--out", args.out)], reading=[path])
    table = unresolved_table(store.read_layer("report_items", path=path))
    out = write_csv(table, planned[0].target)
    record_outputs(planned)
    waiting = int((table["note"] != "条目已按其他地点绘制").sum()) if len(table) else 0
    print(f"已将 {len(table)} 个未定位的地名写入 {out}（其中 {waiting} 个所在条目仍未定位）")
    print("在 lon、lat 列填入坐标后运行：planatlas import-places 文件.csv --datum WGS84|GCJ02|BD09")
    return 0


def cmd_import_places(args: argparse.Namespace) -> int:
    from layers.build import rebuild_with_corrections  # the CLI sits on top: it may rebuild the store

    from ..corrections import read_corrections_csv
    from ._common import warn

    path = store_path(args)
    corrections, notes = read_corrections_csv(args.file, datum=args.datum)
    for note in notes:
        warn(note)
    result, written = rebuild_with_corrections(path, corrections)
    kept = len(result.layers.get("user_places", []))
    print(f"已导入 {len(corrections)} 条规划师修正（坐标系 {vocab.label('datum', args.datum)}，已转换为 WGS-84）；"
          f"数据库中共 {kept} 条修正")
    print(result.summary.as_text())
    print(f"\n已更新 {written}")
    return 0


def cmd_geocode(args: argparse.Namespace) -> int:
    from ..geocode import Geocoder

    try:
        feature = Geocoder.default().feature(args.name)
    except UnknownPlaceError:
        if not args.online:
            raise
        from ..online import geocode_online

        feature = geocode_online(args.name, city=args.city, service=args.service)
        feature["properties"].setdefault("id", "online")
        feature["properties"].setdefault("kind", "other")
    if args.json:
        print(json.dumps(feature, ensure_ascii=False, indent=2))
        return 0
    p = feature["properties"]
    geom = feature["geometry"]
    if geom is None:
        where = "未定位"
    elif geom["type"] == "Point":
        where = f"经度 {geom['coordinates'][0]:.6f}，纬度 {geom['coordinates'][1]:.6f} (WGS-84)"
    else:
        where = {"LineString": "线", "MultiLineString": "线", "Polygon": "面", "MultiPolygon": "面"}.get(
            geom["type"], "几何")
    print(f"{p['name']} [{p['id']}，{vocab.label('kind', p.get('kind'))}] {where}")
    print(f"  精度：{vocab.label('precision', p.get('precision'))}；来源：{p.get('source') or ''}"
          f"（来源坐标系：{vocab.label('datum', p.get('source_datum'))}）")
    return 0
