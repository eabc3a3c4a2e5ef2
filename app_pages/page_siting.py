"""选址 (siting) page: where the report's new facilities do the most good, on the map with the curve.

The page builds its inputs from the project store with :mod:`spatial.siting.inputs`,
exactly as ``planatlas site`` does, and shows the figures of the same
:meth:`~spatial.siting.SitingResult.summary_lines`, so page and CLI agree.
The result, its map and its files are kept in the session: a rerun redraws
nothing it does not have to.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from app_pages import common, state
from spatial import vocab
from spatial._errors import PlanatlasError

_AUTO = "__auto__"
_GRID = "__grid__"
_SITE_COLUMNS = ("rank", "candidate_id", "residents_new", "residents_only", "residents_reach", "residents_nearest",
                 "unit_name", "lon", "lat")


@st.cache_resource(show_spinner="正在读取街道网络…", max_entries=4)
def _network(path: str, mode: str):
    from spatial.network import load_network

    return load_network(path, mode=mode)


def _count_choice(ftype: str, model: str) -> dict | None:
    """How many sites: the report's target (with its sentence), a number, or a share for LSCP."""
    from spatial.siting import target_for

    if model == "lscp":
        share = st.slider("目标覆盖率", min_value=0.05, max_value=1.0, value=0.8, step=0.05, key="w_site_share",
                          persist_state="session",
                          help="GB 55014-2021：公园绿地服务半径覆盖率 80% 以上；GB/T 51346-2019：90% 以上。")
        return {"share": float(share)}
    target = None
    try:
        target = target_for(ftype, common.store_table("targets"))
    except PlanatlasError as exc:
        note = str(exc)
    how = st.radio("数量", ["target", "count"], horizontal=True, key="w_site_how", persist_state="session",
                   format_func={"target": "报告目标", "count": "指定数量"}.get, index=0 if target else 1)
    if how == "target":
        if target is None:
            st.warning(common.with_layer_titles(note))
            return None
        st.info(f"{target.describe()}\n\n“{target.sentence}”")
        if target.note:
            st.caption(target.note)
        return {"target": target}
    count = st.number_input("新增设施数量", min_value=1, max_value=2000, value=10, step=1, key="w_site_count",
                            persist_state="session")
    return {"count": int(count)}


def _reach_choice(ftype: str) -> dict:
    from spatial.siting import default_threshold

    try:
        default = default_threshold(ftype)
        st.caption(f"标准：{default.describe()}")
        value = default.distance_m
    except PlanatlasError:
        st.caption("没有标准给出此类设施的服务距离，请填写。")
        value = 500.0
    distance = st.number_input("服务距离 (m)", min_value=50.0, max_value=5000.0, value=float(value), step=50.0,
                               key=f"w_site_dist_{ftype}", persist_state="session")
    return {"distance_m": float(distance)}


def _method_choice() -> dict | None:
    method = st.radio("距离", ["buffer", "network"], horizontal=True, key="w_site_method", persist_state="session",
                      format_func=lambda m: vocab.label("method", m))
    if method == "buffer":
        return {"method": "buffer"}
    if "network_walk" in common.store_layer_names():
        source = st.radio("街道网络", ["store", "file"], horizontal=True, key="w_site_netsrc", persist_state="session",
                          format_func={"store": "数据库中的步行网络", "file": "本地 OSM 文件"}.get)
        if source == "store":
            return {"method": "network", "network_store": True}
    path = st.text_input("本地 OSM 文件路径 (.osm / .osm.pbf)", key="w_site_netpath", persist_state="session")
    if not path.strip():
        st.info("街道网络距离需要一个本地 OSM 文件 (本工具不在线下载)。")
        return None
    return {"method": "network", "network_path": path.strip()}


def _inputs_choice() -> dict:
    facilities = common.layers_with_role("facilities")
    existing = st.selectbox("现有设施", [_AUTO, *facilities], key="w_site_existing", persist_state="session",
                            format_func=lambda n: "数据库中该类型的全部设施" if n == _AUTO else common.layer_label(n))
    layers = common.store_layer_names()
    cands = st.selectbox("候选点", [_GRID, *layers], key="w_site_cands", persist_state="session",
                         format_func=lambda n: "规则网格 (统计单元内)" if n == _GRID else common.layer_label(n))
    cell = st.number_input("候选网格大小 (m)", min_value=50.0, max_value=5000.0, value=200.0, step=50.0,
                           key="w_site_cell", persist_state="session", disabled=cands != _GRID)
    demand_cell = st.number_input("需求网格大小 (m)", min_value=50.0, max_value=2000.0, value=100.0, step=50.0,
                                  key="w_site_dcell",
                                  persist_state="session", help="居民按此大小的网格计 (与生活圈体检相同的网格)。")
    limit = st.number_input("求解时限 (秒)", min_value=1.0, max_value=600.0, value=60.0, step=5.0, key="w_site_tl",
                            persist_state="session")
    return {"existing": None if existing == _AUTO else existing, "candidates": None if cands == _GRID else cands,
            "cell_m": float(cell), "demand_cell_m": float(demand_cell), "time_limit_s": float(limit)}


def run_siting(path: Path, ftype: str, model: str, how: dict, reach: dict, method: dict, inputs: dict):
    """The same steps as ``planatlas site``, on the store at ``path``; returns (SitingResult, notes)."""
    from spatial.siting import apply_exclusions, site_facilities
    from spatial.siting.inputs import candidates_from_store, siting_inputs
    from spatial.thresholds import resolve_threshold

    found = siting_inputs(path, ftype, facilities=inputs["existing"],
                          method="network" if method.get("network_store") else "buffer",
                          cell_m=inputs["demand_cell_m"])
    candidates, described = candidates_from_store(path, found.units, layer=inputs["candidates"],
                                                  cell_m=inputs["cell_m"])
    candidates, excluded = apply_exclusions(candidates, existing=found.existing)
    network = found.network if method.get("network_store") else None
    if method["method"] == "network" and network is None:
        network = _network(method["network_path"], "walk")
    result = site_facilities(
        found.demand, candidates, facility_type=ftype, existing=found.existing, model=model,
        count=how.get("count"), share=how.get("share"), target=how.get("target"),
        threshold=resolve_threshold(distance_m=reach["distance_m"]), method=method["method"], network=network,
        units=found.units, time_limit_s=inputs["time_limit_s"],
        candidates_description=f"{described}，{excluded.describe()}",
    )
    return result, found.notes


def _files(result) -> dict[str, bytes]:
    from spatial._atomic import sweep_stale, temp_dir_prefix
    from spatial.siting import write_outputs

    sweep_stale(tempfile.gettempdir())  # what a killed server left
    with tempfile.TemporaryDirectory(prefix=temp_dir_prefix("site")) as tmp:  # swept if the server is killed
        return {p.name: p.read_bytes() for p in write_outputs(result, tmp)}


def _map(result):
    from spatial import webmap
    from spatial.siting import RESULT_SPECS

    return webmap.make_map({"units": result.by_unit, "existing": result.existing, "sites": result.sites},
                           specs=RESULT_SPECS, fit_to="sites", height=480)


def _curve_chart(result) -> None:
    import altair as alt

    people = result.parameters.get("weight_unit", "人") == "人"
    curve = result.curve.assign(shown=result.curve["residents_new"] / (1e4 if people else 1.0))
    title = "新增覆盖人口 (万人)" if people else "新增覆盖住宅建筑面积 (m²)"
    n = len(result.sites)
    line = alt.Chart(curve).mark_line(point=True).encode(
        x=alt.X("sites_added:Q", title="新增设施数"), y=alt.Y("shown:Q", title=title),
        tooltip=[alt.Tooltip("sites_added:Q", title="新增设施数"),
                 alt.Tooltip("residents_new:Q", title="新增覆盖", format=",.0f"),
                 alt.Tooltip("marginal:Q", title="边际新增", format=",.0f")])
    at_n = curve[curve["sites_added"] == n]
    rule = alt.Chart(at_n).mark_rule(color="#d7301f", strokeDash=[4, 3]).encode(x="sites_added:Q")
    st.altair_chart(line + rule, width="stretch")
    st.caption(f"贪心建设次序：每增一处取新增覆盖最多者；红线为本次选址数量 {n}。")


def _show(result) -> None:
    from streamlit_folium import st_folium

    from spatial.siting.result import UNIT_COLUMNS, labelled_table

    p, s = result.parameters, result.solution
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("新增设施", f"{len(result.sites)} 处")
    c2.metric("新增覆盖人口" if p.get("weight_unit", "人") == "人" else "新增覆盖 (m²)",
              f"{p['residents_new']:,.0f} {p.get('weight_unit', '人')}")
    c3.metric("覆盖率", f"{p['pct_after']:.1f} %", delta=f"{p['pct_after'] - p['pct_before']:+.1f} 个百分点")
    c4.metric("与最优的差距", f"{100 * s.gap:.2f} %", help=vocab.label("solve_status", s.status))
    st.text("\n".join(result.summary_lines()))
    m = state.get(state.SITING_MAP)
    if m is None:
        m = _map(result)
        state.put(state.SITING_MAP, m)
    st_folium(m, key="siting_map", height=480, use_container_width=True, returned_objects=[])
    st.subheader("边际曲线")
    _curve_chart(result)
    st.subheader("选址结果")
    unit = str(p.get("weight_unit", "人"))
    st.dataframe(labelled_table(result.sites[[c for c in _SITE_COLUMNS if c in result.sites.columns]], unit),
                 hide_index=True, width="stretch")
    st.subheader("分单元覆盖 (选址前后)")
    st.dataframe(labelled_table(result.by_unit[[c for c in UNIT_COLUMNS if c in result.by_unit.columns]], unit),
                 hide_index=True, width="stretch")
    st.subheader("下载")
    files = state.get(state.SITING_FILES) or {}
    mimes = {".gpkg": "application/geopackage+sqlite3", ".geojson": "application/geo+json",
             ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
    for col, (name, data) in zip(st.columns(max(len(files), 1)), files.items(), strict=False):
        col.download_button(name, data, file_name=name, mime=mimes.get(Path(name).suffix, "application/octet-stream"),
                            key=f"w_site_dl_{name}", on_click="ignore")


def render() -> None:
    """Draw the siting page."""
    state.init_state()
    st.header("选址")
    from spatial.siting import MODELS

    path = common.store_path()
    if path is None:
        return
    left, right = st.columns([1, 2])
    with left:
        ftype = st.selectbox("设施类型", list(vocab.codes("facility_type")), key="w_site_type", persist_state="session",
                             index=list(vocab.codes("facility_type")).index("park"),
                             format_func=lambda c: vocab.label("facility_type", c))
        model = st.selectbox("模型", list(MODELS), key="w_site_model", persist_state="session",
                             format_func=lambda m: vocab.label("siting_model", m))
        how = _count_choice(ftype, model)
        reach = _reach_choice(ftype)
        method = _method_choice()
        inputs = _inputs_choice()
        if st.button("运行选址", type="primary", disabled=how is None or method is None, key="w_site_run"):
            try:
                with st.spinner("正在选址…"):
                    result, notes = run_siting(path, ftype, model, how or {}, reach, method or {}, inputs)
                    files = _files(result)
                for note in notes:
                    st.caption(common.with_layer_titles(note))
            except PlanatlasError as exc:
                st.error(f"选址失败：{exc}")
            else:
                state.put(state.SITING_RESULT, result)
                state.put(state.SITING_FILES, files)
                state.put(state.SITING_INPUTS, repr((ftype, model, how, reach, method, inputs)))
                state.put(state.SITING_MAP, None)
    with right:
        result = state.get(state.SITING_RESULT)
        if result is None:
            st.info("选择设施类型与数量后点击“运行选址”。")
        else:
            if repr((ftype, model, how, reach, method, inputs)) != state.get(state.SITING_INPUTS):
                st.warning(state.STALE_NOTE)
            _show(result)


if __name__ == "__main__":  # run by st.navigation as a page script
    render()
