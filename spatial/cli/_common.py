"""What the subcommands share: the store and output arguments, tables a planner reads, messages.

Every subcommand that writes a file takes ``--force`` (:func:`add_force_argument`)
and plans all its outputs with :func:`plan_outputs` before doing any work, so
the rules of :mod:`spatial.io._outputs` (regular files only, never a file
being read, never two outputs to one path, never a file planatlas did not
write unless ``--force``) hold for every command, the ones added later too.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from .. import settings, store, vocab
from .._errors import StoreError
from ..io import _outputs


def add_store_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store",
                        help="项目数据库 GeoPackage (默认：用户数据目录中的 planatlas.gpkg，缺失或损坏时离线重建)")


def add_force_argument(parser: argparse.ArgumentParser) -> None:
    """``--force``: replace existing output files that planatlas did not write."""
    parser.add_argument("--force", action="store_true",
                        help="覆盖已存在、但不是 planatlas 写出的输出文件 "
                             "(replace existing files planatlas did not write)")


def plan_outputs(args: argparse.Namespace, outputs: Sequence[tuple[str, str | os.PathLike[str]]],
                 *, reading: Iterable[str | os.PathLike[str] | None] = ()) -> list[_outputs.Output]:
    """Check the outputs of a command before it works (see :func:`spatial.io._outputs.plan_outputs`)."""
    return _outputs.plan_outputs(outputs, reading=reading, force=bool(getattr(args, "force", False)))


def record_outputs(planned: Iterable[_outputs.Output]) -> None:
    """Remember the outputs just written as planatlas's own."""
    _outputs.record_outputs(planned)


def store_path(args: argparse.Namespace) -> Path:
    """The store named by ``--store`` (which must exist and be whole), else the default store.

    The default store is built when it is missing and rebuilt, with a
    warning, when it is damaged; a store given by path is never changed here:
    the error says how to rebuild it.
    """
    if getattr(args, "store", None):
        path = settings.user_path(args.store)
        if not path.exists():
            msg = (f"没有找到数据库 {path}：请先运行 `planatlas build --out {path}` "
                   f"(no store at {path}: build one with `planatlas build --out {path}`)")
            raise StoreError(msg)
        return store.check_store(path)
    from layers.build import ensure_default_store  # the CLI sits on top: it may build the default store

    step("正在打开默认数据库 (缺失或损坏时离线重建)")
    return ensure_default_store()


def step(message: str) -> None:
    """Progress on the terminal: one line per slow step (only when standard error is a terminal)."""
    if sys.stderr.isatty() or os.environ.get("PLANATLAS_PROGRESS") == "1":
        print(f"planatlas: {message}…", file=sys.stderr, flush=True)


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
