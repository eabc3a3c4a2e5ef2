"""``planatlas presets`` and ``planatlas coverage``: who is within reach of a facility layer."""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import geopandas as gpd

from .. import settings, store, vocab
from .._errors import ParameterError
from ..coverage import CoverageResult
from ..network import StreetNetwork
from ..thresholds import resolve_threshold
from ._common import (
    add_force_argument,
    add_store_argument,
    plan_outputs,
    print_table,
    record_outputs,
    rounded,
    step,
    store_path,
    warn,
)
from ._parser import positive_float

#: Headings of the coverage table when the surface is residential floor area, not residents.
FLOOR_AREA_HEADINGS = {"population": "住宅建筑面积 (m²)", "population_covered": "覆盖建筑面积 (m²)",
                       "population_covered_pct": "建筑面积覆盖率 (%)", "residents_outside": "未覆盖建筑面积 (m²)"}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("presets", help="列出服务半径标准 (list the standards presets)")
    p.set_defaults(func=cmd_presets)

    p = sub.add_parser("coverage", help="设施服务范围与分区县覆盖人口 (who is within reach of a facility layer)")
    p.add_argument("--layer", required=True, help="数据库中的设施图层，如 parks、osm_facilities、poi_amap")
    p.add_argument("--facility-type", type=_facility_type, metavar="类型",
                   help="只用此类设施 (facility_type 列)，如 primary_school、supermarket")
    p.add_argument("--units", help="按此统计单元图层报告 (默认：区县 districts)，如 import-units 导入的 units")
    p.add_argument("--preset", help="服务标准，如 gb50180-15min (见 `planatlas presets`)")
    reach = p.add_mutually_exclusive_group()
    reach.add_argument("--distance", type=positive_float, help="距离，米 (代替标准)")
    reach.add_argument("--minutes", type=positive_float, help="出行时间，分钟 (代替标准)")
    p.add_argument("--speed", type=positive_float, help="速度，米/分钟 (默认：标准的速度或 80)")
    p.add_argument("--method", choices=["buffer", "network"],
                   help="buffer：直线缓冲 (默认)；network：沿街道网络 (给出 --network 时默认)")
    p.add_argument("--network", help="--method network 的街道网络文件 (.osm、.osm.pbf、.graphml 或 .gpkg)；"
                   "不给出时用项目数据库中导入的网络 (network_walk …)")
    p.add_argument("--mode", choices=["walk", "bike", "drive"], default="walk", help="出行方式")
    p.add_argument("--population", help="人口栅格 GeoTIFF (默认：项目数据库中的人口数据，否则 2020 年普查按区县均布)")
    p.add_argument("--out", help="写出结果 (.gpkg 含服务范围、缺口与网格；或 .geojson)，并写同名 .csv 表")
    p.add_argument("--distance-tif", help="另写出到最近设施的距离 GeoTIFF (米，.tif)")
    add_store_argument(p)
    add_force_argument(p)
    p.set_defaults(func=cmd_coverage)


def _facility_type(text: str) -> str:
    """A facility-type code of the vocabulary (``primary_school``) or its Chinese label (小学)."""
    codes = vocab.codes("facility_type")
    by_label = {vocab.label("facility_type", c): c for c in codes}
    if text in codes:
        return text
    if text in by_label:
        return by_label[text]
    examples = "、".join(f"{c} ({vocab.label('facility_type', c)})" for c in codes[:4])
    msg = f"未知的设施类型 {text!r}；例如 {examples} 等 (unknown facility type)"
    raise argparse.ArgumentTypeError(msg)


def cmd_presets(args: argparse.Namespace) -> int:
    from ..standards import list_presets

    table = list_presets().reset_index()
    print_table(table[["id", "title_zh", "distance_m_default", "minutes", "source"]].rename(
        columns={"id": "标准", "title_zh": "名称", "distance_m_default": "距离 (m)", "minutes": "分钟",
                 "source": "出处"}), labels=False)
    return 0


def _method(args: argparse.Namespace) -> str:
    """``--method``, defaulting to the network when a network file is given."""
    method = args.method or ("network" if args.network else "buffer")
    if method == "buffer" and args.network:
        msg = (
            "--network 只用于 --method network，不能与 --method buffer 同时给出 "
                             "(--network needs --method network)"
        )
        raise ParameterError(msg)
    return method


def _facilities(layer: gpd.GeoDataFrame, args: argparse.Namespace) -> gpd.GeoDataFrame:
    """The layer's facilities of ``--facility-type`` (all of them without it)."""
    if not args.facility_type:
        return layer
    if "facility_type" not in layer.columns:
        msg = (f"图层 {args.layer} 没有 facility_type 列，不能按设施类型筛选 "
               f"(layer {args.layer!r} has no facility_type column)")
        raise ParameterError(msg)
    chosen = layer[layer["facility_type"] == args.facility_type]
    if chosen.empty:
        have = "、".join(sorted({vocab.label("facility_type", v) for v in layer["facility_type"].dropna() if v}))
        msg = (f"图层 {args.layer} 中没有 {vocab.label('facility_type', args.facility_type)}；现有：{have} "
               f"(no {args.facility_type} in layer {args.layer!r})")
        raise ParameterError(msg)
    chosen = chosen.copy()
    chosen.attrs["planatlas_source"] = f"{args.layer}：{vocab.label('facility_type', args.facility_type)}"
    return chosen


def _default_units(path: Path) -> str:
    """``districts`` when the store has them, else its first units layer (the demo's grid)."""
    specs = store.read_specs(path)
    if "districts" in specs:
        return "districts"
    return next((n for n, s in specs.items() if s.role in ("districts", "units")), "districts")


def _check_outputs(args: argparse.Namespace) -> None:
    """Refuse output names of the wrong kind before any work is done."""
    if args.out and Path(args.out).suffix.lower() not in {".gpkg", ".geojson", ".json"}:
        msg = f"--out 须为 .gpkg 或 .geojson 文件，收到 {args.out} (--out must be .gpkg or .geojson)"
        raise ParameterError(msg)
    if args.distance_tif and Path(args.distance_tif).suffix.lower() not in {".tif", ".tiff"}:
        msg = f"--distance-tif 须为 .tif 文件，收到 {args.distance_tif} (--distance-tif must be .tif)"
        raise ParameterError(msg)


def _print_result(args: argparse.Namespace, result: CoverageResult) -> None:
    p = result.parameters
    standard = f"，{p['preset_title']} ({p['preset_source']})" if p.get("preset") else ""
    network = f"，网络：{p['network_source']}" if p.get("network_source") else ""
    kind = f"（{vocab.label('facility_type', args.facility_type)}）" if args.facility_type else ""
    print(f"{args.layer}{kind} 的服务覆盖：设施 {p['n_facilities_used']} 个，"
          f"方法：{vocab.label('method', p['method'])}，"
          f"{p['distance_m']:,.0f} m{standard}{network}")
    print(f"统计单元：{args.units}（{p['units']} 个）")
    from ..intake import project_info

    info = project_info(store_path(args))
    if info["label"]:
        print(f"{info['label']}：{info['note']}")
    residents = str(p.get("population_units", "residents")).startswith("residents")
    what, unit = ("人口", " 人") if residents else ("住宅建筑面积", " m²")
    print(f"{what}：{p['population_source']}（{p['population_method']}）")
    if not residents:
        print("注意：没有人口数据，以下“人口”各列是住宅建筑面积 (m²)，不是人数")
    line = f"覆盖面积 {p['covered_km2']:,.2f} km²，总面积 {p['area_km2']:,.0f} km²"
    if p.get("population", 0) > 0:
        line += (f"；覆盖{what} {p['population_covered']:,.0f}{unit}，共 {p['population']:,.0f}{unit}"
                 f"（{p['population_covered_pct']:.2f}%）")
    else:
        line += f"；这些单元中没有{what}数据，无法计算覆盖率"
    print(line)
    print()
    table = rounded(result.table)
    if not residents:  # the columns hold m² of floor area: say so in their headings
        table = table.rename(columns=FLOOR_AREA_HEADINGS)
    print_table(table)


def cmd_coverage(args: argparse.Namespace) -> int:
    from ..coverage import RESULT_SPECS, run_coverage
    from ..io.export import export_layer

    method = _method(args)
    _check_outputs(args)
    path = store_path(args)
    planned = plan_outputs(args, _outputs_of(args), reading=[path, args.network, args.population])
    reach = resolve_threshold(preset=args.preset, distance_m=args.distance, minutes=args.minutes,
                              speed_m_per_min=args.speed)
    facilities = _facilities(store.read_layer(args.layer, path=path), args)
    args.units = args.units or _default_units(path)
    districts = store.read_layer(args.units, path=path)
    network = None
    if method == "network":
        from ..network import from_store, load_network

        if not args.network and f"network_{args.mode}" not in store.read_specs(path):
            msg = (f"--method network 需要 --network 文件 (.osm、.osm.pbf、.graphml 或 .gpkg)，或项目数据库中导入的"
                   f"{vocab.label('mode', args.mode)}网络 (planatlas import-osm / import-roads) "
                   "(--method network needs --network or a network imported into the store)")
            raise ParameterError(msg)
        step(f"正在读取街道网络 {Path(args.network).name if args.network else vocab.label('mode', args.mode)}")
        network = load_network(args.network, mode=args.mode) if args.network else from_store(path, mode=args.mode)
    from ..population import from_store as population_from_store
    from ..population import load_population

    step(f"正在读取人口 {Path(args.population).name if args.population else '(项目数据库)'}")
    population = load_population(args.population) if args.population else population_from_store(
        path, units=args.units)
    step("正在计算服务范围与覆盖人口")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run_coverage(facilities, districts=districts, threshold=reach, method=method,
                              network=network, population=population)
    for w in caught:  # e.g. facilities too far from any street: said, never dropped silently
        warn(str(w.message))
    _print_result(args, result)
    by_option = {o.option: o for o in planned}
    if args.out:
        out, csv = by_option["--out"], by_option[_CSV_OPTION]
        if out.target.suffix.lower() == ".gpkg":
            store.write_store({"service_area": result.service_area, "gaps": result.gaps, "grid": result.grid},
                              out.target, specs=RESULT_SPECS)
        else:
            export_layer(result.service_area, out.target, layer="service_area")
        _write_table(result, csv.target)
        record_outputs([out, csv])
        print(f"\n已写入 {out.path} 和 {csv.path}")
    if args.distance_tif:
        tif = by_option["--distance-tif"]
        _distance_tif(facilities, network, result, tif.target)
        record_outputs([tif])
        print(f"已写入 {tif.path}")
    return 0


#: How the table written beside ``--out`` is named in messages.
_CSV_OPTION = "--out 旁的分区县表 (.csv)"


def _outputs_of(args: argparse.Namespace) -> list[tuple[str, str | Path]]:
    """Every file the command will write: ``--out``, the table beside it, ``--distance-tif``."""
    outputs: list[tuple[str, str | Path]] = []
    if args.out:
        outputs += [("--out", args.out), (_CSV_OPTION, settings.user_path(args.out).with_suffix(".csv"))]
    if args.distance_tif:
        outputs.append(("--distance-tif", args.distance_tif))
    return outputs


def _write_table(result: CoverageResult, path: Path) -> None:
    """The coverage table as CSV (UTF-8 with BOM, for Excel), atomically."""
    from .._atomic import atomic_path

    with atomic_path(path) as tmp:
        result.table.to_csv(tmp, index=False, encoding="utf-8-sig")


def _distance_tif(facilities: gpd.GeoDataFrame, network: StreetNetwork | None, result: CoverageResult,
                  path: Path) -> Path:
    """Distance-to-nearest-facility GeoTIFF: along streets, or straight-line on the population grid."""
    if network is not None:
        from ..isochrones import distance_raster, nearest_facility_distances

        with warnings.catch_warnings():  # facilities off the network were reported above
            warnings.simplefilter("ignore", UserWarning)
            reach = nearest_facility_distances(network, facilities, cutoff_m=result.parameters["distance_m"] * 2)
        return distance_raster(reach, cell_m=50.0).to_geotiff(path)
    from ..coverage import distance_surface_geotiff

    # the population grid run_coverage used (census surface or the user's raster)
    assert result.population is not None  # run_coverage always records the population it used
    distance_surface_geotiff(facilities, path, like=result.population)
    return path
