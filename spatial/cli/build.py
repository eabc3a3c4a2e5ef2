"""``planatlas build`` and ``planatlas layers``: the project store and what it holds."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .. import store, vocab
from .._encoding import EncodingProblem, codec_name
from .._errors import ParameterError
from ._common import add_force_argument, add_store_argument, plan_outputs, print_table, record_outputs, step


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("build", help="解析并定位报告，把全部图层写入项目数据库 (parse and geocode a report)")
    p.add_argument("--report", help="报告文件 (UTF-8、GBK/GB18030、Big5、UTF-16 或 UTF-32，自动识别)；"
                                    "默认：内置的济南 2023 年政府工作报告")
    p.add_argument("--encoding", help="报告的文字编码，自动识别不对时指定，如 gbk、big5、utf-16")
    p.add_argument("--out", help="要写入的 GeoPackage (默认：用户数据目录中的 planatlas.gpkg)")
    p.add_argument("--json", action="store_true", help="以 JSON 输出摘要")
    add_force_argument(p)
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("layers", help="列出项目数据库中的图层 (list the layers of a store)")
    add_store_argument(p)
    p.set_defaults(func=cmd_layers)


def cmd_build(args: argparse.Namespace) -> int:
    from layers.build import build_store, layer_table

    if args.out and Path(args.out).suffix.lower() != ".gpkg":
        msg = f"--out 须为 GeoPackage (.gpkg) 文件，收到 {args.out} (the store is a .gpkg file)"
        raise ParameterError(msg)
    if args.encoding:
        try:
            codec_name(args.encoding)
        except EncodingProblem as exc:
            msg = f"--encoding：{exc.zh} (--encoding: {exc.en})"
            raise ParameterError(msg) from None
    planned = plan_outputs(args, [("--out", args.out)], reading=[args.report]) if args.out else []
    step("正在解析报告并定位地名，写入数据库")
    result, path, kept = build_store(Path(args.report) if args.report else None, args.out, encoding=args.encoding)
    record_outputs(planned)
    if args.json:
        print(json.dumps({"store": str(path), "report": result.report_name,
                          "layers": {k: len(v) for k, v in result.layers.items()},
                          "corrections_kept": kept, "summary": result.summary.as_dict()},
                         ensure_ascii=False, indent=2, default=str))
        return 0
    print(f"报告：{result.report_name}")
    print(result.summary.as_text())
    if kept:
        print(f"已保留规划师修正 {kept} 条 (user_places)")
    print()
    print_table(layer_table(result).rename(columns={"layer": "图层", "title": "名称", "features": "要素",
                                                    "located": "已定位"}), labels=False)
    print(f"\n已写入 {path}")
    return 0


def cmd_layers(args: argparse.Namespace) -> int:
    from ._common import store_path

    meta = store.list_layers(store_path(args))
    table = meta[[c for c in ("name", "title_zh", "role", "n_features", "stored_geometry_type", "source_datum",
                              "precision") if c in meta.columns]].copy()
    if "role" in table.columns:
        table["role"] = [vocab.label("role", v) for v in table["role"]]
    if "source_datum" in table.columns:
        table["source_datum"] = [vocab.label("datum", v) for v in table["source_datum"]]
    if "precision" in table.columns:
        table["precision"] = [vocab.label("precision", v) for v in table["precision"]]
    print_table(table.rename(columns={"name": "图层", "title_zh": "名称", "role": "用途", "n_features": "要素",
                                      "stored_geometry_type": "几何类型", "source_datum": "来源坐标系",
                                      "precision": "精度"}), labels=False)
    _print_facility_counts(store_path(args))
    return 0


def _print_facility_counts(path: Path) -> None:
    """Facilities per type of every facility layer with a ``facility_type`` column."""
    from .. import facilities
    from ..intake import facility_counts, project_info

    counts = facility_counts(path)
    if counts:
        print("\n按设施类型：")
    for name, per_type in counts.items():
        print(f"  {name}：{facilities.describe_counts(per_type)}")
    info = project_info(path)
    if info["label"]:
        print(f"\n{info['label']}：{info['note']}")
