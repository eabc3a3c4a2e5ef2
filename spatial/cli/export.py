"""``planatlas export``: any layer of the store as GeoJSON, GeoPackage, Shapefile, KML or CSV."""

from __future__ import annotations

import argparse

from .. import store
from ._common import add_store_argument, store_path


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from ..io.export import FORMATS

    p = sub.add_parser("export", help="把图层导出为 GeoJSON、GeoPackage、Shapefile、KML 或 CSV")
    p.add_argument("--layer", required=True, help="图层名，如 report_items (见 `planatlas layers`)")
    p.add_argument("--format", choices=sorted(FORMATS), help="格式 (默认：按 --out 的扩展名)")
    p.add_argument("--out", required=True, help="输出文件")
    add_store_argument(p)
    p.set_defaults(func=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    from ..io.export import export_layer

    gdf = store.read_layer(args.layer, path=store_path(args))
    path = export_layer(gdf, args.out, fmt=args.format, layer=args.layer)
    print(f"已将 {args.layer} 的 {len(gdf)} 个要素写入 {path}")
    return 0
