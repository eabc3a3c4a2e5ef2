"""地图 (map) page: planning layers, colour-by figure, basemap, search and fly-to."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import streamlit as st

from app_pages import common, map_overlays, nav, state
from spatial import webmap
from spatial.projection import reproject

_SEARCH_LIMIT = 50


def current_layers(names: list[str]) -> dict[str, gpd.GeoDataFrame]:
    """The chosen layers as frames (unreadable ones are skipped with a message)."""
    out = {}
    for name in names:
        gdf = common.get_layer(name)
        if gdf is not None:
            out[name] = gdf
    return out


def default_layers(names: list[str]) -> list[str]:
    """The layers a map opens with: those whose spec says visible."""
    specs = common.specs()
    return [n for n in names if n in specs and specs[n].visible]


def colour_figure(layers: dict[str, gpd.GeoDataFrame]) -> str | None:
    """The chosen choropleth figure, when a districts layer that has it is shown."""
    figure = state.get(state.MAP_COLOR_BY)
    if not figure:
        return None
    specs = common.specs()
    for name in layers:
        spec = specs.get(name)
        if spec is not None and spec.role == "districts" and figure in spec.style.figures:
            return str(figure)
    return None


def build_current_map(*, height: int | str = "100%", with_view: bool = True):
    """The map as the user last set it up (used by the export page too).

    ``with_view=False`` builds it at the default centre and zoom: the live map
    gets its view through ``st_folium(center=, zoom=)`` instead, because any
    change to the map's script makes the component reload (losing popups).
    """
    available = common.available_layers()
    names = state.get(state.MAP_LAYERS) or default_layers(available)
    layers = current_layers([n for n in names if n in available])
    return webmap.make_map(
        layers,
        specs=common.specs(),
        basemap=state.get(state.MAP_BASEMAP) if state.get(state.MAP_BASEMAP) in webmap.available_basemaps() else "osm",
        center=state.get(state.MAP_CENTER) if with_view else None,
        zoom=state.get(state.MAP_ZOOM) if with_view else None,
        color_by=colour_figure(layers),
        cluster_items=bool(state.get(state.MAP_CLUSTER)),
        height=height,
    )


def search(query: str) -> pd.DataFrame:
    """Report items and places whose name or text contains ``query``.

    Returns a frame with ``label, lat, lon, wkt, layer`` (WGS-84; ``layer`` is
    the layer that draws the hit: a place's own layer when one has it, e.g.
    公园 for 济西湿地), places first; ungeocoded items are left out since there
    is nowhere to fly to.
    """
    query = query.strip()
    rows = []
    columns = ["label", "lat", "lon", "wkt", "layer"]
    if not query:
        return pd.DataFrame(columns=columns)
    names = set(common.available_layers())
    for layer, fields in (("places", ("name", "aliases")), ("report_items", ("place_name", "text", "item_id"))):
        if layer not in names:
            continue
        gdf = common.get_layer(layer)
        if gdf is None or gdf.empty:
            continue
        gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
        hit = pd.Series(False, index=gdf.index)
        for field in fields:
            if field in gdf.columns:
                hit |= gdf[field].astype(str).str.contains(query, case=False, regex=False, na=False)
        for _, row in gdf[hit].head(_SEARCH_LIMIT).iterrows():
            pt = row.geometry.representative_point()
            if layer == "places":
                label = f"地名 · {row.get('name', '')}"
                shown_in = _layer_of_place(str(row.get("name", "")), names)
            else:
                text = str(row.get("text", ""))
                label = f"条目 {row.get('item_id', '')} · {row.get('place_name', '') or ''} · {text[:40]}"
                shown_in = "report_items"
            rows.append({"label": label, "lat": pt.y, "lon": pt.x, "wkt": row.geometry.wkt, "layer": shown_in})
    return pd.DataFrame(rows, columns=columns).head(_SEARCH_LIMIT)


def _layer_of_place(name: str, names: set[str]) -> str:
    """The layer that draws a place of this name (公园 for a park), else ``places``."""
    for layer in ("parks", "greenways", "river_crossings", "transport_lines"):
        if layer in names:
            gdf = common.get_layer(layer)
            if gdf is not None and "name" in gdf.columns and (gdf["name"].astype(str) == name).any():
                return layer
    return "places"


def _controls(names: list[str]) -> None:
    chosen = state.get(state.MAP_LAYERS)
    if chosen is None:
        chosen = [*default_layers(names), *[n for n in state.get(state.MAP_ADDED) if n not in default_layers(names)]]
    chosen = [n for n in chosen if n in names]
    if state.get(state.MAP_LAYERS_SYNC) or state.W_LAYERS in st.session_state:
        # an upload, a fly-to or another page changed the choice: the picker shows it
        kept = chosen if state.get(state.MAP_LAYERS_SYNC) else st.session_state[state.W_LAYERS]
        st.session_state[state.W_LAYERS] = [n for n in kept if n in names]
        state.put(state.MAP_LAYERS_SYNC, False)
    picked = st.multiselect(  # the widget's own value wins once it has one (kept over page switches)
        "图层", names, default=None if state.W_LAYERS in st.session_state else chosen,
        format_func=common.layer_labels(names).get, key=state.W_LAYERS, persist_state="session", placeholder="选择图层",
    )
    state.put(state.MAP_LAYERS, picked)

    basemaps = webmap.available_basemaps()
    keys = list(basemaps)
    current = state.get(state.MAP_BASEMAP)
    base = st.selectbox(
        "底图", keys, index=keys.index(current) if current in keys else 0,
        format_func=basemaps.get, key=state.W_BASEMAP, persist_state="session",
        help="高德底图为 GCJ-02 坐标：图层会临时偏移到 GCJ-02 以便对齐。天地图需设置环境变量 TIANDITU_KEY。",
    )
    state.put(state.MAP_BASEMAP, base)

    figures = {None: "不着色", **webmap.figure_choices(common.specs())}
    options = list(figures)
    color = state.get(state.MAP_COLOR_BY)
    picked_fig = st.selectbox(
        "区县着色指标", options, index=options.index(color) if color in options else 0,
        format_func=figures.get, key=state.W_COLOR_BY, persist_state="session",
    )
    state.put(state.MAP_COLOR_BY, picked_fig)

    cluster = st.checkbox("聚合报告条目", value=bool(state.get(state.MAP_CLUSTER)), key=state.W_CLUSTER,
                          persist_state="session")
    state.put(state.MAP_CLUSTER, cluster)


def _search_box() -> None:
    query = st.text_input("搜索条目或地名", value=state.get(state.MAP_SEARCH), key=state.W_SEARCH,
                          persist_state="session",
                          placeholder="例如：黄河大桥、起步区、R2")
    state.put(state.MAP_SEARCH, query)
    if not query.strip():
        return
    hits = search(query)
    if hits.empty:
        st.caption("没有找到可定位的结果。")
        return
    idx = st.selectbox("结果", range(len(hits)), format_func=lambda i: hits.iloc[i]["label"], key="w_map_hit",
                       persist_state="session")
    if st.button("在地图上定位", key="w_map_fly"):
        hit = hits.iloc[min(int(idx), len(hits) - 1)]
        state.show_on_map(hit["label"], hit["lat"], hit["lon"], wkt=hit["wkt"], layer=hit["layer"])


#: Size the map has on a 1280×720 laptop screen (pixels): the zoom of a fly-to or of the whole city
#: is chosen for it (its height follows the window, see common.app_css).
MAP_NOMINAL_PX = (720, 540)


def _shown_layer_names() -> list[str]:
    available = common.available_layers()
    chosen = state.get(state.MAP_LAYERS)
    if chosen is None:
        chosen = [*default_layers(available), *state.get(state.MAP_ADDED)]
    return [n for n in chosen if n in available]


def home_view(layers: dict[str, gpd.GeoDataFrame]) -> webmap.view.MapView:
    """The view a map opens with: the whole city (its districts or units), else everything shown."""
    specs = common.specs()
    frames = [f for n, f in layers.items() if specs.get(n) is not None and specs[n].role in ("districts", "units")]
    frames = frames or list(layers.values())
    boxes = [reproject(f, "EPSG:4326").total_bounds for f in frames if f is not None and len(f) and f.crs is not None]
    boxes = [b for b in boxes if all(pd.notna(b))]
    if not boxes:
        return webmap.view.MapView(webmap.DEFAULT_CENTER, webmap.DEFAULT_ZOOM)
    minx = min(b[0] for b in boxes)
    miny = min(b[1] for b in boxes)
    maxx = max(b[2] for b in boxes)
    maxy = max(b[3] for b in boxes)
    width, height = MAP_NOMINAL_PX
    return webmap.view.view_for_bounds((minx, miny, maxx, maxy), width_px=width, height_px=height, padding_px=8)


def _focus_view(focus: dict) -> webmap.view.MapView:
    """The view that shows a fly-to's target: its area fitted, or its point at a street zoom."""
    width, height = MAP_NOMINAL_PX
    view = webmap.view.view_for_geometry(_focus_geometry(focus), width_px=width, height_px=height)
    if focus.get("zoom"):
        view = webmap.view.MapView(view.center, int(focus["zoom"]))
    return view


def _focus_geometry(focus: dict):
    """A fly-to target's shape (WGS-84): its area when it has one, else its point."""
    import shapely

    geometry = None
    if focus.get("wkt"):
        try:
            geometry = shapely.from_wkt(focus["wkt"])
        except shapely.errors.GEOSException:
            geometry = None
    if geometry is None or geometry.is_empty:
        geometry = shapely.Point(focus["lon"], focus["lat"])
    return geometry


def _focus_mark(focus: dict | None, basemap: str):
    if not focus:
        return None
    return webmap.view.focus_group(_focus_geometry(focus), str(focus.get("label", "")), basemap=basemap)


def _read_url() -> None:
    """Once per session: the view, layers and basemap of a shared or reloaded map URL."""
    if state.get(state.MAP_URL_READ):
        return
    state.put(state.MAP_URL_READ, True)
    params = st.query_params
    try:
        if "lat" in params and "lon" in params and "z" in params:
            lat, lon, zoom = float(params["lat"]), float(params["lon"]), int(float(params["z"]))
            if -90 <= lat <= 90 and -180 <= lon <= 180 and 1 <= zoom <= 20:
                state.put(state.MAP_CENTER, (lat, lon))
                state.put(state.MAP_ZOOM, zoom)
    except ValueError:
        pass  # a hand-edited URL: the map opens on the whole city
    available = common.available_layers()
    if "layers" in params:
        wanted = [n for n in str(params["layers"]).split(",") if n in available]
        if wanted:
            state.put(state.MAP_LAYERS, wanted)
            st.session_state[state.W_LAYERS] = wanted
    if params.get("base") in webmap.available_basemaps():
        state.put(state.MAP_BASEMAP, params["base"])
        st.session_state[state.W_BASEMAP] = params["base"]


def _write_url() -> None:
    """The map's view, layers and basemap in the URL: a reload or a shared link opens the same map."""
    center, zoom = state.get(state.MAP_CENTER), state.get(state.MAP_ZOOM)
    wanted = {"layers": ",".join(_shown_layer_names()), "base": str(state.get(state.MAP_BASEMAP))}
    if center is not None and zoom is not None:
        wanted |= {"lat": f"{center[0]:.5f}", "lon": f"{center[1]:.5f}", "z": str(int(zoom))}
    if {k: st.query_params.get(k) for k in wanted} != wanted:
        st.query_params.update(wanted)


def render() -> None:
    """Draw the map page."""
    state.init_state()
    names = common.available_layers()
    if not names:
        st.header("地图")
        st.warning("还没有可显示的图层。")
        return
    _read_url()
    side, main = st.columns([1, 3])
    with side:
        st.header("地图")
        _controls(names)
        _search_box()
        focus = state.get(state.MAP_FOCUS)
        if focus:
            st.caption(f"当前定位：{focus['label']}")
    with main:
        _live_map()


def _live_map() -> None:
    from streamlit_folium import st_folium

    label = common.project_label()
    if label:  # the map's title says whose data it shows
        st.caption(f"{label} · {common.project_note()}")
    basemap = state.get(state.MAP_BASEMAP)
    if basemap not in webmap.available_basemaps():
        basemap = "osm"
    layers = current_layers(_shown_layer_names())
    focus = state.get(state.MAP_FOCUS)
    if state.get(state.MAP_CENTER) is None or state.get(state.MAP_ZOOM) is None:
        home = home_view(layers)
        state.put(state.MAP_CENTER, home.center)
        state.put(state.MAP_ZOOM, home.zoom)
    if state.get(state.MAP_FLY_PENDING) and focus:
        target = _focus_view(focus)
        state.put(state.MAP_CENTER, target.center)
        state.put(state.MAP_ZOOM, target.zoom)
    # the base map (tiles only) stays the same while layers, colours or
    # clustering change: st_folium swaps the overlays without reloading Leaflet;
    # every layer the page chose is shown (unticked ones stay unticked, LayerMemory)
    # each layer is drawn and rendered to script once per look and kept (app_pages.map_overlays)
    live = map_overlays.live_map(
        list(layers), basemap=basemap, color_by=colour_figure(layers),
        cluster=bool(state.get(state.MAP_CLUSTER)), height=MAP_NOMINAL_PX[1], focus=_focus_mark(focus, basemap),
    )
    # Send the saved view only when the browser needs it: a freshly mounted
    # map (page switch, other basemap) or a fly-to. Sent on every rerun it
    # would fight the user's own panning (e.g. a popup's auto-pan). Each view
    # sent differs from the one before (view.sendable), or st_folium ignores it.
    signature = basemap  # what the base map's script depends on
    fresh = (state.get(state.PREVIOUS_PAGE) != nav.PAGE_SPECS["map"][0]
             or state.get(state.MAP_SIGNATURE) != signature)
    center = zoom = None
    if fresh or state.get(state.MAP_FLY_PENDING):
        serial = int(state.get(state.MAP_VIEW_SERIAL)) + 1
        state.put(state.MAP_VIEW_SERIAL, serial)
        view = webmap.view.MapView(tuple(state.get(state.MAP_CENTER)), int(state.get(state.MAP_ZOOM)))
        center, zoom = webmap.view.sendable(view, serial, basemap=basemap)
    with st.container(key="pa_main_map"):
        out = st_folium(
            live.base,
            key="main_map",
            feature_group_to_add=live.groups,
            layer_control=live.control,
            height=MAP_NOMINAL_PX[1],
            use_container_width=True,
            center=center,
            zoom=zoom,
            # only what the page uses: each returned object can trigger a rerun
            returned_objects=["last_object_clicked_popup", "center", "zoom"],
        )
    state.put(state.MAP_SIGNATURE, signature)
    state.put(state.MAP_FLY_PENDING, False)
    if out:
        # Follow the user's panning and zooming, but only when the browser
        # reports a view it has not reported before: right after a fly-to the
        # component still returns the old view, which must not undo the jump.
        # (Before the browser has reported anything, "center" is absent.)
        # A freshly mounted map may first report the base map's built-in view,
        # before the view sent to it is applied: that is not the planner's view.
        view_out = (out.get("center"), out.get("zoom"))
        c = out.get("center") or {}
        unmoved = bool(c) and webmap.view.is_unmoved_base(c.get("lat", 0.0), c.get("lng", 0.0),
                                                          out.get("zoom") or 0, basemap=basemap)
        if c and not unmoved and view_out != state.get(state.MAP_LAST_VIEW):
            state.put(state.MAP_LAST_VIEW, view_out)
            state.put(state.MAP_CENTER, webmap.from_display_point(c["lat"], c["lng"], basemap=basemap))
            if out.get("zoom"):
                state.put(state.MAP_ZOOM, round(float(out["zoom"])))
        if out.get("last_object_clicked_popup"):
            state.put(state.MAP_LAST_POPUP, out["last_object_clicked_popup"])
    for note in live.notes:  # layers too large for the browser: simplified or summarised on a grid
        st.caption(note)
    _write_url()
    st.caption("点击要素查看原文句子、章节、类别、数量及来源、来源坐标系与定位精度；空心圆表示区域中心，虚线圈表示仅定位到区县。")


if __name__ == "__main__":  # run by st.navigation as a page script
    render()
