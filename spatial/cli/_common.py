"""What the subcommands share: the store argument, tables a planner reads, messages."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from .. import vocab
from .._errors import StoreError


def add_store_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", help="项目数据库 GeoPackage (默认：用户数据目录中的 planatlas.gpkg，缺失时离线构建)")


def store_path(args: argparse.Namespace) -> Path:
    """The store named by ``--store`` (which must exist), else the default store (built if missing)."""
    if getattr(args, "store", None):
        path = Path(args.store).expanduser()
        if not path.exists():
            msg = f"没有找到数据库 {path}：请先运行 `planatlas build --out {path}` (no store at this path)"
            raise StoreError(msg)
        return path
    from layers.build import ensure_default_store  # the CLI sits on top: it may build the default store

    return ensure_default_store()


def print_table(frame: pd.DataFrame, *, labels: bool = True) -> None:
    """A table as a planner reads it: Chinese headings, no index, nothing cut."""
    shown = frame.rename(columns={c: vocab.column_label(c) for c in frame.columns}) if labels else frame
    with pd.option_context("display.max_rows", 500, "display.max_columns", 40, "display.width", 200):
        print(shown.to_string(index=False))


def rounded(table: pd.DataFrame) -> pd.DataFrame:
    """Whole people, two decimals elsewhere."""
    out = table.copy()
    for col in out.columns:
        if out[col].dtype.kind == "f":
            people = (col.startswith("population") and not col.endswith("pct")) or col == "residents_outside"
            out[col] = out[col].round(0).astype("Int64") if people else out[col].round(2)
    return out


def warn(message: str) -> None:
    print(f"planatlas: 注意：{message}", file=sys.stderr)
