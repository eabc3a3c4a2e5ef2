"""Session-state keys of the app, defined in one place.

Every page reads and writes ``st.session_state`` only through these names, so
a key cannot be misspelt on one page and silently start a second state.

Widget values (keys ``w_*``) are kept by Streamlit itself: every input widget
of the pages is drawn with ``persist_state="session"`` (Streamlit >= 1.67), so
a page opens as the planner left it after a page switch. The earlier way,
writing every ``w_*`` value back at the top of each run, lost a value when a
run was cut short by the next click (the 设施图层 selector of 服务圈分析 came
back as 公园 while the result shown was for 绿道); ``tests/test_app_state.py``
fails if an input widget is drawn without it.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

# --- map page: what the user sees survives reruns and page switches
MAP_CENTER = "map_center"  # (lat, lon) WGS-84
MAP_ZOOM = "map_zoom"  # int
MAP_LAYERS = "map_layers"  # list of layer names shown
MAP_BASEMAP = "map_basemap"  # key of spatial.webmap.BASEMAPS
MAP_COLOR_BY = "map_color_by"  # districts column or None
MAP_CLUSTER = "map_cluster"  # bool: cluster report items
MAP_SEARCH = "map_search"  # text of the search box
MAP_FOCUS = "map_focus"  # dict(label, lat, lon, wkt, layer) of the feature flown to
MAP_VIEW_SERIAL = "map_view_serial"  # int: one more per view sent (spatial.webmap.view.sendable)
MAP_URL_READ = "map_url_read"  # the map's view was read from the URL once this session
MAP_ADDED = "map_added"  # layers to show on top of the default set (uploads made before the map was opened)
MAP_LAYERS_SYNC = "map_layers_sync"  # MAP_LAYERS was changed from outside the picker: the picker follows
MAP_LAST_POPUP = "map_last_popup"  # text of the last clicked popup
MAP_LAST_VIEW = "map_last_view"  # (center, zoom) the browser's map last reported
MAP_FLY_PENDING = "map_fly_pending"  # a fly-to waits to be sent to the browser
MAP_SIGNATURE = "map_signature"  # basemap of the map last drawn (its script depends on it)

# --- navigation: which page ran in this and in the previous script run
CURRENT_PAGE = "current_page"
PREVIOUS_PAGE = "previous_page"

# --- the project: "default" (Jinan, from the report) or "demo" (Helsinki, real OSM data)
PROJECT = "project"

# --- uploads go into the project store; the warnings of the last one are kept to show
UPLOAD_MESSAGES = "upload_messages"  # warnings of the last successful upload

# --- report page
REPORT_SELECTED = "report_selected_item"  # item_id
REPORT_FIX_CLICK = "report_fix_click"  # (lat, lon) of the last map click used for a correction
REPORT_FIX_MESSAGE = "report_fix_message"  # what the last saved correction did

# --- coverage page: the last result and its parameters
COVERAGE_RESULT = "coverage_result"
COVERAGE_LABEL = "coverage_label"
COVERAGE_FACILITIES = "coverage_facilities"  # the facilities the result was run on
COVERAGE_INPUTS = "coverage_inputs"  # the page's choices the result was run with (stale mark)
LIFECIRCLE_INPUTS = "lifecircle_inputs"  # the choices the evaluation was run with (stale mark)
SITING_INPUTS = "siting_inputs"  # the choices the siting was run with (stale mark)
REPORT_URL_READ = "report_url_read"  # the report filters were read from the URL once this session

# --- 生活圈体检 page: the last evaluation and its output files (bytes by kind)
LIFECIRCLE_RESULT = "lifecircle_result"
LIFECIRCLE_FILES = "lifecircle_files"
# --- siting page: the last result, its map and its files (built once per run)
SITING_RESULT = "siting_result"
SITING_MAP = "siting_map"
SITING_FILES = "siting_files"  # file name -> bytes
# --- result maps of the analysis pages (app_pages.result_map): {map key: (box fitted to, serial of the view sent)}
RESULT_MAP_VIEWS = "result_map_views"
# {map key: what that map last drew (app_pages.result_map._Drawn)}: a rerun with the same token draws nothing
RESULT_MAP_DRAWN = "result_map_drawn"

# --- widget keys of the map page (written from outside the widgets: URL, fly-to, uploads)
W_LAYERS = "w_map_layers"
W_BASEMAP = "w_map_basemap"
W_COLOR_BY = "w_map_color_by"
W_CLUSTER = "w_map_cluster"
W_SEARCH = "w_map_search"

DEFAULTS: dict[str, Any] = {
    MAP_CENTER: None,
    MAP_ZOOM: None,
    MAP_LAYERS: None,  # None = the default set, decided once the store is known
    MAP_BASEMAP: "osm",
    MAP_COLOR_BY: "density",
    MAP_CLUSTER: True,
    MAP_SEARCH: "",
    MAP_FOCUS: None,
    MAP_LAST_POPUP: None,
    MAP_LAST_VIEW: None,
    MAP_FLY_PENDING: False,
    MAP_SIGNATURE: None,
    MAP_VIEW_SERIAL: 0,
    MAP_URL_READ: False,
    MAP_ADDED: [],
    MAP_LAYERS_SYNC: False,
    COVERAGE_INPUTS: None,
    REPORT_URL_READ: False,
    LIFECIRCLE_INPUTS: None,
    SITING_INPUTS: None,
    CURRENT_PAGE: None,
    PREVIOUS_PAGE: None,
    PROJECT: "default",
    UPLOAD_MESSAGES: None,
    REPORT_SELECTED: None,
    REPORT_FIX_CLICK: None,
    REPORT_FIX_MESSAGE: None,
    COVERAGE_RESULT: None,
    COVERAGE_LABEL: None,
    COVERAGE_FACILITIES: None,
    LIFECIRCLE_RESULT: None,
    LIFECIRCLE_FILES: None,
    SITING_RESULT: None,
    SITING_MAP: None,
    SITING_FILES: None,
    RESULT_MAP_VIEWS: None,
    RESULT_MAP_DRAWN: None,
}


def init_state() -> None:
    """Set every key to its default once per session (never overwrites)."""
    for key, value in DEFAULTS.items():
        if key not in st.session_state:
            st.session_state[key] = value


def get(key: str) -> Any:
    """Value of a state key (initialising the session first if needed)."""
    if key not in st.session_state:
        init_state()
    return st.session_state[key]


def put(key: str, value: Any) -> None:
    """Set a state key; refuses names not declared in this module."""
    if key not in DEFAULTS:
        msg = f"undeclared session-state key {key!r}: add it to app_pages/state.py"
        raise KeyError(msg)
    st.session_state[key] = value


def show_on_map(label: str, lat: float, lon: float, *, zoom: int | None = None, wkt: str | None = None,
                layer: str | None = None) -> None:
    """Fly the map page to a feature and mark it (used by the map's search, the report and targets pages).

    ``wkt`` (WGS-84) lets the map fit an area's bounds instead of a street zoom
    at its point; ``layer`` is switched on so the target's own layer shows.
    The map page turns this into an explicit view change
    (:func:`spatial.webmap.view.sendable`), so a second fly-to to the same
    place after panning still moves the map.
    """
    put(MAP_FOCUS, {"label": str(label), "lat": float(lat), "lon": float(lon), "wkt": wkt, "layer": layer,
                    "zoom": zoom})
    put(MAP_FLY_PENDING, True)
    if layer:
        add_map_layers([layer])


#: What a result whose inputs were changed on its page says above itself.
STALE_NOTE = "⚠ 已过期：左侧的选择已改变，下面仍是上次运行的结果。点击运行按钮更新。"


def set_map_layers(names: list[str]) -> None:
    """The layers the map shows; its layer picker follows on the map page's next run."""
    put(MAP_LAYERS, list(names))
    put(MAP_LAYERS_SYNC, True)


def add_map_layers(names: list[str]) -> None:
    """Show these layers on the map too (an upload, a fly-to's layer).

    Before the map was first opened the choice is still the default set: the
    new layers are remembered on top of it (MAP_ADDED), so they show whenever
    the map is opened.
    """
    layers = get(MAP_LAYERS)
    if layers is None:
        put(MAP_ADDED, [*get(MAP_ADDED), *[n for n in names if n not in get(MAP_ADDED)]])
        return
    set_map_layers([*layers, *[n for n in names if n not in layers]])

def note_page(title: str) -> None:
    """Record the page about to run (the map page re-sends its view after a page switch)."""
    put(PREVIOUS_PAGE, get(CURRENT_PAGE))
    put(CURRENT_PAGE, title)
