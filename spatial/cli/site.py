"""``planatlas site``: where the report's new facilities should go (选址).

``planatlas site --type park --from-target`` takes the count from the report's
target table ("新建各类公园 100 处", shown with its sentence); ``--count N``
overrides it. The existing facilities of the type stay where they are; the
model chooses the new sites among candidates (a grid over the area or a
layer of the store), with distances along the store's or a file's streets
(``--method network``) or in a straight line (``--method buffer``).
"""

from __future__ import annotations

import argparse
import json
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import store, vocab
from .._errors import ParameterError, UnknownLayerError
from ..io import _outputs
from ..thresholds import Threshold, resolve_threshold
from ._common import (
    add_force_argument,
    add_store_argument,
    plan_outputs,
    print_table,
    record_outputs,
    store_path,
    warn,
)
from ._parser import positive_float, positive_int


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from ..siting.models import MODELS

    p = sub.add_parser("site", help="为新增设施选址：在候选点中选出覆盖居民最多的位置 (siting new facilities)")
    p.add_argument("--type", required=True, type=facility_type, metavar="类型",
                   help="设施类型：" + "、".join(f"{c} {vocab.label('facility_type', c)}"
                                             for c in vocab.codes("facility_type")))
    how_many = p.add_mutually_exclusive_group()
    how_many.add_argument("--from-target", action="store_true",
                          help="数量取自报告的年度目标 (如“新建各类公园 100 处”)")
    how_many.add_argument("--count", type=positive_int, help="新增设施数量 (代替报告目标)")
    p.add_argument("--model", choices=MODELS, default="mclp",
                   help="mclp：最大覆盖 (默认)；lscp：达到覆盖率的最少设施；pmedian：总步行距离最短")
    p.add_argument("--share", type=positive_float, help="lscp 要达到的人口覆盖率，0-1 (默认 0.8)")
    p.add_argument("--preset", help="服务标准，如 park-500m (默认：列出该类型的第一个标准)")
    reach = p.add_mutually_exclusive_group()
    reach.add_argument("--distance", type=positive_float, help="服务距离，米 (代替标准)")
    reach.add_argument("--minutes", type=positive_float, help="出行时间，分钟 (代替标准)")
    p.add_argument("--method", choices=["network", "buffer"],
                   help="network：沿街道网络 (数据库有街道网络或给出 --network 时默认)；buffer：直线距离")
    p.add_argument("--network", help="街道网络文件 (.osm、.osm.pbf、.graphml 或 .gpkg)，代替数据库中的街道网络")
    p.add_argument("--mode", choices=["walk", "bike", "drive"], default="walk", help="出行方式 (街道网络)")
    p.add_argument("--population", default="auto",
                   help="auto (默认：数据库中的人口数据或单元的人口数，否则不计人口)、units、none，"
                        "或人口栅格 GeoTIFF 文件")
    p.add_argument("--cell", type=positive_float, default=100.0, help="需求网格大小，米 (默认 100)")
    p.add_argument("--facilities", help="现有设施图层 (默认：数据库中该类型的全部设施)")
    p.add_argument("--candidates", help="候选点图层，如地块 (默认：研究范围上的规则网格)")
    p.add_argument("--candidate-cell", type=positive_float, default=200.0, help="候选网格大小，米 (默认 200)")
    p.add_argument("--within", help="候选网格只取此图层内的格子 (如居住用地)")
    p.add_argument("--exclude", action="append", default=[], metavar="图层",
                   help="不可选址的图层 (水域、保护区、自绘范围)，可重复")
    p.add_argument("--units", help="统计单元图层 (默认：units 或 districts 角色的第一个图层)")
    p.add_argument("--time-limit", type=positive_float, default=60.0, help="求解时限，秒 (默认 60)")
    p.add_argument("--gap", type=positive_float, default=0.5,
                   help="容许差距，%%：与最优的差距证明在此以内即停 (默认 0.5)")
    p.add_argument("--out", help="输出文件夹：sites.gpkg、sites.geojson、siting.xlsx")
    p.add_argument("--json", action="store_true", help="在标准输出打印 JSON (参数、选址、曲线、分单元)")
    add_force_argument(p)
    add_store_argument(p)
    p.set_defaults(func=cmd_site)


def facility_type(text: str) -> str:
    """A facility-type code of the vocabulary (one short line when it is not one)."""
    if text in vocab.LABELS["facility_type"]:
        return text
    msg = (f"未知的设施类型 {text!r}（如 park 公园、kindergarten 幼儿园、elderly_canteen 长者食堂；"
           "全部类型见 planatlas site --help）")
    raise argparse.ArgumentTypeError(msg)


# --------------------------------------------------------------------------- inputs


def _check_args(args: argparse.Namespace) -> None:
    """Refuse impossible combinations before any work is done."""
    if args.model == "lscp" and (args.count or args.from_target):
        msg = "--model lscp 由 --share 求出数量，不能再给 --count 或 --from-target (lscp finds the count itself)"
        raise ParameterError(msg)
    if args.model != "lscp" and not (args.count or args.from_target):
        msg = "请给出 --count N 或 --from-target (give the number of new sites, or take it from the report)"
        raise ParameterError(msg)
    if args.share is not None and args.model != "lscp":
        msg = "--share 只用于 --model lscp (--share applies to the lscp model)"
        raise ParameterError(msg)
    if args.share is not None and args.share > 1:
        msg = f"--share 须在 0 与 1 之间，收到 {args.share:g} (share must be at most 1, e.g. 0.8)"
        raise ParameterError(msg)
    if args.method == "buffer" and args.network:
        msg = "--network 只用于 --method network (--network needs --method network)"
        raise ParameterError(msg)
    if args.out:
        out = Path(args.out).expanduser()
        if out.suffix:
            msg = f"--out 是输出文件夹，不能是文件名 {args.out} (--out is a folder, not a file name)"
            raise ParameterError(msg)
        for parent in (out, *out.parents):
            if parent.exists() and not parent.is_dir():
                msg = f"--out 路径中的 {parent} 是文件，不是文件夹 (a file stands where a folder should be)"
                raise ParameterError(msg)


def _threshold(args: argparse.Namespace) -> Threshold | None:
    if args.preset or args.distance or args.minutes:
        return resolve_threshold(preset=args.preset, distance_m=args.distance, minutes=args.minutes)
    return None


# --------------------------------------------------------------------------- output


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    plain = pd.DataFrame(frame.drop(columns=[c for c in ("geometry",) if c in frame.columns]))
    out = []
    for row in plain.to_dict("records"):
        out.append({str(k): (None if isinstance(v, float) and not math.isfinite(v) else
                             v.item() if isinstance(v, np.generic) else v) for k, v in row.items()})
    return out


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _print(result: Any) -> None:
    from ..siting.result import labelled_table

    unit = str(result.parameters.get("weight_unit", "人"))
    for line in result.summary_lines():
        print(line)
    print()
    shown = result.sites[[c for c in ("rank", "candidate_id", "residents_new", "residents_only", "residents_reach",
                                      "residents_nearest", "unit_name", "lon", "lat") if c in result.sites.columns]]
    print_table(labelled_table(_rounded(shown), unit), labels=False)
    print()
    print_table(labelled_table(_rounded(result.by_unit), unit), labels=False)
    n = len(result.sites)
    print()
    print("边际曲线 (贪心建设次序)：")
    curve = result.curve[result.curve["sites_added"].isin(sorted({1, max(n // 2, 1), n, 2 * n}))]
    print_table(labelled_table(_rounded(curve), unit), labels=False)


def _rounded(frame: pd.DataFrame) -> pd.DataFrame:
    """Rounded for reading; a share of nobody is shown as a dash, not NaN."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype.kind == "f":
            rounded = out[col].round(5 if col in ("lon", "lat") else 1)
            out[col] = rounded.astype(object).where(rounded.notna(), "—")
    return out


def _method(args: argparse.Namespace, path: Path) -> str:
    """``--method``, else the network when a network file is given or the store holds one (as evaluate)."""
    if args.method:
        return str(args.method)
    if args.network or f"network_{args.mode}" in set(store.list_layers(path)["name"].astype(str)):
        return "network"
    warn(f"数据库中没有{vocab.label('mode', args.mode)}街道网络，按直线距离选址 "
         "(no street network in the store: straight-line distances)")
    return "buffer"


def _check_layers(args: argparse.Namespace, path: Path) -> None:
    """Every layer the command names must be in the store: said before any work."""
    names = set(store.list_layers(path)["name"].astype(str))
    named = [(args.units, "--units"), (args.facilities, "--facilities"), (args.candidates, "--candidates"),
             (args.within, "--within"), *((n, "--exclude") for n in args.exclude)]
    for name, option in named:
        if name and name not in names:
            msg = f"{option}：数据库中没有图层 {name} (no layer {name!r} in the store)"
            raise UnknownLayerError(msg)


def _planned(args: argparse.Namespace, path: Path) -> list[_outputs.Output]:
    """The files ``--out`` will hold, checked before any work (never over a file being read or not planatlas's)."""
    from ..siting.result import OUTPUT_NAMES

    if not args.out:
        return []
    out = Path(args.out).expanduser()
    population = args.population if args.population not in ("auto", "units", "none") else None
    return plan_outputs(args, [(f"--out {out.name}/{name}", out / name) for name in OUTPUT_NAMES],
                        reading=[path, args.network, population])


def cmd_site(args: argparse.Namespace) -> int:
    from ..siting import apply_exclusions, site_facilities, target_for, write_outputs
    from ..siting.inputs import candidates_from_store, read_named, store_inputs, with_demand
    from ..siting.run import check_count

    _check_args(args)
    path = store_path(args)
    planned = _planned(args, path)
    _check_layers(args, path)
    reach = _threshold(args)
    target = target_for(args.type, store.read_table("targets", path=path)) if args.from_target else None
    method = _method(args, path)
    inputs = store_inputs(path, args.type, units=args.units, facilities=args.facilities,
                          method="network" if method == "network" and not args.network else "buffer",
                          mode=args.mode, population=args.population)
    network = inputs.network
    if method == "network" and args.network:
        from ..network import load_network

        network = load_network(args.network, mode=args.mode)
    masks = [(name, read_named(path, name, "--exclude")) for name in args.exclude]
    candidates, described = candidates_from_store(path, inputs.units, layer=args.candidates,
                                                  cell_m=args.candidate_cell, within=args.within)
    candidates, excluded = apply_exclusions(candidates, masks=masks, existing=inputs.existing)
    check_count(args.count or (target.count if target is not None else None), len(candidates))
    inputs = with_demand(inputs, cell_m=args.cell)
    for note in inputs.notes:
        warn(note)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = site_facilities(
            inputs.demand, candidates, facility_type=args.type, existing=inputs.existing, model=args.model,
            count=args.count, share=args.share, threshold=reach, method=method, network=network,
            units=inputs.units, target=target, time_limit_s=args.time_limit, rel_gap=args.gap / 100,
            candidates_description=f"{described}，{excluded.describe()}",
        )
    for w in caught:
        warn(str(w.message))
    written = write_outputs(result, args.out) if args.out else []
    record_outputs(planned)
    if args.json:
        print(json.dumps({"parameters": _clean(result.parameters), "sites": _records(result.sites),
                          "curve": _records(result.curve), "by_unit": _records(result.by_unit),
                          "files": [str(p) for p in written]}, ensure_ascii=False, indent=2))
        return 0
    _print(result)
    if written:
        print("\n已写入 " + "、".join(str(p) for p in written))
    return 0
