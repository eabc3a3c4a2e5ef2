"""``planatlas evaluate``: the 生活圈体检 of a project store, as a report, a GeoPackage and a ledger."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import store, vocab
from .._errors import NetworkDataError, ParameterError
from ..lifecircle import catalogue
from ..lifecircle.evaluate import Evaluation
from ._common import (
    add_force_argument,
    add_store_argument,
    plan_outputs,
    print_table,
    record_outputs,
    step,
    store_path,
    warn,
)
from ._parser import positive_float


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("evaluate", help="生活圈体检：按标准逐类设施、逐单元评估，写出报告与问题台账 "
                                        "(the life-circle evaluation the standards define)")
    p.add_argument("--standard", required=True, choices=list(catalogue.STANDARDS),
                   help="gb50180：GB 50180-2018 五/十/十五分钟生活圈；mofcom：一刻钟便民生活圈；"
                        "chengshi-tijian：城市体检指标")
    p.add_argument("--method", choices=["network", "buffer"],
                   help="network：沿街道网络 (数据库有街道网络时默认)；buffer：直线距离")
    p.add_argument("--units", help="按哪个图层统计 (默认：第一个单元图层，否则区县)")
    p.add_argument("--population", default="auto",
                   help="auto (默认：单元的人口数，否则不计人口)、units、none，或人口栅格 GeoTIFF 文件")
    p.add_argument("--mode", choices=["walk", "bike", "drive"], default="walk", help="出行方式 (街道网络)")
    p.add_argument("--cell", type=positive_float, default=100.0, help="网格大小，米 (默认 100)")
    add_store_argument(p)
    p.add_argument("--out", required=True, help="输出文件夹：报告 HTML、GeoPackage、问题台账 XLSX/CSV")
    p.add_argument("--json", action="store_true", help="在标准输出打印全市、分设施类型与分单元的结果 (JSON)")
    add_force_argument(p)
    p.set_defaults(func=cmd_evaluate)


def _check_out(out: str) -> Path:
    """The output folder: an existing folder, or a new name without a file extension."""
    path = Path(out).expanduser()
    if path.suffix and not path.is_dir():
        msg = f"--out 须为文件夹 (不带扩展名)，收到 {out} (--out is a folder, not a file name)"
        raise ParameterError(msg)
    if path.exists() and not path.is_dir():
        msg = f"--out 须为文件夹，{out} 是文件 (--out must be a folder)"
        raise ParameterError(msg)
    return path


def _method(args: argparse.Namespace, path: Path) -> str:
    if args.method:
        return str(args.method)
    names = set(store.list_layers(path)["name"].astype(str))
    if f"network_{args.mode}" in names:
        return "network"
    warn(f"数据库中没有{vocab.label('mode', args.mode)}街道网络，按直线距离评估 "
         "(no street network in the store: straight-line distances)")
    return "buffer"


def run(args: argparse.Namespace) -> tuple[Evaluation, dict[str, Path]]:
    """Read the inputs, evaluate, write the outputs (shared with the app's tests)."""
    from ..lifecircle.cells import build_cells
    from ..lifecircle.evaluate import evaluate
    from ..lifecircle.inputs import read_inputs
    from ..lifecircle.report import output_paths, write_outputs

    out = _check_out(args.out)
    path = store_path(args)
    population = args.population if args.population not in ("auto", "units", "none") else None
    planned = plan_outputs(args, [(f"--out {out.name}/{p.name}", p) for p in output_paths(out).values()],
                           reading=[path, population])
    method = _method(args, path)
    step("正在读取评估所需的图层")
    inputs = read_inputs(path, units=args.units, method=method, mode=args.mode, population=args.population)
    for note in inputs.notes:
        warn(note)
    step(f"正在建立 {args.cell:g} m 居住网格")
    cells = build_cells(inputs.units, residential=inputs.residential, buildings=inputs.buildings,
                        population=inputs.population, cell_m=args.cell)
    if method == "network" and inputs.network is None:
        msg = "街道网络方法需要街道网络 (method 'network' needs a street network)"
        raise NetworkDataError(msg)
    step(f"正在逐类设施评估 {len(cells.frame):,} 个网格")
    ev = evaluate(cells, inputs.facilities, standard=args.standard, method=method, network=inputs.network)
    ev.parameters["store"] = str(path)
    ev.parameters["units_layer"] = inputs.units_layer
    title = f"生活圈体检报告：{path.stem}"
    step("正在写出报告、GeoPackage 与问题台账")
    paths = write_outputs(ev, out, title=title)
    record_outputs(planned)
    return ev, paths


def _clean(value: Any) -> Any:
    """JSON-safe: NaN and inf as null, numpy scalars as numbers."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return number if math.isfinite(number) else None
    return value


def result_json(ev: Evaluation, paths: dict[str, Path] | None = None) -> dict[str, Any]:
    """The figures of an evaluation as plain data: city, per facility type, per unit, indicators, ledger."""
    city_row = ev.city.iloc[0]
    city: dict[str, Any] = {"weight": city_row["weight"], "cells": city_row["cells"], "area_ha": city_row["area_ha"]}
    for tier in ev.tiers:
        city[tier] = {"judged": city_row[f"judged_{tier}"], "all_in_reach": city_row[f"all_{tier}"],
                      "all_in_reach_pct": city_row[f"all_{tier}_pct"],
                      "completeness_pct": city_row[f"complete_{tier}_pct"],
                      "requirements": len([r for r in ev.requirements if r.tier == tier])}
    types = ev.status.reset_index().merge(ev.by_type.drop(columns=["data_status"]), on="requirement")
    params = dict(ev.parameters)
    cleaned: dict[str, Any] = _clean({
        "standard": ev.standard, "edition": ev.edition, "method": ev.method, "weight_kind": ev.cells.weight_kind,
        "weight_label": ev.weight_label, "parameters": params, "city": city,
        "types": types.to_dict("records"), "units": ev.by_unit.to_dict("records"),
        "indicators": ev.indicators.to_dict("records"), "ledger": ev.ledger.to_dict("records"),
        "notes": ev.notes, "outputs": {k: str(v) for k, v in (paths or {}).items()},
    })
    return cleaned


def _print_summary(ev: Evaluation, paths: dict[str, Path]) -> None:
    p = ev.parameters
    print(f"生活圈体检：{p['standard_title']}（{p['edition']}），方法：{p['method_label']}"
          + (f"，网络：{p['network_source']}" if p.get("network_source") else ""))
    print(f"设施：{p['facilities_source'] or '—'}；人口：{p['population_source']}（{p['population_method']}）")
    print(f"{p['cells']:,} 个 {p['cell_m']:g} m 居住网格，{p['units']} 个单元；计量：{ev.weight_label}")
    for note in ev.notes:
        warn(note)
    print()
    city = ev.city.iloc[0]
    for tier in ev.tiers:
        judged = int(city[f"judged_{tier}"])
        total = len([r for r in ev.requirements if r.tier == tier])
        if judged:
            print(f"{vocab.label('tier', tier)}：{judged}/{total} 项有数据；全部可达 {city[f'all_{tier}']:,.0f} "
                  f"({city[f'all_{tier}_pct']:.1f}%)，平均完整度 {city[f'complete_{tier}_pct']:.1f}%")
        else:
            print(f"{vocab.label('tier', tier)}：{total} 项均无设施数据，无法判断")
    if not ev.indicators.empty:
        print()
        shown = ev.indicators[["name", "value_pct", "network_pct", "threshold", "result"]].copy()
        shown["result"] = shown["result"].map(lambda c: vocab.label("pass_fail", c))
        print_table(shown.rename(columns={"name": "指标", "value_pct": "数值 (%)", "network_pct": "沿网络 (%)",
                                          "threshold": "阈值", "result": "结果"}).round(1), labels=False)
    print()
    types = ev.status.reset_index().merge(ev.by_type[["requirement", "in_reach_pct", "missing", "median_m"]],
                                          on="requirement")
    limits = ev.search_limits()
    types["data_status"] = types["data_status"].map(lambda c: vocab.label("data_status", c))
    types["tier"] = types["tier"].map(lambda c: vocab.label("tier", c))
    median = [(f"{m:,.0f}" if np.isfinite(m) else f"> {limits[r]:,.0f}") if pd.notna(m) else "—"
              for r, m in zip(types["requirement"], types["median_m"], strict=True)]
    shown = types[["tier", "label", "n_facilities", "data_status", "in_reach_pct", "missing"]]
    shown = shown.assign(in_reach_pct=shown["in_reach_pct"].round(1), missing=shown["missing"].round(0),
                         median_m=median)
    print_table(shown.astype(object).where(shown.notna(), "—").rename(
        columns={"tier": "层级", "label": "设施", "n_facilities": "设施数", "data_status": "数据",
                 "in_reach_pct": "可达 (%)", "missing": "不可达", "median_m": "距离中位数 (m)"}), labels=False)
    print()
    cols = ["unit", "weight"] + [c for t in ev.tiers for c in (f"all_{t}_pct", f"complete_{t}_pct")
                                 if int(city[f"judged_{t}"])]
    units = ev.by_unit[cols].copy()
    heads = {"unit": "单元", "weight": ev.weight_label}
    for t in ev.tiers:
        heads[f"all_{t}_pct"] = f"{vocab.label('tier', t)}全部可达 (%)"
        heads[f"complete_{t}_pct"] = f"{vocab.label('tier', t)}完整度 (%)"
    units = units.round(1).astype(object).where(units.notna(), "—")
    print_table(units.rename(columns=heads), labels=False)
    print(f"\n问题台账 {len(ev.ledger)} 行" + ("，前 10 行：" if len(ev.ledger) else ""))
    if len(ev.ledger):
        from ..lifecircle.ledger import ledger_for_people

        top = ledger_for_people(ev.ledger.head(10), limit_m=limits)
        print_table(top[[c for c in top.columns if c.startswith(("排序", "单元", "设施", "受影响", "缺口居住"))]],
                    labels=False)
    print()
    for key, label in (("report", "报告"), ("gpkg", "GeoPackage"), ("xlsx", "问题台账"), ("csv", "问题台账 CSV"),
                       ("units_csv", "分单元表")):
        print(f"已写入{label}：{paths[key]}")


def cmd_evaluate(args: argparse.Namespace) -> int:
    ev, paths = run(args)
    if args.json:
        json.dump(result_json(ev, paths), sys.stdout, ensure_ascii=False, indent=1, default=str)
        sys.stdout.write("\n")
        for note in ev.notes:
            warn(note)
    else:
        with pd.option_context("display.float_format", "{:,.1f}".format):
            _print_summary(ev, paths)
    return 0
