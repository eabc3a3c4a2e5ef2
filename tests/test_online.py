"""Online sources are refused by default, fail clearly offline, and never leave a broken cache."""

import pytest

from spatial import online, settings
from spatial._errors import OfflineError


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PLANATLAS_DATA_DIR", str(tmp_path))


def test_refused_unless_switched_on(monkeypatch):
    monkeypatch.setattr(settings, "allow_online", False)
    with pytest.raises(OfflineError, match="PLANATLAS_ALLOW_ONLINE=1"):
        online.geocode_online("济西湿地")


def test_offline_failure_is_clear_and_caches_nothing(monkeypatch, tmp_path):
    import osmnx

    monkeypatch.setattr(settings, "allow_online", True)

    def no_network(query):
        raise ConnectionError("Name or service not known")

    monkeypatch.setattr(osmnx, "geocode", no_network)
    with pytest.raises(OfflineError, match="failed: Name or service not known"):
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
