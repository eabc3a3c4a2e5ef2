"""目标 (targets) page: the plan year's quantified targets beside last year's results."""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from app_pages import common, nav, state
from spatial import vocab
from spatial.webmap import cell_text, fmt_number

#: What a missing value of the review year means on this page.
NOT_GIVEN = "—（报告未列出）"


def shown_table(table: pd.DataFrame, old: str, new: str) -> pd.DataFrame:
    """The targets as a planner reads them: one row per target, numbers written out, no None.

    Rows repeating the same subject, unit, values and items (a sentence
    listing two figures of one target) are kept once; a missing figure of the
    review year reads 报告未列出, item ids that are missing read as nothing.
    """
    keys = [c for c in ("subject", "unit", f"value_{old}", f"value_{new}", f"item_id_{old}", f"item_id_{new}")
            if c in table.columns]
    table = table.drop_duplicates(subset=keys).reset_index(drop=True)
    out = table.copy()
    for column, blank in ((f"value_{old}", NOT_GIVEN), (f"value_{new}", NOT_GIVEN)):
        out[column] = [fmt_number(v) or blank for v in table[column]]
    for column in (f"item_id_{old}", f"item_id_{new}", f"text_{new}", "unit"):
        if column in out.columns:
            out[column] = out[column].astype(object).where(out[column].notna(), "").astype(str)
            out[column] = out[column].replace({"None": "", "nan": ""})
    out["mappable"] = out["mappable"].map(lambda v: vocab.label("yes_no", "yes" if v else "no"))
    return out


def year_text(value: object) -> str:
    """A year as a calendar year ("2023", never "2,023" or "None")."""
    return cell_text("year", value) or "—"


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
    unit = c1.selectbox("单位", ["全部", *units], key="w_tgt_unit", persist_state="session")
    only_mappable = c2.checkbox("只看可定位的目标", key="w_tgt_mappable", persist_state="session")
    table = table.drop_duplicates(subset=[c for c in ("subject", "unit", f"value_{old}", f"value_{new}",
                                                        f"item_id_{old}", f"item_id_{new}") if c in table.columns])
    shown = table if unit == "全部" else table[table["unit"].astype(str) == unit]
    if only_mappable:
        shown = shown[shown["mappable"]]
    labels = {"subject": "指标", "unit": "单位", f"value_{old}": f"{old} 年完成", f"value_{new}": f"{new} 年目标",
              "mappable": "可定位", f"item_id_{new}": f"{new} 年条目", f"item_id_{old}": f"{old} 年条目",
              f"text_{new}": f"{new} 年原文"}
    if shown.empty:
        what = ("可定位的" if only_mappable else "") + (f"单位为“{unit}”的" if unit != "全部" else "")
        st.info(f"没有{what}目标：换一个单位，或取消“只看可定位的目标”。")
        return
    readable = shown_table(shown, old, new)
    cols = [c for c in labels if c in readable.columns]
    st.caption(f"{len(readable)} 项目标；{old} 年完成值只在报告的回顾部分写出时才有。")
    st.dataframe(readable[cols].rename(columns=labels), hide_index=True, width="stretch", height=320)

    if unit != "全部":
        chart = shown.groupby("subject")[[f"value_{old}", f"value_{new}"]].max()
        chart = chart.rename(columns={f"value_{old}": f"{old} 年完成", f"value_{new}": f"{new} 年目标"})
        st.bar_chart(chart, stack=False, y_label=unit)
    else:
        st.caption("选择一个单位即可比较数值 (不同单位不宜放在同一图中)。")

    # the items behind a target: where are they on the map?
    st.subheader("目标所在条目")
    if shown.empty:
        return
    labels = [f"{r['subject']} · {fmt_number(r[f'value_{new}'])} {r['unit']}" for _, r in shown.iterrows()]
    pick = st.selectbox("目标", range(len(shown)), format_func=labels.__getitem__, key="w_tgt_pick",
                        persist_state="session")
    row = shown.iloc[pick]
    ids = [str(row[c]) for c in (f"item_id_{new}", f"item_id_{old}") if pd.notna(row.get(c)) and row.get(c)]
    if items is None:
        return
    found = items[items["item_id"].astype(str).isin(ids)]
    for _, item in found.iterrows():
        st.markdown(f"**{item['item_id']}** ({year_text(item.get('year'))})")
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
