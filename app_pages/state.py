"""Session-state keys of the app, defined in one place.

Every page reads and writes ``st.session_state`` only through these names, so
a key cannot be misspelt on one page and silently start a second state.
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
MAP_FOCUS = "map_focus"  # dict(label, lat, lon) of the feature flown to
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

# --- 生活圈体检 page: the last evaluation and its output files (bytes by kind)
LIFECIRCLE_RESULT = "lifecircle_result"
LIFECIRCLE_FILES = "lifecircle_files"
# --- siting page: the last result, its map and its files (built once per run)
SITING_RESULT = "siting_result"
SITING_MAP = "siting_map"
SITING_FILES = "siting_files"  # file name -> bytes

# --- widget keys (so values survive page switches)
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


def show_on_map(label: str, lat: float, lon: float, *, zoom: int = 14) -> None:
    """Centre the map page on a point (used by the report and targets pages)."""
    put(MAP_FOCUS, {"label": str(label), "lat": float(lat), "lon": float(lon)})
    put(MAP_CENTER, (float(lat), float(lon)))
    put(MAP_ZOOM, int(zoom))
    put(MAP_FLY_PENDING, True)


def note_page(title: str) -> None:
    """Record the page about to run (the map page re-sends its view after a page switch)."""
    put(PREVIOUS_PAGE, get(CURRENT_PAGE))
    put(CURRENT_PAGE, title)
