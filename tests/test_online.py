"""Online sources are refused by default, fail clearly offline, and never leave a broken cache."""

import json as _json
from pathlib import Path as _Path

import pytest

from spatial import online, settings
from spatial._errors import OfflineError, ParameterError, PlanatlasError, UnknownPlaceError


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PLANATLAS_DATA_DIR", str(tmp_path))


def test_refused_unless_switched_on(monkeypatch):
    monkeypatch.setattr(settings, "allow_online", False)
    with pytest.raises(OfflineError, match=r"在线地名查询 '济西湿地' 需要联网.*PLANATLAS_ALLOW_ONLINE=1"):
        online.geocode_online("济西湿地")


def test_offline_failure_is_clear_and_caches_nothing(monkeypatch, tmp_path):
    import osmnx

    monkeypatch.setattr(settings, "allow_online", True)

    def no_network(query):
        raise ConnectionError("Name or service not known")

    monkeypatch.setattr(osmnx, "geocode", no_network)
    with pytest.raises(OfflineError, match="在线地名查询 '济西湿地' 失败：Name or service not known，请检查网络"):
        online.geocode_online("济西湿地")
    cache = settings.cache_dir() / "geocode"
    assert not cache.exists() or list(cache.iterdir()) == []


def test_answer_is_cached(monkeypatch):
    import osmnx

    monkeypatch.setattr(settings, "allow_online", True)
    calls = []

    def fake(query):
        calls.append(query)
        return 36.66, 116.78

    monkeypatch.setattr(osmnx, "geocode", fake)
    first = online.geocode_online("济西湿地")
    second = online.geocode_online("济西湿地")
    assert first == second and len(calls) == 1
    assert first["geometry"]["coordinates"] == [116.78, 36.66]
    assert first["properties"]["source_datum"] == "WGS84"


def test_corrupt_cache_entry_is_ignored(monkeypatch):
    online.write_cache("geocode", {"x": 1}, "k")
    path = online._cache_file("geocode", "k")
    path.write_text("{broken", encoding="utf-8")
    assert online.read_cache("geocode", "k") is None
    assert not path.exists()


def test_place_not_found_is_cached_and_named(monkeypatch):
    import osmnx
    from osmnx._errors import InsufficientResponseError

    monkeypatch.setattr(settings, "allow_online", True)
    calls = []

    def nothing(query):
        calls.append(query)
        raise InsufficientResponseError("no results")

    monkeypatch.setattr(osmnx, "geocode", nothing)
    with pytest.raises(UnknownPlaceError, match="在线地名查询找不到 '不存在的湖'"):
        online.geocode_online("不存在的湖")
    with pytest.raises(UnknownPlaceError, match="缓存的结果"):
        online.geocode_online("不存在的湖")
    assert len(calls) == 1


@pytest.mark.parametrize("name, allow", [
    ("", True), ("   ", True), (None, True), (123, True), (b"\xe6\xb5\x8e", True),
    ("济西湿地", False),
])
def test_user_errors_are_planatlas_errors(monkeypatch, name, allow):
    import osmnx

    monkeypatch.setattr(settings, "allow_online", allow)
    monkeypatch.setattr(osmnx, "geocode", lambda q: pytest.fail("osmnx must not be called"))
    with pytest.raises(PlanatlasError) as info:
        online.geocode_online(name)
    assert isinstance(info.value, ParameterError if allow else OfflineError)
    text = str(info.value)
    assert text[0] in "地在" and text.endswith(")")  # Chinese first, English in brackets


# -- AMap and Tianditu behind the same call, on responses written for the tests ---------------------


DATA = _Path(__file__).parent / "data"
STATION_WGS84 = (116.98528, 36.67028)  # Wikipedia's 济南站 (the gazetteer's P141)


def _recorded(name):
    return _json.loads((DATA / name).read_text(encoding="utf-8"))


@pytest.fixture
def web(monkeypatch):
    """Online on, keys set, and the HTTP call replaced by a recorded answer (the calls are kept)."""
    monkeypatch.setattr(settings, "allow_online", True)
    monkeypatch.setenv("AMAP_KEY", "test-key")
    monkeypatch.setenv("TIANDITU_KEY", "test-key")
    calls = []
    answers = {}

    def fake(url, params):
        calls.append((url, params))
        return answers[url]

    monkeypatch.setattr(online, "_http_json", fake)
    return calls, answers


def test_amap_answer_is_converted_from_gcj02(web):
    calls, answers = web
    answers[online.AMAP_URL] = _recorded("amap_geocode_jinan_station.json")
    feature = online.geocode_online("济南站", service="amap")
    lon, lat = feature["geometry"]["coordinates"]
    # GCJ-02 in, WGS-84 out: back on the sourced point to well under a metre (1e-5 degree is about 1 m)
    assert abs(lon - STATION_WGS84[0]) < 1e-5 and abs(lat - STATION_WGS84[1]) < 1e-5
    answered = feature["properties"]["location_as_answered"]
    assert answered[0] - lon > 0.004  # the GCJ-02 point lies about 500 m east: it was shifted
    props = feature["properties"]
    assert props["source_datum"] == "GCJ02" and props["geocoder"] == "amap" and props["coord_basis"] == "sourced"
    assert calls[0][1]["address"] == "济南市济南站" and calls[0][1]["key"] == "test-key"
    assert online.geocode_online("济南站", service="amap") == feature and len(calls) == 1  # cached


def test_tianditu_answer_is_read_as_wgs84(web):
    calls, answers = web
    answers[online.TIANDITU_URL] = _recorded("tianditu_geocode_jinan_station.json")
    feature = online.geocode_online("济南站", service="tianditu")
    assert feature["geometry"]["coordinates"] == [*STATION_WGS84]
    assert feature["properties"]["source_datum"] == "WGS84"
    assert _json.loads(calls[0][1]["ds"]) == {"keyWord": "济南市济南站"}


def test_web_geocoder_nothing_found_is_cached_and_refusal_is_clear(web):
    calls, answers = web
    answers[online.AMAP_URL] = _recorded("amap_geocode_none.json")
    with pytest.raises(UnknownPlaceError, match="在线地名查询找不到 '不存在的湖'"):
        online.geocode_online("不存在的湖", service="amap")
    with pytest.raises(UnknownPlaceError, match="缓存的结果"):
        online.geocode_online("不存在的湖", service="amap")
    assert len(calls) == 1
    answers[online.AMAP_URL] = _recorded("amap_geocode_invalid_key.json")
    with pytest.raises(OfflineError, match="高德地理编码拒绝了请求：INVALID_USER_KEY"):
        online.geocode_online("千佛山", service="amap")


@pytest.mark.parametrize("service, variable", [("amap", "AMAP_KEY"), ("tianditu", "TIANDITU_KEY")])
def test_web_geocoder_needs_its_key_and_online_access(monkeypatch, service, variable):
    monkeypatch.setattr(online, "_http_json", lambda url, params: pytest.fail("no request may be sent"))
    monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(settings, "allow_online", False)
    with pytest.raises(OfflineError, match="需要联网"):
        online.geocode_online("济南站", service=service)
    monkeypatch.setattr(settings, "allow_online", True)
    with pytest.raises(ParameterError, match=f"请设置环境变量 {variable}"):
        online.geocode_online("济南站", service=service)
    with pytest.raises(ParameterError, match="未知的在线地理编码服务 'baidu'"):
        online.geocode_online("济南站", service="baidu")


def test_recorded_responses_say_they_were_written_for_the_tests():
    for path in DATA.glob("*_geocode_*.json"):
        assert "Written for the planatlas tests" in _json.loads(path.read_text(encoding="utf-8"))["_comment"]
