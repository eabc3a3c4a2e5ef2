"""The project store: every layer of a project in one GeoPackage, written atomically.

The store is the hand-off between the parts of planatlas: builders and imports
write layers into it, analyses, the map, the CLI and exports read them from
it. This module knows nothing of how a layer is made; each layer arrives with
its :class:`~spatial.layerspec.LayerSpec` (titles, provenance, style), which is
kept in the attribute table ``planatlas_layers`` so the file explains itself,
in QGIS too.

A planner's store must never be left half-written. :func:`write_store` writes
all layers into a temporary file beside the target, checks that every layer
reads back, and only then moves it over the old store with :func:`os.replace`
(atomic on POSIX and Windows); :func:`update_store` does the same on a copy of
the store, so an import that fails half-way leaves the store as it was.

Besides layers, a store holds attribute tables of its own (names starting
``planatlas_``), e.g. the text of the report it was built from
(:func:`read_table`).

A store on disk can be damaged (a disk that filled up, a copy cut short, a
tool that wrote into it). Every read first checks the store
(:func:`check_store`: the SQLite header, SQLite's own ``quick_check``, the
layer table and the layers it lists; done once per version of the file), so
a damaged store is one clear :class:`~spatial._errors.DamagedStoreError`
saying how to rebuild it, never GDAL's or SQLite's text. A layer whose
geometry blobs cannot be read comes back with those features counted
(:data:`UNREADABLE_ATTR`, and a :class:`~spatial._errors.PlanatlasWarning`),
never silently as empty geometries. Rebuilding the default store is the
builder's business (``layers.build.ensure_default_store``), not this module's.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import stat
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
import shapely.errors
from pyogrio.errors import DataLayerError, DataSourceError, FeatureError, FieldError, GeometryError

from . import settings
from ._atomic import atomic_path, describe_failure
from ._errors import (
    CRSError,
    DamagedStoreError,
    PlanatlasError,
    PlanatlasWarning,
    StoreError,
    UnknownLayerError,
)
from .layerspec import LayerSpec, default_spec, spec_from_record
from .projection import reproject

#: Name of the attribute table that describes the layers.
META_TABLE = "planatlas_layers"

#: Prefix of planatlas's own attribute tables; no layer may take it.
TABLE_PREFIX = "planatlas_"

_GDAL_ERRORS = (DataSourceError, DataLayerError, FieldError, FeatureError, GeometryError)

#: What reading a damaged file can raise besides GDAL's errors.
_READ_ERRORS = (*_GDAL_ERRORS, sqlite3.Error, OSError, ValueError, RuntimeError, MemoryError,
                shapely.errors.GEOSException)

#: ``GeoDataFrame.attrs`` key of :func:`read_layer`: features whose stored geometry could not be read.
UNREADABLE_ATTR = "planatlas_unreadable_geometries"

_SQLITE_MAGIC = b"SQLite format 3\x00"


def gpkg_geometry_type(gdf: gpd.GeoDataFrame) -> str:
    """GeoPackage geometry type for a frame: its single type, promoted to Multi if mixed."""
    types = set(gdf.geometry.dropna().geom_type.unique())
    if not types:
        return "Unknown"
    if len(types) == 1:
        return str(types.pop())
    bases = {t.replace("Multi", "") for t in types}
    if len(bases) == 1:
        return "Multi" + str(bases.pop())
    return "Unknown"  # generic GEOMETRY column (points and lines together)


def writable_frame(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A copy ready for any file format: EPSG:4326, JSON text for list/dict/tuple cells.

    Shared by the store and every export, so a layer reads the same whichever
    file it went to.
    """
    if gdf.crs is None:
        msg = "图层没有坐标参照系，无法写入 (cannot write a layer without CRS: set it first)"
        raise CRSError(msg)
    _check_columns(gdf)
    out = reproject(gdf, settings.STORAGE_CRS) if not gdf.crs.equals("EPSG:4326") else gdf.copy()
    for col in out.columns:
        if col != out.geometry.name and out[col].dtype == object:
            out[col] = out[col].map(
                lambda v: json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict, tuple)) else v
            )
    return out


def _check_columns(gdf: gpd.GeoDataFrame) -> None:
    """Refuse columns no file format can hold: names that are not text, or differ only in case; complex numbers.

    Raises
    ------
    StoreError
        Naming the columns refused.
    """
    names = [c for c in gdf.columns if c != gdf.geometry.name]
    not_text = [repr(c) for c in names if not isinstance(c, str)]
    if not_text:
        shown = ", ".join(not_text[:5])
        msg = f"列名 {shown} 不是文字，无法写入 (column names {shown} are not text)"
        raise StoreError(msg)
    seen: dict[str, str] = {}
    for c in names:
        other = seen.setdefault(c.lower(), c)
        if other != c:
            msg = (f"列 {other} 与 {c} 只差大小写，GeoPackage 无法区分；请改名 "
                   f"(columns {other!r} and {c!r} differ only in case, which GeoPackage cannot tell apart)")
            raise StoreError(msg)
    complex_cols = [c for c in names if gdf[c].dtype.kind == "c"]
    if complex_cols:
        shown = ", ".join(complex_cols[:5])
        msg = f"列 {shown} 是复数，无法写入 (columns {shown} hold complex numbers, which no format stores)"
        raise StoreError(msg)


def _check_name(name: object) -> str:
    # GeoPackage reserves gpkg*/sqlite* table names, and planatlas's own tables
    # would silently be replaced by a layer of their name
    if (not isinstance(name, str) or not name.strip() or name.startswith(TABLE_PREFIX)
            or name.lower().startswith(("gpkg", "sqlite", "rtree_"))):
        msg = f"图层名 {name!r} 为空或为保留名 (the layer name is empty or reserved)"
        raise StoreError(msg)
    return name


def _resolve(path: str | os.PathLike[str] | None) -> Path:
    return settings.user_path(path) if path is not None else settings.default_store_path()


@dataclass(frozen=True)
class LayerSource:
    """A layer too large to hold in memory: chunk files copied into the store one at a time.

    An importer spills a big layer (a province's buildings) to GeoParquet
    chunk files as it reads (GeoParquet: written and read back in a fraction
    of the time a GeoPackage takes); :func:`write_store` and
    :func:`update_store` then copy the chunks one by one, through
    ``transform`` (a step that needs all of the import, e.g. which buildings
    stand on residential land), so memory holds one chunk, whatever the
    layer's size.

    Attributes
    ----------
    files : tuple of pathlib.Path
        GeoParquet chunk files, in order.
    sizes : tuple of int
        Features in each file.
    geometry_type : str
        GeoPackage geometry type of the layer (``"MultiPolygon"`` …).
    transform : callable, optional
        Applied to each chunk before it is written.
    """

    files: tuple[Path, ...]
    sizes: tuple[int, ...]
    geometry_type: str
    transform: Callable[[gpd.GeoDataFrame], gpd.GeoDataFrame] | None = None

    def __len__(self) -> int:
        return int(sum(self.sizes))

    def chunks(self) -> Iterator[gpd.GeoDataFrame]:
        """The layer one chunk at a time, transformed."""
        for file in self.files:
            chunk = gpd.read_parquet(file)
            yield self.transform(chunk) if self.transform is not None else chunk

    def frame(self) -> gpd.GeoDataFrame:
        """The whole layer in memory (for small layers and tests)."""
        parts = list(self.chunks())
        return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=parts[0].crs)


def _unique_identifier(tmp: Path, identifier: str, name: str) -> str:
    """``identifier``, or it with the layer name when another table of the GeoPackage has it already.

    GeoPackage identifiers must be unique: two layers with one title (units
    imported twice from one file under two names) would otherwise fail.
    """
    if not tmp.exists():
        return identifier
    try:
        with contextlib.closing(sqlite3.connect(f"file:{tmp}?mode=ro", uri=True)) as con:
            taken = con.execute("SELECT 1 FROM gpkg_contents WHERE identifier = ? AND table_name != ?",
                                (identifier, name)).fetchone()
    except sqlite3.Error:
        return identifier
    return f"{identifier} [{name}]" if taken else identifier


def _write_layer(frame: gpd.GeoDataFrame | LayerSource, tmp: Path, name: str, spec: LayerSpec) -> dict[str, Any]:
    """Write one layer into the GeoPackage at ``tmp``; return its metadata row."""
    identifier = _unique_identifier(tmp, f"{spec.title_zh} {spec.title_en}".strip(), name)
    options = {"IDENTIFIER": identifier, "DESCRIPTION": spec.description}
    if isinstance(frame, LayerSource):
        gtype, n = frame.geometry_type, 0
        for chunk in frame.chunks():
            pyogrio.write_dataframe(writable_frame(chunk), tmp, layer=name, driver="GPKG", geometry_type=gtype,
                                    promote_to_multi=gtype.startswith("Multi"), append=n > 0,
                                    layer_options=None if n else options)
            n += len(chunk)
    else:
        gtype, n = gpkg_geometry_type(frame), len(frame)
        pyogrio.write_dataframe(writable_frame(frame), tmp, layer=name, driver="GPKG", geometry_type=gtype,
                                layer_options=options)
    row = spec.as_record()
    row["name"] = name
    row["n_features"] = n
    row["stored_geometry_type"] = gtype
    return row


def _write_meta(tmp: Path, rows: list[dict[str, Any]]) -> None:
    pyogrio.write_dataframe(pd.DataFrame(rows), tmp, layer=META_TABLE, driver="GPKG")


def _write_tables(tmp: Path, tables: Mapping[str, pd.DataFrame]) -> None:
    for key, table in tables.items():
        if not key or not key.replace("_", "").isalnum():
            msg = f"表名 {key!r} 无效 (invalid table name)"
            raise StoreError(msg)
        pyogrio.write_dataframe(pd.DataFrame(table), tmp, layer=TABLE_PREFIX + key, driver="GPKG")


def _verify(tmp: Path, names: Iterable[str]) -> None:
    """Read back before replacing: a store that does not open is never installed."""
    written = {row[0] for row in pyogrio.list_layers(tmp)}
    missing = set(names) - written
    if missing:
        msg = f"写入后缺少图层 {sorted(missing)} (layers missing after writing)"
        raise StoreError(msg)


@contextmanager
def _store_errors(target: Path, step: tuple[str, str]) -> Iterator[None]:
    """Turn what GDAL, SQLite and the OS raise into one clear :class:`StoreError`.

    ``step`` is what was being done, (Chinese, English). A full disk is said
    as such; any other failure of GDAL or SQLite is said without its text
    (which a planner cannot act on), the previous store being untouched.
    """
    try:
        yield
    except PlanatlasError:
        raise
    except (OSError, sqlite3.Error, NotImplementedError, TypeError, ValueError, AttributeError,
            *_GDAL_ERRORS) as exc:
        reason = describe_failure(exc) or ("GDAL 无法写入其中的数据", "GDAL could not write the data")
        msg = (f"无法{step[0]} {target}：{reason[0]}；原有数据库未改动 "
               f"(cannot {step[1]} {target}: {reason[1]}; the previous store is unchanged)")
        raise StoreError(msg) from None


def _prepare_target(path: str | os.PathLike[str] | None) -> Path:
    target = _resolve(path).resolve()
    if target.exists() and not target.is_file():
        msg = f"无法写入数据库：{target} 不是普通文件 (not a regular file)"
        raise StoreError(msg)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"无法在 {target.parent} 写入数据库 ({exc.strerror or exc})"
        raise StoreError(msg) from None
    return target


def write_store(
    layers: Mapping[str, gpd.GeoDataFrame | LayerSource],
    path: str | os.PathLike[str] | None = None,
    *,
    specs: Mapping[str, LayerSpec] | None = None,
    tables: Mapping[str, pd.DataFrame] | None = None,
) -> Path:
    """Write layers into one GeoPackage, atomically replacing any previous store.

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame or LayerSource
        Layer name -> frame (any CRS; stored in EPSG:4326), or a
        :class:`LayerSource` copied in chunks.
    path : path-like, optional
        Target file; default :func:`spatial.settings.default_store_path`.
    specs : mapping of str to LayerSpec, optional, keyword-only
        The spec of each layer; a layer without one gets
        :func:`~spatial.layerspec.default_spec`.
    tables : mapping of str to DataFrame, optional, keyword-only
        Attribute tables kept beside the layers (read back with
        :func:`read_table`), e.g. the report's text.

    Returns
    -------
    pathlib.Path
        The written store.

    Raises
    ------
    StoreError
        A name is reserved, the folder cannot be written, or GDAL refuses a
        frame; the previous store is then untouched.
    """
    specs = specs or {}
    names = [_check_name(n) for n in layers]
    target = _prepare_target(path)
    with _store_errors(target, ("写入数据库", "write the store")), atomic_path(target, suffix=".tmp.gpkg") as tmp:
        rows = [
            _write_layer(gdf, tmp, name, specs.get(name) or _spec_for(name, gdf))
            for name, gdf in layers.items()
        ]
        _write_meta(tmp, rows)
        _write_tables(tmp, tables or {})
        _verify(tmp, [*names, META_TABLE])
    return target


def _spec_for(name: str, gdf: gpd.GeoDataFrame | LayerSource) -> LayerSpec:
    gtype = gdf.geometry_type if isinstance(gdf, LayerSource) else gpkg_geometry_type(gdf)
    return default_spec(name, role="upload", geometry_type=gtype)


def _drop_layer(db: Path, name: str) -> None:
    """Remove a layer and its GeoPackage bookkeeping (R-tree, contents rows) with SQLite."""
    con = sqlite3.connect(db)
    try:
        geom_cols = [r[0] for r in con.execute(
            "SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?", (name,))]
        for col in geom_cols:
            con.execute(f'DROP TABLE IF EXISTS "rtree_{name}_{col}"')
        con.execute(f'DROP TABLE IF EXISTS "{name}"')
        for table in ("gpkg_contents", "gpkg_geometry_columns", "gpkg_extensions", "gpkg_ogr_contents"):
            exists = con.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (table,)).fetchone()
            if exists:
                con.execute(f"DELETE FROM {table} WHERE table_name = ?", (name,))
        con.commit()
    finally:
        con.close()


def update_store(
    path: str | os.PathLike[str] | None = None,
    *,
    add: Mapping[str, gpd.GeoDataFrame | LayerSource] | None = None,
    specs: Mapping[str, LayerSpec] | None = None,
    remove: Iterable[str] = (),
    retitle: Mapping[str, str] | None = None,
    tables: Mapping[str, pd.DataFrame] | None = None,
    replace: bool = False,
) -> Path:
    """Add, replace, remove or retitle layers of an existing store, atomically.

    The change is made on a copy beside the store, checked, and moved over
    it: a failure at any step leaves the store exactly as it was.

    Parameters
    ----------
    path : path-like, optional
        The store (default :func:`spatial.settings.default_store_path`).
    add : mapping of str to GeoDataFrame or LayerSource, optional, keyword-only
        Layers to write.
    specs : mapping of str to LayerSpec, optional, keyword-only
        Specs of the added layers.
    remove : iterable of str, keyword-only
        Layers to remove.
    retitle : mapping of str to str, optional, keyword-only
        Layer -> new Chinese title (the layer's name stays: it is what other
        layers and exports refer to).
    tables : mapping of str to DataFrame, optional, keyword-only
        Attribute tables to write (replacing tables of the same name).
    replace : bool, keyword-only
        Allow ``add`` to replace a layer that exists; refused by default, so an
        import can never overwrite a layer silently.

    Returns
    -------
    pathlib.Path
    """
    add = dict(add or {})
    specs = dict(specs or {})
    removed = set(remove)
    retitle = dict(retitle or {})
    store = _resolve(path)
    meta = list_layers(store)
    present = set(meta["name"])
    for name in add:
        _check_name(name)
        if name in present and name not in removed and not replace:
            msg = f"数据库中已有图层 {name}：请换一个名称 (layer {name!r} exists; choose another name)"
            raise StoreError(msg)
    for name in removed | set(retitle):
        if name not in present:
            msg = f"数据库中没有图层 {name} (no layer {name!r} in the store)"
            raise UnknownLayerError(msg)
    rows: dict[str, dict[str, Any]] = {str(r["name"]): {str(k): v for k, v in r.items()}
                                       for r in meta.to_dict("records")}
    target = store.resolve()
    with _store_errors(target, ("更新数据库", "update the store")), atomic_path(target, suffix=".tmp.gpkg") as tmp:
        shutil.copyfile(target, tmp)
        for name in removed:
            _drop_layer(tmp, name)
            rows.pop(name, None)
        for name, gdf in add.items():
            # a replaced layer keeps its spec unless a new one is given
            spec = specs.get(name) or (spec_from_record(rows[name]) if name in rows else _spec_for(name, gdf))
            if name in present and name not in removed:
                _drop_layer(tmp, name)
            rows[name] = _write_layer(gdf, tmp, name, spec)
        for name, title in retitle.items():
            rows[name]["title_zh"] = str(title)
        _drop_layer(tmp, META_TABLE)
        _write_meta(tmp, list(rows.values()))
        for key in tables or {}:
            _drop_layer(tmp, TABLE_PREFIX + key)
        _write_tables(tmp, tables or {})
        _verify(tmp, [*rows, META_TABLE])
    return target


def rebuild_hint(path: Path) -> tuple[str, str]:
    """How to rebuild a store, for messages: (Chinese, English)."""
    command = f"planatlas build --out {path} --force"
    return f"请运行 `{command}` 重建", f"rebuild it with `{command}`"


def _damaged(store: Path, zh: str, en: str) -> DamagedStoreError:
    hint = rebuild_hint(store)
    return DamagedStoreError(
        f"数据库 {store} 已损坏或不是 planatlas 数据库：{zh}；{hint[0]} "
        f"(store {store} is damaged or not a planatlas store: {en}; {hint[1]})"
    )


# (path, device, inode, size, mtime_ns) of stores that passed check_store in this process
_CHECKED: set[tuple[str, int, int, int, int]] = set()


def check_store(path: str | os.PathLike[str] | None = None) -> Path:
    """Check that a store is a whole planatlas GeoPackage; return its path.

    Checked: a regular file; the SQLite header; SQLite's ``PRAGMA quick_check``
    (pages, records, indexes: it finds truncation and overwritten pages); the
    layer table; and that every layer it lists is in the file. A store that
    passed is not checked again while its size and modification time stay
    the same (a few milliseconds for the Jinan store).

    Raises
    ------
    StoreError
        No store there (with how to build one), or not a regular file.
    DamagedStoreError
        Damaged, or not a planatlas store (with how to rebuild it).
    """
    store = _resolve(path)
    try:
        st = store.stat()
    except FileNotFoundError:
        msg = f"没有找到数据库 {store}：请先运行 `planatlas build` (no store at {store}: run `planatlas build`)"
        raise StoreError(msg) from None
    except OSError as exc:
        reason = describe_failure(exc) or ("无法读取", "cannot read")
        msg = f"无法打开数据库 {store}：{reason[0]} (cannot open store {store}: {reason[1]})"
        raise StoreError(msg) from None
    if not stat.S_ISREG(st.st_mode):
        msg = (f"{store} 不是数据库文件，而是文件夹或特殊文件 "
               f"({store} is not a store file but a folder or special file)")
        raise StoreError(msg)
    key = (str(store), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    if key in _CHECKED:
        return store
    _check_contents(store, st.st_size)
    _CHECKED.add(key)
    return store


def _check_contents(store: Path, size: int) -> None:
    try:
        with store.open("rb") as fh:
            head = fh.read(100)
    except OSError as exc:
        reason = describe_failure(exc) or ("无法读取", "cannot read")
        msg = f"无法打开数据库 {store}：{reason[0]} (cannot open store {store}: {reason[1]})"
        raise StoreError(msg) from None
    if size == 0:
        raise _damaged(store, "文件是空的", "the file is empty")
    if not head.startswith(_SQLITE_MAGIC):
        raise _damaged(store, "不是 GeoPackage (SQLite) 文件", "not a GeoPackage (SQLite) file")
    try:
        con = sqlite3.connect(f"{store.resolve().as_uri()}?mode=ro", uri=True)
        con.text_factory = lambda raw: raw.decode("utf-8", "replace")  # damaged text is damage, not a crash
        try:
            verdict = [str(r[0]) for r in con.execute("PRAGMA quick_check(5)")]
            tables = {str(r[0]) for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            listed: list[str] = []
            if META_TABLE in tables:
                listed = [str(r[0]) for r in con.execute(f'SELECT name FROM "{META_TABLE}"')]
            contents = set()
            if "gpkg_contents" in tables:
                contents = {str(r[0]) for r in con.execute("SELECT table_name FROM gpkg_contents")}
        finally:
            con.close()
    except (sqlite3.Error, ValueError):
        raise _damaged(store, "SQLite 无法读取文件结构 (可能被截断)",
                       "SQLite cannot read its structure (cut short?)") from None
    if verdict != ["ok"]:
        raise _damaged(store, "SQLite 的完整性检查未通过 (文件被截断或部分被覆盖)",
                       "SQLite's integrity check failed (the file is cut short or partly overwritten)")
    if "gpkg_contents" not in tables:
        raise _damaged(store, "不是 GeoPackage (缺少 gpkg_contents 表)", "not a GeoPackage (no gpkg_contents table)")
    if META_TABLE not in tables:
        raise _damaged(store, f"缺少图层说明表 {META_TABLE}", f"the layer table {META_TABLE} is missing")
    missing = [n for n in listed if n not in tables or n not in contents]
    if missing:
        shown = "、".join(missing[:5])
        raise _damaged(store, f"图层说明表列出的图层 {shown} 不在文件中",
                       f"layers {', '.join(missing[:5])} are listed but missing")


def _open(path: str | os.PathLike[str] | None) -> Path:
    return check_store(path)


def _table_names(store: Path) -> list[str]:
    try:
        return [str(row[0]) for row in pyogrio.list_layers(store)]
    except _READ_ERRORS:
        raise _damaged(store, "GDAL 无法列出其中的图层", "GDAL cannot list its layers") from None


def list_layers(path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Table of the layers in a store: name, titles, source, datum, precision, role, n_features …"""
    store = _open(path)
    try:
        meta = pyogrio.read_dataframe(store, layer=META_TABLE, read_geometry=False)
    except _READ_ERRORS:
        raise _damaged(store, "无法读取图层说明表", "the layer table cannot be read") from None
    if "name" not in meta.columns:
        raise _damaged(store, "图层说明表没有 name 列", "the layer table has no 'name' column")
    return pd.DataFrame(meta)


def read_specs(path: str | os.PathLike[str] | None = None) -> dict[str, LayerSpec]:
    """``name -> LayerSpec`` of every layer of a store, in the order written."""
    records = list_layers(path).to_dict("records")
    try:
        return {spec.name: spec for spec in (spec_from_record({str(k): v for k, v in r.items()}) for r in records)}
    except (KeyError, TypeError, ValueError):
        store = _resolve(path)
        raise _damaged(store, "图层说明表中的样式无法读取", "the layer table's styles cannot be read") from None


def _stored_geometries(store: Path, name: str) -> int | None:
    """Rows of a layer whose geometry blob is not NULL, counted by SQLite (None when unknown)."""
    try:
        con = sqlite3.connect(f"{store.resolve().as_uri()}?mode=ro", uri=True)
        con.text_factory = lambda raw: raw.decode("utf-8", "replace")
        try:
            row = con.execute("SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?", (name,)).fetchone()
            if row is None:
                return None
            column = str(row[0]).replace('"', '""')
            table = name.replace('"', '""')
            return int(con.execute(f'SELECT count(*) FROM "{table}" WHERE "{column}" IS NOT NULL').fetchone()[0])
        finally:
            con.close()
    except (sqlite3.Error, ValueError):
        return None


def _drop_impossible(gdf: gpd.GeoDataFrame) -> None:
    """Geometries a damaged blob decoded into coordinates no place has (beyond ±180°/±90°, not finite):
    set to none, so they are counted with the unreadable ones instead of breaking an analysis."""
    geoms = gdf.geometry.to_numpy()
    present = ~shapely.is_missing(geoms)
    if not present.any():
        return
    bounds = shapely.bounds(geoms[present])
    bad = ~np.isfinite(bounds).all(axis=1) | (np.abs(bounds[:, [0, 2]]) > 180).any(axis=1) | (
        np.abs(bounds[:, [1, 3]]) > 90).any(axis=1)
    if bad.any():
        idx = np.flatnonzero(present)[bad]
        gdf.loc[gdf.index[idx], gdf.geometry.name] = None


def read_layer(name: str, *, path: str | os.PathLike[str] | None = None) -> gpd.GeoDataFrame:
    """Read one layer from the store, in EPSG:4326.

    Features whose stored geometry cannot be read (a damaged blob) come back
    with no geometry, counted in ``attrs[UNREADABLE_ATTR]`` and said in a
    :class:`~spatial._errors.PlanatlasWarning`.

    Raises
    ------
    UnknownLayerError
        No layer of that name.
    DamagedStoreError
        The store or the layer is damaged.
    """
    store = _open(path)
    names = _table_names(store)
    if name not in names or name.startswith(TABLE_PREFIX):
        known = "、".join(n for n in names if not n.startswith(TABLE_PREFIX))
        msg = f"数据库中没有图层 {name}；现有图层：{known} (unknown layer {name!r})"
        raise UnknownLayerError(msg)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # GDAL's note on each unreadable blob: counted below
            gdf = pyogrio.read_dataframe(store, layer=name)
    except _READ_ERRORS:
        raise _damaged(store, f"图层 {name} 无法读取", f"layer {name!r} cannot be read") from None
    gdf.attrs[UNREADABLE_ATTR] = 0
    if isinstance(gdf, gpd.GeoDataFrame):
        stored = _stored_geometries(store, name)
        _drop_impossible(gdf)
        readable = int(gdf.geometry.notna().sum())
        if stored is not None and stored > readable:
            lost = stored - readable
            gdf.attrs[UNREADABLE_ATTR] = lost
            hint = rebuild_hint(store)
            warnings.warn(PlanatlasWarning(
                f"图层 {name} 的 {len(gdf)} 个要素中有 {lost} 个的几何数据已损坏、无法读取 (按无几何处理)；{hint[0]} "
                f"(layer {name!r}: the geometry of {lost} of {len(gdf)} features is damaged and cannot be read; "
                f"{hint[1]})"), stacklevel=2)
    return gdf


def read_all(path: str | os.PathLike[str] | None = None) -> dict[str, gpd.GeoDataFrame]:
    """Every layer of a store, by name, in the order it was written."""
    meta = list_layers(path)
    return {str(name): read_layer(str(name), path=path) for name in meta["name"]}


def read_table(key: str, *, path: str | os.PathLike[str] | None = None) -> pd.DataFrame | None:
    """An attribute table planatlas keeps in the store (``None`` when the store has none of that name)."""
    store = _open(path)
    if TABLE_PREFIX + key not in _table_names(store):
        return None
    try:
        return pd.DataFrame(pyogrio.read_dataframe(store, layer=TABLE_PREFIX + key, read_geometry=False))
    except _READ_ERRORS:
        raise _damaged(store, f"表 {key} 无法读取", f"table {key!r} cannot be read") from None
