"""地图 (map) page: planning layers, colour-by figure, basemap, search and fly-to."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import streamlit as st

from app_pages import common, nav, state
from spatial import webmap

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

    Returns a frame with ``label, lat, lon`` (WGS-84), places first; ungeocoded
    items are left out since there is nowhere to fly to.
    """
    query = query.strip()
    rows = []
    if not query:
        return pd.DataFrame(columns=["label", "lat", "lon"])
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
            else:
                text = str(row.get("text", ""))
                label = f"条目 {row.get('item_id', '')} · {row.get('place_name', '') or ''} · {text[:40]}"
            rows.append({"label": label, "lat": pt.y, "lon": pt.x})
    return pd.DataFrame(rows, columns=["label", "lat", "lon"]).head(_SEARCH_LIMIT)


def _controls(names: list[str]) -> None:
    chosen = state.get(state.MAP_LAYERS)
    if chosen is None:
        chosen = default_layers(names)
    chosen = [n for n in chosen if n in names]
    picked = st.multiselect(
        "图层", names, default=chosen, format_func=common.layer_labels(names).get, key=state.W_LAYERS
    )
    state.put(state.MAP_LAYERS, picked)

    basemaps = webmap.available_basemaps()
    keys = list(basemaps)
    current = state.get(state.MAP_BASEMAP)
    base = st.selectbox(
        "底图", keys, index=keys.index(current) if current in keys else 0,
        format_func=basemaps.get, key=state.W_BASEMAP,
        help="高德底图为 GCJ-02 坐标：图层会临时偏移到 GCJ-02 以便对齐。天地图需设置环境变量 TIANDITU_KEY。",
    )
    state.put(state.MAP_BASEMAP, base)

    figures = {None: "不着色", **webmap.figure_choices(common.specs())}
    options = list(figures)
    color = state.get(state.MAP_COLOR_BY)
    picked_fig = st.selectbox(
        "区县着色指标", options, index=options.index(color) if color in options else 0,
        format_func=figures.get, key=state.W_COLOR_BY,
    )
    state.put(state.MAP_COLOR_BY, picked_fig)

    cluster = st.checkbox("聚合报告条目", value=bool(state.get(state.MAP_CLUSTER)), key=state.W_CLUSTER)
    state.put(state.MAP_CLUSTER, cluster)


def _search_box() -> None:
    query = st.text_input("搜索条目或地名", value=state.get(state.MAP_SEARCH), key=state.W_SEARCH,
                          placeholder="例如：黄河大桥、起步区、R2")
    state.put(state.MAP_SEARCH, query)
    if not query.strip():
        return
    hits = search(query)
    if hits.empty:
        st.caption("没有找到可定位的结果。")
        return
    idx = st.selectbox("结果", range(len(hits)), format_func=lambda i: hits.iloc[i]["label"], key="w_map_hit")
    if st.button("在地图上定位", key="w_map_fly"):
        hit = hits.iloc[idx]
        state.show_on_map(hit["label"], hit["lat"], hit["lon"])


def render() -> None:
    """Draw the map page."""
    state.init_state()
    st.header("地图")
    names = common.available_layers()
    if not names:
        st.warning("还没有可显示的图层。")
        return
    side, main = st.columns([1, 3])
    with side:
        _controls(names)
        _search_box()
        focus = state.get(state.MAP_FOCUS)
        if focus:
            st.caption(f"当前定位：{focus['label']}")
    with main:
        from streamlit_folium import st_folium

        label = common.project_label()
        if label:  # the map's title says whose data it shows
            st.caption(f"{label} · {common.project_note()}")
        basemap = state.get(state.MAP_BASEMAP)
        if basemap not in webmap.available_basemaps():
            basemap = "osm"
        names = [n for n in (state.get(state.MAP_LAYERS) or []) if n in common.available_layers()]
        # the base map (tiles only) stays the same while layers, colours or
        # clustering change: st_folium swaps the overlays without reloading Leaflet
        layers = current_layers(names)
        live = webmap.make_live_map(
            layers, specs=common.specs(), basemap=basemap, color_by=colour_figure(layers),
            cluster_items=bool(state.get(state.MAP_CLUSTER)), height=620,
        )
        # Send the saved view only when the browser needs it: a freshly mounted
        # map (page switch, other basemap) or a fly-to. Sent on every rerun it
        # would fight the user's own panning (e.g. a popup's auto-pan).
        signature = basemap  # what the base map's script depends on
        fresh = (state.get(state.PREVIOUS_PAGE) != nav.PAGE_SPECS["map"][0]
                 or state.get(state.MAP_SIGNATURE) != signature)
        send_view = fresh or state.get(state.MAP_FLY_PENDING)
        center = state.get(state.MAP_CENTER) if send_view else None
        if center is not None:
            # st_folium moves the live map in the basemap's datum (GCJ-02 on AMap)
            center = webmap.display_point(*center, basemap=basemap)
        zoom = state.get(state.MAP_ZOOM) if send_view else None
        out = st_folium(
            live.base,
            key="main_map",
            feature_group_to_add=live.groups,
            layer_control=live.control,
            height=620,
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
            view = (out.get("center"), out.get("zoom"))
            if out.get("center") and view != state.get(state.MAP_LAST_VIEW):
                state.put(state.MAP_LAST_VIEW, view)
                c = out["center"]
                state.put(state.MAP_CENTER, webmap.from_display_point(c["lat"], c["lng"], basemap=basemap))
                if out.get("zoom"):
                    state.put(state.MAP_ZOOM, int(out["zoom"]))
            if out.get("last_object_clicked_popup"):
                state.put(state.MAP_LAST_POPUP, out["last_object_clicked_popup"])
        for note in live.notes:  # layers too large for the browser: simplified or summarised on a grid
            st.caption(note)
        st.caption("点击要素查看原文句子、章节、类别、数量及来源 (source / 坐标系 / 精度)。")


if __name__ == "__main__":  # run by st.navigation as a page script
    render()
