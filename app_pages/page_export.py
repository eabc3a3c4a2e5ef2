"""导出 (export) page: any layer or analysis result as a file, the map as HTML."""

from __future__ import annotations

import streamlit as st

from app_pages import common, state
from spatial._errors import PlanatlasError

_FORMATS = {
    "geojson": "GeoJSON (WGS-84)",
    "gpkg": "GeoPackage",
    "shp": "Shapefile (zip)",
    "kml": "KML (Google Earth / 奥维)",
    "csv": "CSV (经纬度 + WKT)",
}

_RESULT_PARTS = {"service_area": "服务圈分析 · 服务范围", "gaps": "服务圈分析 · 覆盖缺口",
                 "grid": "服务圈分析 · 网格"}


def export_sources() -> dict[str, str]:
    """What can be exported: ``key -> label`` (layers, uploads, analysis results)."""
    out = {f"layer:{n}": common.layer_label(n) for n in common.available_layers()}
    if state.get(state.COVERAGE_RESULT) is not None:
        out.update({f"result:{k}": v for k, v in _RESULT_PARTS.items()})
    return out


def _frame(key: str):
    kind, _, name = key.partition(":")
    if kind == "result":
        return getattr(state.get(state.COVERAGE_RESULT), name, None)
    return common.get_layer(name)


def _safe_filename(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name).strip("_") or "layer"


def render() -> None:
    """Draw the export page."""
    state.init_state()
    st.header("导出")

    sources = export_sources()
    if not sources:
        st.warning("没有可导出的图层。")
    else:
        c1, c2 = st.columns(2)
        key = c1.selectbox("图层或结果", list(sources), format_func=sources.get, key="w_exp_src",
                           persist_state="session")
        fmt = c2.selectbox("格式", list(_FORMATS), format_func=_FORMATS.get, key="w_exp_fmt", persist_state="session")
        frame = _frame(key)
        if frame is not None:
            name = _safe_filename(key.partition(":")[2])
            try:
                data, suffix, mime, notes = common.export_with_notes(frame, fmt, layer=name)
            except PlanatlasError as exc:
                st.error(f"无法导出：{exc}")
            else:
                for note in notes:
                    st.warning(note)
                st.download_button(f"下载 {name}{suffix} ({len(data) / 1024:,.0f} KB)", data,
                                   file_name=f"{name}{suffix}", mime=mime, key="w_exp_dl", on_click="ignore")
                st.caption(f"{len(frame)} 个要素；几何为 WGS-84 经纬度，含来源、来源坐标系与定位精度三个字段。")

    st.subheader("当前地图 (HTML)")
    st.caption("包含当前图层、底图与着色设置；Leaflet 脚本已内嵌，离线可打开 (底图瓦片仍需联网)。")
    if st.button("生成地图 HTML", key="w_exp_html"):
        from app_pages.page_map import build_current_map
        from spatial import webmap

        try:
            page = webmap.standalone_html(build_current_map())
        except PlanatlasError as exc:
            st.error(f"无法生成地图：{exc}")
        else:
            st.download_button("下载 planatlas_map.html", page.encode("utf-8"), file_name="planatlas_map.html",
                               mime="text/html", key="w_exp_html_dl", on_click="ignore")


if __name__ == "__main__":  # run by st.navigation as a page script
    render()
