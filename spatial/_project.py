"""The project store's record of imports: which layers an import wrote, and what a project is.

Plumbing of :mod:`spatial.intake`. Every imported layer is recorded in the
store's ``planatlas_imports`` table (kind, file, SHA-256, time, counts) in the
same atomic write that adds it (:func:`commit`); only recorded layers may be
replaced, renamed or removed (:func:`check_free`, :func:`remove_layer`,
:func:`rename_layer`), which is how the default layers built from the report
are kept from ever being overwritten. A project may also say what it is
(``planatlas_project``: a demo says so, and every page shows it).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from shapely.geometry import box

from . import facilities, store
from ._errors import ParameterError, StoreError, UnknownLayerError
from .layerspec import LayerSpec

#: Attribute table (``planatlas_imports``) recording every imported layer.
IMPORTS_TABLE = "imports"

#: Attribute table (``planatlas_project``) saying what a project is (a demo says so).
PROJECT_TABLE = "project"

_IMPORT_COLUMNS = ["name", "kind", "file", "sha256", "imported_at", "details"]


def store_file(path: str | os.PathLike[str]) -> Path:
    target = Path(path).expanduser()
    if target.suffix.lower() != ".gpkg":
        msg = f"项目数据库须为 .gpkg 文件，收到 {target} (the project store is a .gpkg file)"
        raise StoreError(msg)
    if target.exists() and not target.is_file():
        msg = f"{target} 不是文件 (not a file)"
        raise StoreError(msg)
    return target


def imported_layers(path: str | os.PathLike[str]) -> pd.DataFrame:
    """The store's record of imported layers (``name, kind, file, sha256, imported_at, details``)."""
    table = store.read_table(IMPORTS_TABLE, path=path)
    if table is None:
        return pd.DataFrame(columns=_IMPORT_COLUMNS)
    return table[[c for c in _IMPORT_COLUMNS if c in table.columns]]


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_free(target: Path, names: Iterable[str], *, replace: bool) -> set[str]:
    """Layers that will be replaced; refuses default layers and, unless ``replace``, any existing one."""
    if not target.exists():
        return set()
    present = set(store.list_layers(target)["name"])
    imported = set(imported_layers(target)["name"])
    taken = [n for n in names if n in present]
    for name in taken:
        if name not in imported:
            msg = (f"图层 {name} 是项目的默认图层，导入不能覆盖它：请换一个名称 "
                   f"(layer {name!r} is a default layer of the project; an import never overwrites it)")
            raise StoreError(msg)
        if not replace:
            msg = (f"数据库中已有导入的图层 {name}：要替换它请加 --replace，或换一个名称 "
                   f"(layer {name!r} was imported before: add --replace to replace it, or choose another name)")
            raise StoreError(msg)
    return set(taken)


def commit(target: Path, layers: Mapping[str, gpd.GeoDataFrame | store.LayerSource],
            specs: Mapping[str, LayerSpec], *, kind: str,
            file: str, digest: str, details: Mapping[str, Any], replace: bool,
            tables: Mapping[str, pd.DataFrame] | None = None) -> tuple[Path, bool]:
    """Write the layers and their record in one atomic step; a new project store when there is none."""
    check_free(target, layers, replace=replace)
    now = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    record = pd.DataFrame([{"name": n, "kind": kind, "file": file, "sha256": digest, "imported_at": now,
                            "details": json.dumps(details, ensure_ascii=False, default=str)} for n in layers])
    created = not target.exists()
    if created:
        store.write_store(dict(layers), target, specs=specs, tables={IMPORTS_TABLE: record, **(tables or {})})
        return target, True
    before = imported_layers(target)
    before = before[~before["name"].isin(list(layers))]
    all_tables = {IMPORTS_TABLE: pd.concat([before, record], ignore_index=True), **(tables or {})}
    store.update_store(target, add=dict(layers), specs=specs, tables=all_tables, replace=replace)
    return target, False


def imported_only(target: Path, name: str, what: str) -> None:
    imported = set(imported_layers(target)["name"])
    present = set(store.list_layers(target)["name"])
    if name not in present:
        msg = f"数据库中没有图层 {name} (no layer {name!r} in the store)"
        raise UnknownLayerError(msg)
    if name not in imported:
        msg = (f"图层 {name} 是项目的默认图层，不能{what} (layer {name!r} is a default layer; it cannot be "
               f"{'removed' if what == '移除' else 'renamed'})")
        raise StoreError(msg)


def remove_layer(path: str | os.PathLike[str], name: str) -> Path:
    """Remove an imported layer (and its record) from the store; default layers are refused.

    Raises
    ------
    UnknownLayerError
        No such layer.
    StoreError
        A default layer, or the store cannot be written.
    """
    target = store_file(path)
    imported_only(target, name, "移除")
    rest = imported_layers(target)
    rest = rest[rest["name"] != name]
    return store.update_store(target, remove=[name], tables={IMPORTS_TABLE: rest})


def rename_layer(path: str | os.PathLike[str], name: str, title: str) -> Path:
    """Give an imported layer a new Chinese title (its name, which exports refer to, stays).

    Raises
    ------
    UnknownLayerError
        No such layer.
    StoreError
        A default layer, or the store cannot be written.
    ParameterError
        A blank title.
    """
    target = store_file(path)
    clean = " ".join(str(title).split())[:80]
    if not clean:
        msg = "新名称不能为空 (the new title is blank)"
        raise ParameterError(msg)
    imported_only(target, name, "重命名")
    return store.update_store(target, retitle={name: clean})


def facility_counts(path: str | os.PathLike[str]) -> dict[str, dict[str, int]]:
    """Facilities per type of every facility layer of the store that has a ``facility_type`` column."""
    specs = store.read_specs(path)
    out: dict[str, dict[str, int]] = {}
    for name, spec in specs.items():
        if spec.role != "facilities":
            continue
        try:
            fields = pyogrio.read_info(Path(path), layer=name)["fields"]
        except (pyogrio.errors.DataLayerError, pyogrio.errors.DataSourceError):
            continue
        if "facility_type" not in list(fields):
            continue
        column = pyogrio.read_dataframe(Path(path), layer=name, columns=["facility_type"], read_geometry=False)
        out[name] = facilities.type_counts(column["facility_type"])
    return out


def project_extent(path: str | os.PathLike[str]) -> shapely.Geometry | None:
    """The area a project covers (WGS-84): its districts or units, else the box of all its layers."""
    target = Path(path)
    if not target.exists():
        return None
    specs = store.read_specs(target)
    boxes: dict[str, list[tuple[float, float, float, float]]] = {"units": [], "other": []}
    for name, spec in specs.items():
        if spec.role in ("analysis", "upload"):
            continue
        try:
            bounds = pyogrio.read_info(target, layer=name, force_total_bounds=True)["total_bounds"]
        except (pyogrio.errors.DataLayerError, pyogrio.errors.DataSourceError):
            continue
        if bounds is None or not np.all(np.isfinite(bounds)):
            continue
        key = "units" if spec.role in ("districts", "units") else "other"
        boxes[key].append(tuple(float(b) for b in bounds))  # type: ignore[arg-type]
    chosen = boxes["units"] or boxes["other"]
    if not chosen:
        return None
    return shapely.union_all([box(*b) for b in chosen])


def set_project_info(path: str | os.PathLike[str], *, title: str, label: str = "", kind: str = "project",
                     note: str = "") -> Path:
    """Record what a project is (its title; for a demo, the label every page and figure shows)."""
    table = pd.DataFrame([{"title": title, "label": label, "kind": kind, "note": note}])
    return store.update_store(store_file(path), tables={PROJECT_TABLE: table})


def project_info(path: str | os.PathLike[str]) -> dict[str, str]:
    """``title``, ``label``, ``kind`` and ``note`` of a project (empty strings when it records none)."""
    table = store.read_table(PROJECT_TABLE, path=path)
    empty = {"title": "", "label": "", "kind": "", "note": ""}
    if table is None or table.empty:
        return empty
    row = table.iloc[0]
    return {k: "" if pd.isna(row.get(k)) else str(row.get(k)) for k in empty}
