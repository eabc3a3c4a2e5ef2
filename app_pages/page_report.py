"""报告 (report) page: every item with its place, filters, and the source text."""

from __future__ import annotations

import html
import json
import re

import pandas as pd
import streamlit as st

from app_pages import common, nav, state
from spatial import vocab
from spatial.webmap import cell_text

#: URL parameter -> column of the filters kept in the address (a reload or a shared link keeps them).
_URL_FILTERS = {"part": "part_title", "section": "section_title", "cat": "category", "year": "year",
                "status": "geocode_status", "precision": "precision"}

#: filter label -> column of report_items
FILTERS: dict[str, str] = {
    "部分": "part_title",
    "章节": "section_title",
    "类别": "category",
    "年份": "year",
    "定位状态": "geocode_status",
    "精度": "precision",
}

#: characters of source text shown before / after the selected item (the
#: box opens at its top, so little comes before the item)
CONTEXT_BEFORE = 160
CONTEXT_AFTER = 700

_TABLE_COLUMNS = ["item_id", "part_title", "section_title", "category", "year", "place_name",
                  "geocode_status", "precision", "text"]


def filter_items(items: pd.DataFrame, choices: dict[str, list]) -> pd.DataFrame:
    """Rows of ``items`` matching every non-empty choice (column -> allowed values)."""
    keep = pd.Series(True, index=items.index)
    for column, allowed in choices.items():
        if allowed and column in items.columns:
            keep &= items[column].astype(str).isin([str(v) for v in allowed])
    return items[keep]


def highlighted_source(source: str, start: int, end: int, *, context: int | None = None) -> str:
    """HTML of the source around ``[start, end)`` with that span in ``<mark>``.

    Every piece of report text is escaped; line breaks (runs of blank lines
    collapsed) become ``<br>`` so the block stays one HTML block and Markdown
    never reinterprets the text. ``context`` (characters each side) defaults
    to :data:`CONTEXT_BEFORE` / :data:`CONTEXT_AFTER`.
    """
    start = max(0, min(int(start), len(source)))
    end = max(start, min(int(end), len(source)))
    lo = max(0, start - (CONTEXT_BEFORE if context is None else context))
    hi = min(len(source), end + (CONTEXT_AFTER if context is None else context))

    def esc(text: str) -> str:
        return re.sub(r"\n(\s*\n)*", "<br>", html.escape(text, quote=True))

    body = (
        ("…" if lo > 0 else "") + esc(source[lo:start])
        + f'<mark class="pa-selected">{esc(source[start:end])}</mark>'
        + esc(source[end:hi]) + ("…" if hi < len(source) else "")
    )
    return (
        '<div class="pa-source" style="max-height:360px;overflow-y:auto;line-height:1.7;'
        f'padding:8px;border:1px solid #ddd;border-radius:4px">{body}</div>'
    )


def _follow_table_click(event, ids: list[str]) -> None:
    """A row clicked in the table becomes the selected item (once per click).

    The table keeps its selection across reruns, so only a *new* click moves
    the choice; picking another item in the select box afterwards still works.
    """
    rows = list(getattr(getattr(event, "selection", None), "rows", []) or [])
    clicked = ids[rows[0]] if rows and rows[0] < len(ids) else None
    if clicked is not None and clicked != st.session_state.get("_rep_last_click"):
        st.session_state["_rep_last_click"] = clicked
        state.put(state.REPORT_SELECTED, clicked)
        st.session_state["w_rep_item"] = clicked


def _read_url(items: pd.DataFrame) -> None:
    """Once per session: the filters of a shared or reloaded report URL."""
    if state.get(state.REPORT_URL_READ):
        return
    state.put(state.REPORT_URL_READ, True)
    params = st.query_params
    for param, column in _URL_FILTERS.items():
        if param in params and column in items.columns:
            allowed = set(items[column].dropna().astype(str))
            wanted = [v for v in params.get_all(param) if v in allowed]
            if wanted:
                st.session_state[f"w_rep_{column}"] = wanted
    if params.get("q"):
        st.session_state["w_rep_query"] = str(params["q"])[:100]
    if params.get("all") == "1":
        st.session_state["w_rep_located"] = False


def _write_url(choices: dict[str, list], query: str, located_only: bool) -> None:
    wanted: dict[str, list[str] | str] = {p: [str(v) for v in choices.get(c) or []] for p, c in _URL_FILTERS.items()}
    wanted = {k: v for k, v in wanted.items() if v}
    if query.strip():
        wanted["q"] = query.strip()
    if not located_only:
        wanted["all"] = "1"
    current = {k: (st.query_params.get_all(k) if isinstance(v, list) else st.query_params.get(k))
               for k, v in wanted.items()}
    if current != wanted or set(st.query_params.keys()) != set(wanted):
        st.query_params.from_dict(wanted)


def render() -> None:
    """Draw the report page."""
    state.init_state()
    st.header("报告条目")
    if "report_items" not in common.available_layers():
        st.warning("数据库中没有 report_items 图层。")
        return
    items = common.get_layer("report_items")
    if items is None:
        return
    _read_url(items)
    cols = st.columns(3)
    choices = {}
    for i, (label, column) in enumerate(FILTERS.items()):
        if column not in items.columns:
            continue
        values = sorted(items[column].dropna().astype(str).unique())
        domain = vocab.COLUMN_DOMAINS.get(column)
        choices[column] = cols[i % 3].multiselect(
            label, values, key=f"w_rep_{column}", persist_state="session", placeholder="全部",
            format_func=lambda v, d=domain, c=column: vocab.label(d, v) if d else cell_text(c, v))
    c1, c2 = st.columns([3, 1])
    text_query = c1.text_input("全文搜索", key="w_rep_query", persist_state="session")
    located_only = c2.checkbox("只看已定位的条目", value=True, key="w_rep_located", persist_state="session",
                               help="规划师要上图的条目：有地点的。取消勾选可看报告的全部条目（含无地名的表述）；"
                                    "按定位状态或精度筛选时不受此限。")
    _write_url(choices, text_query, located_only)
    shown = filter_items(items, choices)
    by_location = bool(choices.get("geocode_status") or choices.get("precision"))
    if located_only and not by_location:  # a filter on 定位状态/精度 says itself what to show
        shown = shown[shown.geometry.notna() & ~shown.geometry.is_empty]
    if text_query.strip():
        shown = shown[shown["text"].astype(str).str.contains(text_query.strip(), regex=False, na=False)]
    st.caption(f"{len(shown)} / {len(items)} 条")
    table = pd.DataFrame(shown[[c for c in _TABLE_COLUMNS if c in shown.columns]])
    for column in table.columns:  # codes as words, years as years, no None
        table[column] = [cell_text(column, v) for v in table[column]]
    table = table.rename(columns={c: vocab.column_label(c) for c in table.columns})
    event = st.dataframe(table, hide_index=True, width="stretch", height=320, key="w_rep_table",
                         on_select="rerun", selection_mode="single-row")
    if shown.empty:
        return

    ids = shown["item_id"].astype(str).tolist()
    _follow_table_click(event, ids)
    current = state.get(state.REPORT_SELECTED)
    picked = st.selectbox(
        "选择条目", ids, index=ids.index(current) if current in ids else 0, key="w_rep_item", persist_state="session",
        help="也可以点击上面表格中的一行",
        format_func=lambda i: f"{i} · {str(shown.loc[shown['item_id'].astype(str) == i, 'text'].iloc[0])[:50]}",
    )
    state.put(state.REPORT_SELECTED, picked)
    row = shown[shown["item_id"].astype(str) == picked].iloc[0]

    report = common.report_text()
    if report is not None and pd.notna(row.get("start")) and pd.notna(row.get("end")):
        st.markdown(highlighted_source(report[1], int(row["start"]), int(row["end"])),
                    unsafe_allow_html=True)
    else:
        st.markdown(f"> {html.escape(str(row.get('text', '')))}", unsafe_allow_html=False)

    sites = shown[shown["item_id"].astype(str) == picked]
    if len(sites) > 1:
        st.caption("该条目绘制在 " + str(len(sites)) + " 处：" + "、".join(str(n) for n in sites["place_name"]))
    geom = row.geometry
    if geom is None or geom.is_empty:
        st.caption(f"该条目未定位 (定位状态：{vocab.label('geocode_status', row.get('geocode_status'))})。")
    elif st.button("在地图上显示", key="w_rep_show"):
        pt = geom.representative_point()
        state.show_on_map(f"条目 {picked}", pt.y, pt.x, wkt=geom.wkt, layer="report_items")
        nav.go_to("map")
    correction_panel(row)


def _unresolved_names(row: pd.Series) -> list[str]:
    """Names of this item the geocoder could not place (candidates for a correction)."""
    try:
        mentions = json.loads(str(row.get("mentions") or "[]"))
    except ValueError:
        return []
    return [str(m["text"]) for m in mentions if m.get("status") == "unresolved"]


def correction_panel(row: pd.Series) -> None:
    """Place or move the selected item: click the map or type coordinates with their datum.

    The correction goes into the store's ``user_places`` layer with its
    provenance (规划师修正, the datum, the date); the report's layers are
    geocoded again from the store's report (layers.build.rebuild_with_corrections),
    so what the page shows is what a rebuild gives. Corrections are exported
    and re-imported as CSV below.
    """
    from spatial.corrections import CORRECTION_PRECISIONS

    with st.expander("修正位置（规划师修正）", expanded=row.get("geocode_status") in ("unresolved", None)):
        message = state.get(state.REPORT_FIX_MESSAGE)
        if message:
            st.success(message)
        st.caption("点击下方地图取点（底图为 WGS-84），或直接输入坐标并选择其坐标系；"
                   "保存后重新定位并写入数据库，重建时保留。")
        click = _click_map(row)
        if click is not None and click != state.get(state.REPORT_FIX_CLICK):
            state.put(state.REPORT_FIX_CLICK, click)
            st.session_state["w_fix_lat"], st.session_state["w_fix_lon"] = click
            st.session_state["w_fix_datum"] = "WGS84"
        geom = row.geometry
        located = geom is not None and not geom.is_empty
        st.session_state.setdefault("w_fix_lon", round(float(geom.x), 6) if located else 117.0)
        st.session_state.setdefault("w_fix_lat", round(float(geom.y), 6) if located else 36.65)
        cols = st.columns(3)
        lon = cols[0].number_input("经度", min_value=73.0, max_value=136.0, format="%.6f", key="w_fix_lon",
                                   persist_state="session")
        lat = cols[1].number_input("纬度", min_value=3.0, max_value=54.0, format="%.6f", key="w_fix_lat",
                                   persist_state="session")
        datum = cols[2].selectbox("坐标系", list(vocab.codes("datum")), key="w_fix_datum", persist_state="session",
                                  format_func=lambda d: vocab.label("datum", d))
        names = _unresolved_names(row)
        scopes = {"item": "只放置本条目", "name": "放置地名（所有提到它的条目随之移动）"}
        scope = st.radio("修正对象", list(scopes), horizontal=True, key="w_fix_scope",
                         persist_state="session", format_func=scopes.get)
        default_name = names[0] if names else str(row.get("place_name") or "")
        name = st.text_input("地名", value=default_name, key="w_fix_name", persist_state="session")
        precision = st.selectbox("精度", list(CORRECTION_PRECISIONS), index=1, key="w_fix_precision",
                                 persist_state="session",
                                 format_func=lambda p: vocab.label("precision", p))
        note = st.text_input("备注（依据）", key="w_fix_note", persist_state="session")
        if st.button("保存修正", key="w_fix_save", type="primary"):
            _save(row, scope=scope, name=name, lon=lon, lat=lat, datum=datum, precision=precision, note=note)
        _csv_exchange()


def _click_map(row: pd.Series) -> tuple[float, float] | None:
    """A small map to click on; returns the (lat, lon) clicked (WGS-84), or None."""
    from streamlit_folium import st_folium

    from spatial import webmap

    live = webmap.make_live_map({}, basemap="osm", height=320)
    geom = row.geometry
    center = (geom.y, geom.x) if geom is not None and not geom.is_empty else (36.66, 117.02)
    out = st_folium(live.base, key="w_fix_map", height=320, use_container_width=True, center=center, zoom=12,
                    returned_objects=["last_clicked"])
    clicked = (out or {}).get("last_clicked")
    if clicked and clicked.get("lat") is not None:
        return round(float(clicked["lat"]), 6), round(float(clicked["lng"]), 6)
    return None


def _save(row: pd.Series, *, scope: str, name: str, lon: float, lat: float, datum: str, precision: str,
          note: str) -> None:
    from layers.build import rebuild_with_corrections
    from spatial._errors import PlanatlasError
    from spatial.corrections import make_correction

    path = common.store_path()
    if path is None:
        return
    try:
        fix = make_correction(lon=lon, lat=lat, datum=datum, name=name or None, precision=precision, note=note,
                              item_id=str(row["item_id"]) if scope == "item" else None)
        with st.spinner("正在按修正重新定位…"):
            result, _ = rebuild_with_corrections(path, fix)
    except PlanatlasError as exc:
        st.error(f"无法保存修正：{exc}")
        return
    kept = len(result.layers.get("user_places", []))
    state.put(state.REPORT_FIX_MESSAGE,
              f"已保存修正（{vocab.label('datum', datum)} 已转换为 WGS-84）；数据库中共 {kept} 条修正。")
    st.rerun()


def _csv_exchange() -> None:
    """Export the store's corrections as CSV, and import a filled-in CSV with its datum."""
    from layers.build import rebuild_with_corrections
    from spatial._errors import PlanatlasError
    from spatial.corrections import corrections_csv, read_corrections_csv, read_user_places

    path = common.store_path()
    if path is None:
        return
    placed = read_user_places(path)
    if placed is not None and len(placed):
        data = corrections_csv(placed).to_csv(index=False).encode("utf-8-sig")
        st.download_button(f"导出规划师修正 CSV（{len(placed)} 条）", data, file_name="planatlas_corrections.csv",
                           mime="text/csv", key="w_fix_export")
    upload = st.file_uploader("导入填好坐标的 CSV（planatlas unresolved 写出的表）", type=["csv"], key="w_fix_upload")
    if upload is not None:
        datum = st.selectbox("CSV 坐标系", list(vocab.codes("datum")), key="w_fix_csv_datum", persist_state="session",
                             format_func=lambda d: vocab.label("datum", d))
        if st.button("导入修正", key="w_fix_import"):
            try:
                fixes, notes = read_corrections_csv(upload.getvalue(), filename=upload.name, datum=datum)
                with st.spinner("正在按修正重新定位…"):
                    rebuild_with_corrections(path, fixes)
            except PlanatlasError as exc:
                st.error(f"无法导入：{exc}")
                return
            state.put(state.REPORT_FIX_MESSAGE, f"已导入 {len(fixes)} 条修正。" + " ".join(notes))
            st.rerun()


if __name__ == "__main__":  # run by st.navigation as a page script
    render()
