"""``planatlas export``: any layer of the store as GeoJSON, GeoPackage, Shapefile, KML or CSV."""

from __future__ import annotations

import argparse

from .. import store
from ._common import add_force_argument, add_store_argument, plan_outputs, record_outputs, store_path


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from ..io.export import FORMATS

    p = sub.add_parser("export", help="把图层导出为 GeoJSON、GeoPackage、Shapefile、KML 或 CSV")
    p.add_argument("--layer", required=True, help="图层名，如 report_items (见 `planatlas layers`)")
    p.add_argument("--format", choices=sorted(FORMATS), help="格式 (默认：按 --out 的扩展名)")
    p.add_argument("--out", required=True, help="输出文件 (Shapefile 写为 .zip)")
    add_store_argument(p)
    add_force_argument(p)
    p.set_defaults(func=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    from ..io.export import export_layer, format_for, output_path

    fmt = format_for(args.out, args.format)
    path = store_path(args)
    planned = plan_outputs(args, [("--out", output_path(args.out, fmt))], reading=[path])
    gdf = store.read_layer(args.layer, path=path)
    export_layer(gdf, planned[0].target, fmt=fmt, layer=args.layer)
    record_outputs(planned)
    unreadable = int(gdf.attrs.get(store.UNREADABLE_ATTR, 0))
    damaged = f"，其中 {unreadable} 个要素的几何已损坏、写为空几何 (数据库需重建)" if unreadable else ""
    print(f"已将 {args.layer} 的 {len(gdf)} 个要素写入 {planned[0].path}{damaged}")
    return 0
