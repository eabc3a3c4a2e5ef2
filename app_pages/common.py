"""Data access shared by the pages: the project store, its specs, its report, uploads.

Pages stay small by asking this module for layers by name: everything comes
from the project store (the default store is built offline from the embedded
report on first use), uploaded layers from the session. The report text and
its target table are read from the store too, so a page always shows the
report the store was built from. Nothing here touches the network.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import streamlit as st

from app_pages import state
from spatial import store
from spatial._errors import PlanatlasError
from spatial.layerspec import LayerSpec, default_spec

#: Prefix that marks an uploaded layer's name in the layer lists.
UPLOAD_PREFIX = "上传·"


@st.cache_resource(show_spinner="首次运行：正在离线构建 GeoPackage 数据库…")
def _store_path_cached(data_dir: str) -> str:
    from layers.build import ensure_default_store

    return str(ensure_default_store())


def store_path() -> Path | None:
    """The project store (built on first call), or ``None`` with a message shown."""
    from spatial import settings

    try:
        return Path(_store_path_cached(str(settings.data_dir())))
    except PlanatlasError as exc:
        st.error(f"无法打开或构建数据库：{exc}")
    return None


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


@st.cache_data(show_spinner=False, max_entries=64)
def _read_layer_cached(name: str, path: str, mtime: float) -> gpd.GeoDataFrame:
    # mtime is part of the cache key: a rebuilt store is read again
    return store.read_layer(name, path=path)


@st.cache_data(show_spinner=False, max_entries=8)
def _list_layers_cached(path: str, mtime: float) -> pd.DataFrame:
    return store.list_layers(path)


@st.cache_data(show_spinner=False, max_entries=8)
def _specs_cached(path: str, mtime: float) -> dict[str, LayerSpec]:
    return store.read_specs(path)


@st.cache_data(show_spinner=False, max_entries=8)
def _table_cached(key: str, path: str, mtime: float) -> pd.DataFrame | None:
    return store.read_table(key, path=path)


def store_layer_table() -> pd.DataFrame | None:
    """``list_layers`` of the store, or ``None`` (message shown)."""
    path = store_path()
    if path is None:
        return None
    try:
        return _list_layers_cached(str(path), _mtime(path))
    except PlanatlasError as exc:
        st.error(f"无法读取图层列表：{exc}")
        return None


def store_layer_names() -> list[str]:
    """Names of the store's layers (empty when the store is unavailable)."""
    table = store_layer_table()
    return [] if table is None else [str(n) for n in table["name"]]


def specs() -> dict[str, LayerSpec]:
    """Spec of every layer: the store's, then the session's uploads."""
    out: dict[str, LayerSpec] = {}
    path = store_path()
    if path is not None:
        try:
            out.update(_specs_cached(str(path), _mtime(path)))
        except PlanatlasError as exc:
            st.error(f"无法读取图层说明：{exc}")
    for name in uploads():
        out[name] = default_spec(name, role="upload", title_zh=name, source="上传文件")
    return out


def spec(name: str) -> LayerSpec:
    """The spec of one layer (a default one for a layer nobody declared)."""
    return specs().get(name) or default_spec(name)


def uploads() -> dict[str, gpd.GeoDataFrame]:
    """Uploaded layers of this session, ``name -> GeoDataFrame`` (WGS-84)."""
    value = state.get(state.UPLOADS)
    if value is None:
        value = {}
        state.put(state.UPLOADS, value)
    return value


def available_layers() -> list[str]:
    """Store layers followed by this session's uploaded layers."""
    return store_layer_names() + list(uploads())


def layers_with_role(*roles: str) -> list[str]:
    """Available layers whose spec has one of ``roles``."""
    all_specs = specs()
    return [n for n in available_layers() if all_specs.get(n, default_spec(n)).role in roles]


def get_layer(name: str) -> gpd.GeoDataFrame | None:
    """A layer by name (uploaded or from the store), or ``None`` with a message shown."""
    ups = uploads()
    if name in ups:
        return ups[name]
    path = store_path()
    if path is None:
        return None
    try:
        return _read_layer_cached(name, str(path), _mtime(path))
    except PlanatlasError as exc:
        st.error(f"无法读取图层 {name}：{exc}")
        return None


def layer_label(name: str) -> str:
    """Display label of a layer: its Chinese title."""
    if name.startswith(UPLOAD_PREFIX):
        return name
    return spec(name).title_zh or name


def store_table(key: str) -> pd.DataFrame | None:
    """An attribute table of the store (``report``, ``targets`` …), or ``None``."""
    path = store_path()
    if path is None:
        return None
    try:
        return _table_cached(key, str(path), _mtime(path))
    except PlanatlasError as exc:
        st.error(f"无法读取数据库中的表 {key}：{exc}")
        return None


def report_text() -> tuple[str, str] | None:
    """``(name, text)`` of the report the store was built from, or ``None`` with a message shown."""
    table = store_table("report")
    if table is None or table.empty:
        st.warning("数据库中没有报告原文：请重新构建数据库 (planatlas build)。")
        return None
    row = table.iloc[0]
    return str(row.get("name") or ""), str(row.get("text") or "")


def point_on(gdf: gpd.GeoDataFrame) -> tuple[float, float] | None:
    """(lat, lon) of a representative point of a frame's first geometry."""
    geoms = gdf.geometry.dropna()
    geoms = geoms[~geoms.is_empty]
    if geoms.empty:
        return None
    pt = geoms.iloc[0].representative_point()
    return float(pt.y), float(pt.x)
