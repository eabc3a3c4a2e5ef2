"""目标 (targets) page: the plan year's quantified targets beside last year's results."""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from app_pages import common, nav, state
from spatial import vocab


def target_years(table: pd.DataFrame) -> tuple[str, str] | None:
    """(review year, plan year) from the ``value_YYYY`` columns, oldest first."""
    years = sorted(m.group(1) for c in table.columns if (m := re.fullmatch(r"value_(\d{4})", str(c))))
    return (years[0], years[-1]) if len(years) >= 2 else None


def render() -> None:
    """Draw the targets page."""
    state.init_state()
    st.header("目标与完成情况")
    table = common.store_table("targets")
    years = target_years(table) if table is not None else None
    if table is None or table.empty or years is None:
        st.info("报告中没有找到可配对的量化目标。")
        return
    old, new = years
    items = common.get_layer("report_items") if "report_items" in common.available_layers() else None
    located: set[str] = set()
    if items is not None:
        ok = items.geometry.notna() & ~items.geometry.is_empty
        located = set(items.loc[ok, "item_id"].astype(str))
    table = table.assign(mappable=table[f"item_id_{new}"].astype(str).isin(located)
                         | table[f"item_id_{old}"].astype(str).isin(located))
    c1, c2 = st.columns([3, 1])
    units = sorted(table["unit"].dropna().astype(str).unique())
    unit = c1.selectbox("单位", ["全部", *units], key="w_tgt_unit")
    only_mappable = c2.checkbox("只看可定位的目标", key="w_tgt_mappable")
    shown = table if unit == "全部" else table[table["unit"].astype(str) == unit]
    if only_mappable:
        shown = shown[shown["mappable"]]
    labels = {"subject": "指标", "unit": "单位", f"value_{old}": f"{old} 完成", f"value_{new}": f"{new} 目标",
              "mappable": "可定位", f"item_id_{new}": f"{new} 条目", f"item_id_{old}": f"{old} 条目",
              f"text_{new}": f"{new} 原文"}
    cols = [c for c in labels if c in shown.columns]
    st.dataframe(shown[cols].rename(columns=labels), hide_index=True, width="stretch", height=320)

    if unit != "全部" and not shown.empty:
        chart = shown.groupby("subject")[[f"value_{old}", f"value_{new}"]].max()
        st.bar_chart(chart, stack=False, y_label=unit)
    else:
        st.caption("选择一个单位即可比较数值 (不同单位不宜放在同一图中)。")

    # the items behind a target: where are they on the map?
    st.subheader("目标所在条目")
    if shown.empty:
        return
    labels = [f"{r['subject']} · {r[f'value_{new}']:g} {r['unit']}" for _, r in shown.iterrows()]
    pick = st.selectbox("目标", range(len(shown)), format_func=labels.__getitem__, key="w_tgt_pick")
    row = shown.iloc[pick]
    ids = [str(row[c]) for c in (f"item_id_{new}", f"item_id_{old}") if pd.notna(row.get(c)) and row.get(c)]
    if items is None:
        return
    found = items[items["item_id"].astype(str).isin(ids)]
    for _, item in found.iterrows():
        st.markdown(f"**{item['item_id']}** ({item.get('year', '')})")
        st.text(str(item.get("text", "")))
        geom = item.geometry
        if geom is None or geom.is_empty:
            st.caption(f"未定位 (定位状态：{vocab.label('geocode_status', item.get('geocode_status'))})")
        elif st.button("在地图上显示", key=f"w_tgt_show_{item['item_id']}"):
            pt = geom.representative_point()
            state.show_on_map(f"条目 {item['item_id']}", pt.y, pt.x, wkt=geom.wkt, layer="report_items")
            nav.go_to("map")


if __name__ == "__main__":  # run by st.navigation as a page script
    render()
