"""上传图层 (uploads) page: the planner's own files into the project store, renamed and removed there.

An upload is written into the current project's store (:func:`spatial.intake.import_upload`
or, for a map platform's POI export, :func:`spatial.intake.import_poi`), so it
survives a reload and a restart and joins the map, the analyses and the
exports like any layer. Only imported layers can be renamed or removed; the
project's default layers cannot.
"""

from __future__ import annotations

import streamlit as st

from app_pages import common, state
from spatial._errors import InputFileError, PlanatlasError

_DATUMS = {
    "auto": "按来源 (图层：WGS-84；POI：高德/腾讯 GCJ-02、百度 BD-09)",
    "WGS84": "WGS-84 (GPS、OpenStreetMap、天地图)",
    "GCJ02": "GCJ-02 (高德、腾讯)",
    "BD09": "BD-09 (百度)",
}
_KINDS = {"layer": "图层 (GeoJSON、GeoPackage、压缩的 Shapefile、带经纬度的 CSV)",
          "poi": "POI 导出 (高德、百度、腾讯的 CSV、Excel 或 JSON)"}
_VENDORS = {"auto": "按列名判断", "amap": "高德", "baidu": "百度", "tencent": "腾讯"}


def _import(file, kind: str, datum: str, vendor: str) -> None:
    from spatial import intake, settings

    path = common.store_path()
    if path is None:
        return
    data = file.getvalue()
    try:
        if len(data) > settings.MAX_UPLOAD_BYTES:
            msg = f"超过 {settings.MAX_UPLOAD_BYTES // 2**20} MB 上限"
            raise InputFileError(msg)
        if kind == "poi":
            result = intake.import_poi(file.name, data=data, filename=file.name, store_path=path, source=vendor,
                                       datum=None if datum == "auto" else datum, name=_poi_name(path, vendor))
        else:
            result = intake.import_upload(data, filename=file.name, datum="WGS84" if datum == "auto" else datum,
                                          store_path=path,
                                          allow_outside_china=common.project() == "demo")
    except (PlanatlasError, ValueError, OSError) as exc:
        st.error(f"无法导入 {file.name}：{exc}")  # the store is left exactly as it was
        return
    state.put(state.UPLOAD_MESSAGES, list(result.notes))
    state.add_map_layers(list(result.layers))  # shown on the map whenever it is opened
    written = "、".join(f"{common.layer_label(n)} ({n}) {k:,} 个要素" for n, k in result.layers.items())
    st.success(f"已导入 {file.name}：{written}，已写入项目数据库。")
    for note in result.notes:
        st.warning(note)


def _poi_name(path, vendor: str) -> str:
    """``poi_<vendor>_<n>``: every POI upload is a layer of its own."""
    taken = set(common.store_layer_names())
    stem = f"poi_{vendor if vendor != 'auto' else 'upload'}"
    n = 1
    while f"{stem}_{n}" in taken:
        n += 1
    return f"{stem}_{n}"


def _manage() -> None:
    """The project's imported layers, each with rename and remove."""
    from spatial import intake

    path = common.store_path()
    if path is None:
        return
    try:
        imported = intake.imported_layers(path)
    except PlanatlasError as exc:
        st.error(f"无法读取导入记录：{exc}")
        return
    if imported.empty:
        st.info("上传的图层会写入项目数据库，并加入地图、服务圈分析和导出。")
        return
    st.subheader("项目中导入的图层")
    for row in imported.itertuples(index=False):
        name = str(row.name)
        c1, c2, c3 = st.columns([3, 2, 1])
        c1.write(f"{common.layer_label(name)} · {name} · 来自 {row.file}")
        title = c2.text_input("新名称", value=common.layer_label(name), key=f"w_up_title_{name}",
                              label_visibility="collapsed")
        if c2.button("重命名", key=f"w_up_mv_{name}"):
            try:
                intake.rename_layer(path, name, title)
            except PlanatlasError as exc:
                st.error(f"无法重命名 {name}：{exc}")
            else:
                st.rerun()
        if c3.button("移除", key=f"w_up_rm_{name}"):
            try:
                intake.remove_layer(path, name)
            except PlanatlasError as exc:
                st.error(f"无法移除 {name}：{exc}")
            else:
                layers = state.get(state.MAP_LAYERS)
                if layers is not None:
                    state.set_map_layers([n for n in layers if n != name])
                st.rerun()


def render() -> None:
    """Draw the uploads page."""
    state.init_state()
    st.header("上传图层")
    from spatial.io import uploads as uploads_mod

    st.caption(uploads_mod.describe_limits(lang="zh"))
    with st.form("upload_form", clear_on_submit=False):
        kind = st.radio("文件类型", list(_KINDS), format_func=_KINDS.get, key="w_up_kind")
        file = st.file_uploader("文件", type=["geojson", "json", "gpkg", "zip", "csv", "xlsx"], key="w_up_file")
        datum = st.selectbox("坐标系 (数据来源的坐标)", list(_DATUMS), format_func=_DATUMS.get,
                             key="w_up_datum",
                             help="从高德/腾讯拾取的坐标是 GCJ-02，从百度拾取的是 BD-09：导入时会转换为 WGS-84。"
                                  "POI 导出按平台的坐标系转换，此处的选择会覆盖它。")
        vendor = st.selectbox("POI 来源", list(_VENDORS), format_func=_VENDORS.get, key="w_up_vendor")
        submitted = st.form_submit_button("导入")
    if submitted:
        if file is None:
            st.error("请先选择一个文件。")
        else:
            _import(file, kind, datum, vendor)
    _manage()


if __name__ == "__main__":  # run by st.navigation as a page script
    render()
