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
    "GCJ02": "GCJ-02 (高德、腾讯；多数中国网络地图数据)",
    "WGS84": "WGS-84 (GPS、OpenStreetMap、天地图)",
    "BD09": "BD-09 (百度)",
}

#: Words in a file's name or columns that say its datum, most telling first.
_DATUM_HINTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("BD09", "百度", ("bd09", "bd-09", "baidu", "百度")),
    ("GCJ02", "高德/腾讯", ("gcj", "amap", "gaode", "autonavi", "高德", "tencent", "腾讯", "qq")),
    ("WGS84", "GPS/OSM", ("wgs", "gps", "osm", "openstreetmap", "tianditu", "天地图", "cgcs")),
)
_KINDS = {"layer": "图层 (GeoJSON、GeoPackage、压缩的 Shapefile、带经纬度的 CSV)",
          "poi": "POI 导出 (高德、百度、腾讯的 CSV、Excel 或 JSON)"}
_VENDORS = {"auto": "按列名判断", "amap": "高德", "baidu": "百度", "tencent": "腾讯"}


def guess_datum(name: str, data: bytes, kind: str) -> tuple[str | None, str]:
    """``(datum, why)`` guessed from a file: a POI export's vendor, else words in its name or first bytes.

    ``(None, "")`` when nothing in the file says it; the planner then has to choose.
    """
    if kind == "poi":
        from spatial.io.poi import guess_vendor, read_table

        try:
            frame, _name, _notes = read_table(data, filename=name)
        except PlanatlasError:
            frame = None
        if frame is not None:
            vendor, evidence = guess_vendor(list(frame.columns), frame)
            if vendor is not None:
                datum = "BD09" if vendor == "baidu" else "GCJ02"
                return datum, f"{_VENDORS.get(vendor, vendor)}导出（{evidence}）"
    text = (name + " " + data[:4096].decode("utf-8", errors="ignore")).lower()
    for datum, who, words in _DATUM_HINTS:
        hit = next((w for w in words if w in text), None)
        if hit is not None:
            return datum, f"文件名或内容含“{hit}”（{who}）"
    return None, ""


def already_imported(data: bytes) -> list[str]:
    """Layers of the store imported from a file with exactly these bytes (sha256)."""
    import hashlib

    from spatial import intake

    path = common.store_path()
    if path is None:
        return []
    try:
        imported = intake.imported_layers(path)
    except PlanatlasError:
        return []
    if imported.empty or "sha256" not in imported.columns:
        return []
    digest = hashlib.sha256(data).hexdigest()
    return [str(n) for n in imported.loc[imported["sha256"].astype(str) == digest, "name"]]


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
                                       datum=datum, name=_poi_name(path, vendor))
        else:
            result = intake.import_upload(data, filename=file.name, datum=datum,
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
                              persist_state="session",
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
    kind = st.radio("文件类型", list(_KINDS), format_func=_KINDS.get, key="w_up_kind", persist_state="session")
    file = st.file_uploader("文件", type=["geojson", "json", "gpkg", "zip", "csv", "xlsx"], key="w_up_file")
    st.caption("可选 GeoJSON、JSON、GeoPackage、ZIP、CSV、XLSX 文件，单个不超过 50 MB。")
    if file is None:
        st.info("先选择文件：坐标系会按文件推测，请确认后导入。")
        _manage()
        return
    data = file.getvalue()
    guess, why = guess_datum(file.name, data, kind)
    keys = list(_DATUMS)
    if guess is not None:
        st.caption(f"推测坐标系：{_DATUMS[guess]} —— 依据：{why}。请确认。")
    else:
        st.caption("文件中看不出坐标系：请选择（从高德/腾讯拾取的坐标是 GCJ-02，百度是 BD-09，GPS 与 OSM 是 WGS-84）。")
    datum = st.selectbox("坐标系 (数据来源的坐标)", keys, index=keys.index(guess) if guess else None,
                         format_func=_DATUMS.get, key=f"w_up_datum_{file.file_id}",
                         persist_state="session", placeholder="请选择坐标系",
                         help="导入时转换为 WGS-84 保存。")
    vendor = "auto"
    if kind == "poi":
        vendor = st.selectbox("POI 来源", list(_VENDORS), format_func=_VENDORS.get, key="w_up_vendor",
                              persist_state="session")
    twins = already_imported(data)
    again = True
    if twins:
        names = "、".join(common.layer_label(n) for n in twins)
        st.warning(f"同一文件已导入过：{names}。再导入会生成一个重复的图层。")
        again = st.checkbox("仍然再导入一次", key=f"w_up_again_{file.file_id}", persist_state="session")
    if st.button("导入", type="primary", disabled=datum is None or not again, key="w_up_import"):
        _import(file, kind, str(datum), vendor)
    _manage()


if __name__ == "__main__":  # run by st.navigation as a page script
    render()
