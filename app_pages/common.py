"""Data access shared by the pages: cached store reads, uploads, optional modules.

Pages stay small by asking this module for layers by name: store layers come
from the GeoPackage (built offline from the embedded report on first use),
uploaded layers from the session. Nothing here touches the network.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import streamlit as st

from spatial._errors import PlanatlasError

from app_pages import state

#: Layers ticked on the map when a session starts (the rest are one click away).
DEFAULT_MAP_LAYERS: tuple[str, ...] = (
    "districts", "starting_zone", "yellow_river", "river_crossings", "report_items",
)

#: Prefix that marks an uploaded layer's name in the layer lists.
UPLOAD_PREFIX = "上传·"


@st.cache_resource(show_spinner="首次运行：正在离线构建 GeoPackage 数据库…")
def _store_path_cached(data_dir: str) -> str:
    from spatial.store import ensure_store

    return str(ensure_store())


def store_path() -> Path | None:
    """The GeoPackage store (built on first call), or ``None`` with a message shown."""
    from spatial import settings

    try:
        return Path(_store_path_cached(str(settings.data_dir())))
    except ImportError as exc:
        st.warning(f"数据库尚不可用：缺少模块 {exc.name or exc}。")
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
    from spatial.store import read_layer

    return read_layer(name, path=path)


@st.cache_data(show_spinner=False, max_entries=8)
def _list_layers_cached(path: str, mtime: float) -> pd.DataFrame:
    from spatial.store import list_layers

    return list_layers(path)


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
    """Display label of a layer: Chinese title and name."""
    if name.startswith(UPLOAD_PREFIX):
        return name
    from spatial.webmap import layer_title

    title = layer_title(name)
    return f"{title} ({name})" if title != name else name


@st.cache_data(show_spinner=False, max_entries=4)
def _report_cached(path: str, mtime: float):
    from spatial.report import read_report

    return read_report(path)


def report():
    """The parsed default report, or ``None`` with a message shown."""
    from spatial.settings import DEFAULT_REPORT

    try:
        return _report_cached(str(DEFAULT_REPORT), _mtime(DEFAULT_REPORT))
    except PlanatlasError as exc:
        st.error(f"无法读取报告：{exc}")
        return None


def point_on(gdf: gpd.GeoDataFrame) -> tuple[float, float] | None:
    """(lat, lon) of a representative point of a frame's first geometry."""
    geoms = gdf.geometry.dropna()
    geoms = geoms[~geoms.is_empty]
    if geoms.empty:
        return None
    pt = geoms.iloc[0].representative_point()
    return float(pt.y), float(pt.x)
