"""Sample files for the intake tests, written with known answers (authored, not vendor data).

The POI exports hold points whose WGS-84 positions are chosen here; their
GCJ-02 (AMap) and BD-09 (Baidu) coordinates are computed with the published
forward formulas of :mod:`spatial.datum`, rounded to the six decimals the
vendors' APIs give (about 0.1 m), so an import must give back the chosen
WGS-84 points within a metre.
"""

from __future__ import annotations

import csv
from pathlib import Path

from spatial.datum import convert

DATA = Path(__file__).resolve().parent / "data"

#: (name, WGS-84 lon, lat, AMap typecode, AMap type, Baidu tag, expected facility type)
POINTS = [
    ("历下区实验幼儿园", 117.0412, 36.6612, "141204", "科教文化服务;学校;幼儿园", "教育培训;幼儿园", "kindergarten"),
    ("济南市历下区东关小学", 117.0433, 36.6621, "141203", "科教文化服务;学校;小学", "教育培训;小学", "primary_school"),
    ("济南第三中学", 117.0458, 36.6634, "141202", "科教文化服务;学校;中学", "教育培训;中学", "middle_school"),
    ("山东省实验中学高中部", 117.0467, 36.6652, "141202", "科教文化服务;学校;中学", "教育培训;中学", "high_school"),
    ("历下区姚家街道社区卫生服务中心", 117.0481, 36.6603, "090100", "医疗保健服务;综合医院;综合医院",
     "医疗;综合医院", "community_health_centre"),
    ("山东省立医院", 117.0203, 36.6662, "090101", "医疗保健服务;综合医院;三级甲等医院", "医疗;综合医院", "hospital"),
    ("漱玉平民大药房", 117.0497, 36.6671, "090601", "医疗保健服务;医药保健销售店;药房", "医疗;药店", "pharmacy"),
    ("姚家街道办事处", 117.0502, 36.6688, "130105", "政府机构及社会团体;政府机关;乡镇级政府及事业单位",
     "政府机构;各级政府", "street_office"),
    ("历下区人民政府", 117.0394, 36.6701, "130104", "政府机构及社会团体;政府机关;区县级政府及事业单位",
     "政府机构;各级政府", ""),
    ("银座超市", 117.0511, 36.6595, "060400", "购物服务;超级市场;超市", "购物;超市", "supermarket"),
    ("便利蜂", 117.0522, 36.6612, "060200", "购物服务;便民商店/便利店;便民商店/便利店", "购物;便利店",
     "convenience_store"),
    ("燕山菜市场", 117.0536, 36.6629, "060705", "购物服务;综合市场;蔬菜市场", "购物;市场", "farmers_market"),
    ("泉城路银行网点", 117.0188, 36.6640, "160105", "金融保险服务;银行;中国工商银行", "金融;银行", "bank"),
    ("泉城小馆", 117.0301, 36.6655, "050000", "餐饮服务;餐饮相关场所;餐饮相关", "美食;中餐厅", ""),
]


def write_amap_csv(path: Path, *, duplicate: bool = True) -> Path:
    """An AMap place-search export: ``name, type, typecode, address, location ("lng,lat" GCJ-02), pname …``."""
    rows = []
    for name, lon, lat, code, atype, _tag, _ft in POINTS:
        g_lon, g_lat = convert(lon, lat, source="WGS84", target="GCJ02")
        rows.append({"id": f"B0FF{len(rows):06d}", "name": name, "type": atype, "typecode": code,
                     "address": "历下区", "location": f"{float(g_lon):.6f},{float(g_lat):.6f}", "pname": "山东省",
                     "cityname": "济南市", "adname": "历下区"})
    if duplicate:  # the same shop from two overlapping searches, 3 m apart
        first = dict(rows[9])
        lon_s, lat_s = first["location"].split(",")
        first["location"] = f"{float(lon_s) + 0.00003:.6f},{lat_s}"
        first["id"] = "B0FFDUP001"
        rows.append(first)
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_baidu_csv(path: Path) -> Path:
    """A Baidu place-API export: ``uid, name, lat, lng`` (BD-09), ``address``, ``tag`` (一级;二级)."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["uid", "name", "lat", "lng", "address", "tag"])
        for i, (name, lon, lat, _code, _atype, tag, _ft) in enumerate(POINTS):
            b_lon, b_lat = convert(lon, lat, source="WGS84", target="BD09")
            writer.writerow([f"{i:024x}", name, f"{float(b_lat):.6f}", f"{float(b_lon):.6f}", "历下区", tag])
    return path
