"""``planatlas geocode``: a place from the gazetteer (or, opt-in, online) with its provenance."""

from __future__ import annotations

import argparse
import json

from .. import vocab
from .._errors import UnknownPlaceError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("geocode", help="在地名库中查找地点 (look a place up in the gazetteer)")
    p.add_argument("name", help="地名或别名，如 济西湿地")
    p.add_argument("--json", action="store_true", help="输出带来源信息的 GeoJSON Feature")
    p.add_argument("--online", action="store_true",
                   help="地名库中没有时在线查询 OpenStreetMap Nominatim (需设置 PLANATLAS_ALLOW_ONLINE=1)")
    p.set_defaults(func=cmd_geocode)


def cmd_geocode(args: argparse.Namespace) -> int:
    from ..geocode import Geocoder

    try:
        feature = Geocoder.default().feature(args.name)
    except UnknownPlaceError:
        if not args.online:
            raise
        from ..online import geocode_online

        feature = geocode_online(args.name)
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
