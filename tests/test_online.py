"""Online sources are refused by default, fail clearly offline, and never leave a broken cache."""

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
