"""上传图层 (uploads) page: the planner's own GeoJSON / GPKG / zipped SHP / CSV."""

from __future__ import annotations

import re

import streamlit as st

from app_pages import common, state
from spatial._errors import InputFileError, PlanatlasError

_DATUMS = {
    "WGS84": "WGS-84 (GPS、OpenStreetMap、天地图)",
    "GCJ02": "GCJ-02 (高德、腾讯)",
    "BD09": "BD-09 (百度)",
}


def upload_name(filename: str, taken: set[str]) -> str:
    """Layer name for an uploaded file: ``上传·<stem>``, numbered when taken."""
    stem = re.sub(r"\.(geojson|json|gpkg|zip|csv|shp)$", "", filename, flags=re.IGNORECASE)
    stem = re.sub(r"[\x00-\x1f]", "", stem).strip()[:60] or "layer"
    name = f"{common.UPLOAD_PREFIX}{stem}"
    n = 2
    while name in taken:
        name = f"{common.UPLOAD_PREFIX}{stem} ({n})"
        n += 1
    return name


def render() -> None:
    """Draw the uploads page."""
    state.init_state()
    st.header("上传图层")
    from spatial import settings
    from spatial.io import uploads as uploads_mod

    st.caption(uploads_mod.describe_limits(lang="zh"))
    with st.form("upload_form", clear_on_submit=False):
        file = st.file_uploader("文件", type=["geojson", "json", "gpkg", "zip", "csv"], key="w_up_file")
        datum = st.selectbox("坐标系 (数据来源的坐标)", list(_DATUMS), format_func=_DATUMS.get,
                             key="w_up_datum",
                             help="从高德/腾讯拾取的坐标是 GCJ-02，从百度拾取的是 BD-09：导入时会转换为 WGS-84。")
        submitted = st.form_submit_button("导入")
    if submitted:
        if file is None:
            st.error("请先选择一个文件。")
        else:
            data = file.getvalue()
            try:
                if len(data) > settings.MAX_UPLOAD_BYTES:
                    msg = f"超过 {settings.MAX_UPLOAD_BYTES // 2**20} MB 上限"
                    raise InputFileError(msg)
                result = uploads_mod.read_upload(data, filename=file.name, datum=datum)
            except (PlanatlasError, ValueError, OSError) as exc:
                # the session is left exactly as it was
                st.error(f"无法导入 {file.name}：{exc}")
            else:
                ups = common.uploads()
                name = upload_name(file.name, set(ups) | set(common.store_layer_names()))
                ups[name] = result.frame
                state.put(state.UPLOAD_MESSAGES, list(result.warnings))
                layers = state.get(state.MAP_LAYERS)
                if layers is not None:
                    state.put(state.MAP_LAYERS, [*layers, name])
                st.success(f"已导入 {name}：{result.n_features} 个要素 (原坐标系 {result.source_datum})。")
                for note in result.warnings:
                    st.warning(note)

    ups = common.uploads()
    if ups:
        st.subheader("本次会话的上传图层")
        for name, gdf in list(ups.items()):
            c1, c2 = st.columns([4, 1])
            c1.write(f"{name} · {len(gdf)} 个要素 · {', '.join(sorted(gdf.geom_type.dropna().unique()))}")
            if c2.button("移除", key=f"w_up_rm_{name}"):
                ups.pop(name, None)
                layers = state.get(state.MAP_LAYERS)
                if layers is not None:
                    state.put(state.MAP_LAYERS, [n for n in layers if n != name])
                st.rerun()
    else:
        st.info("上传的图层会加入地图、服务圈分析和导出。")


if __name__ == "__main__":  # run by st.navigation as a page script
    render()
