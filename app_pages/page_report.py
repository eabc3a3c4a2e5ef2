"""报告 (report) page: every item with its place, filters, and the source text."""

from __future__ import annotations

import html
import re

import pandas as pd
import streamlit as st

from app_pages import common, nav, state
from spatial import vocab

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
    cols = st.columns(3)
    choices = {}
    for i, (label, column) in enumerate(FILTERS.items()):
        if column not in items.columns:
            continue
        values = sorted(items[column].dropna().astype(str).unique())
        domain = vocab.COLUMN_DOMAINS.get(column)
        choices[column] = cols[i % 3].multiselect(
            label, values, key=f"w_rep_{column}", placeholder="全部",
            format_func=lambda v, d=domain: vocab.label(d, v) if d else v)
    text_query = st.text_input("全文搜索", key="w_rep_query")
    shown = filter_items(items, choices)
    if text_query.strip():
        shown = shown[shown["text"].astype(str).str.contains(text_query.strip(), regex=False, na=False)]
    st.caption(f"{len(shown)} / {len(items)} 条")
    table = pd.DataFrame(shown[[c for c in _TABLE_COLUMNS if c in shown.columns]])
    for column, domain in vocab.labelled_frame_columns(table.columns).items():
        table[column] = table[column].map(lambda v, d=domain: vocab.label(d, v))
    table = table.rename(columns={c: vocab.column_label(c) for c in table.columns})
    event = st.dataframe(table, hide_index=True, width="stretch", height=320, key="w_rep_table",
                         on_select="rerun", selection_mode="single-row")
    if shown.empty:
        return

    ids = shown["item_id"].astype(str).tolist()
    _follow_table_click(event, ids)
    current = state.get(state.REPORT_SELECTED)
    picked = st.selectbox(
        "选择条目", ids, index=ids.index(current) if current in ids else 0, key="w_rep_item",
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

    geom = row.geometry
    if geom is None or geom.is_empty:
        st.caption(f"该条目未定位 (定位状态：{vocab.label('geocode_status', row.get('geocode_status'))})。")
    elif st.button("在地图上显示", key="w_rep_show"):
        pt = geom.representative_point()
        state.show_on_map(f"条目 {picked}", pt.y, pt.x)
        layers = state.get(state.MAP_LAYERS)
        if layers is not None and "report_items" not in layers:
            state.put(state.MAP_LAYERS, [*layers, "report_items"])
        nav.go_to("map")


if __name__ == "__main__":  # run by st.navigation as a page script
    render()
