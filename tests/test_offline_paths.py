"""Offline and failure paths of the two online features, with the cache checked each time.

``spatial.online.geocode_online`` and ``spatial.network.download_network`` must

* refuse with :class:`OfflineError` when online access is off, without calling
  osmnx at all;
* turn a connection error, a timeout or an HTTP error status into
  :class:`OfflineError` (a planatlas error with one clear line);
* leave no cache entry and no temporary file behind in either case, so the
  next call tries again instead of replaying a failure.

The network is never touched: osmnx's entry points are monkeypatched.
"""

from __future__ import annotations

import osmnx as ox
import pytest
import requests
import shapely
from osmnx import _errors as ox_errors

from spatial import network, online, settings
from spatial._errors import OfflineError, PlanatlasError


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PLANATLAS_DATA_DIR", str(tmp_path / "data"))
    yield


def cache_files() -> list[str]:
    """Every file under the cache folder (entries and stray temporary files)."""
    root = settings.cache_dir()
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def _raiser(exc: BaseException):
    def fail(*args, **kwargs):
        raise exc
    return fail


def _must_not_run(*args, **kwargs):
    raise AssertionError("osmnx must not be called when online access is off")


FAILURES = {
    "dns": requests.exceptions.ConnectionError("Failed to resolve 'nominatim.openstreetmap.org'"),
    "connect-timeout": requests.exceptions.ConnectTimeout("connect timed out"),
    "read-timeout": requests.exceptions.ReadTimeout("read timed out (read timeout=20.0)"),
    "socket-timeout": TimeoutError("timed out"),
    "refused": ConnectionRefusedError(111, "Connection refused"),
    "reset": ConnectionResetError(104, "Connection reset by peer"),
}


# --------------------------------------------------------------------------- refused when offline


@pytest.mark.parametrize("env", ["", "0", "false", "no"])
def test_geocode_online_refuses_when_offline(monkeypatch, env):
    monkeypatch.setenv("PLANATLAS_ALLOW_ONLINE", env)
    monkeypatch.setattr(settings, "allow_online", settings._env_flag("PLANATLAS_ALLOW_ONLINE"))
    monkeypatch.setattr(ox, "geocode", _must_not_run)
    with pytest.raises(OfflineError, match=r"^在线地名查询 '济西湿地' 需要联网.*PLANATLAS_ALLOW_ONLINE=1"):
        online.geocode_online("济西湿地")
    assert cache_files() == []


def test_download_network_refuses_when_offline(monkeypatch):
    monkeypatch.setattr(settings, "allow_online", False)
    monkeypatch.setattr(ox, "graph_from_place", _must_not_run)
    monkeypatch.setattr(ox, "graph_from_polygon", _must_not_run)
    for query in ("Lixia District, Jinan, China", shapely.box(117.0, 36.6, 117.1, 36.7)):
        with pytest.raises(OfflineError, match=r"^下载街道网络需要联网，而联网未开启.*allow_online"):
            network.download_network(query)
    assert cache_files() == []


def test_offline_refusal_comes_before_a_cached_answer(monkeypatch):
    # a cache filled while online is not served once online is switched off:
    # the switch means "planatlas does not use online sources", cached or not
    monkeypatch.setattr(settings, "allow_online", True)
    monkeypatch.setattr(ox, "geocode", lambda q: (36.66, 116.78))
    online.geocode_online("济西湿地")
    assert len(cache_files()) == 1
    monkeypatch.setattr(settings, "allow_online", False)
    with pytest.raises(OfflineError):
        online.geocode_online("济西湿地")


# --------------------------------------------------------------------------- failing connections


@pytest.mark.parametrize("kind", sorted(FAILURES))
def test_geocode_online_connection_failures(monkeypatch, kind):
    monkeypatch.setattr(settings, "allow_online", True)
    monkeypatch.setattr(ox, "geocode", _raiser(FAILURES[kind]))
    with pytest.raises(OfflineError, match=r"^在线地名查询 '济西湿地' 失败：") as info:
        online.geocode_online("济西湿地")
    assert "\n" not in str(info.value)
    assert str(FAILURES[kind]) in str(info.value)  # the cause is named
    assert cache_files() == []


@pytest.mark.parametrize("kind", sorted(FAILURES))
def test_download_network_connection_failures(monkeypatch, kind):
    monkeypatch.setattr(settings, "allow_online", True)
    monkeypatch.setattr(ox, "graph_from_place", _raiser(FAILURES[kind]))
    monkeypatch.setattr(ox, "graph_from_polygon", _raiser(FAILURES[kind]))
    for query in ("Lixia District, Jinan, China", shapely.box(117.0, 36.6, 117.1, 36.7)):
        with pytest.raises(OfflineError, match=r"^无法从 OpenStreetMap 下载 .* 的街道网络") as info:
            network.download_network(query, mode="walk")
        assert type(FAILURES[kind]).__name__ in str(info.value)
    assert cache_files() == []


def test_a_failure_is_not_replayed_from_the_cache(monkeypatch):
    monkeypatch.setattr(settings, "allow_online", True)
    monkeypatch.setattr(ox, "geocode", _raiser(FAILURES["read-timeout"]))
    with pytest.raises(OfflineError):
        online.geocode_online("济西湿地")
    monkeypatch.setattr(ox, "geocode", lambda q: (36.66, 116.78))
    assert online.geocode_online("济西湿地")["geometry"]["coordinates"] == [116.78, 36.66]


# --------------------------------------------------------------------------- HTTP error status
# osmnx raises ResponseStatusCodeError (a ValueError) for HTTP 429/5xx: both
# online entry points must turn it into OfflineError and cache nothing.

HTTP_429 = ox_errors.ResponseStatusCodeError("429 Too Many Requests")


def test_geocode_online_http_error_is_offline_error(monkeypatch):
    monkeypatch.setattr(settings, "allow_online", True)
    monkeypatch.setattr(ox, "geocode", _raiser(HTTP_429))
    with pytest.raises(OfflineError, match="失败：服务器返回 429 Too Many Requests，请稍后再试"):
        online.geocode_online("济西湿地")


def test_geocode_online_http_error_caches_nothing(monkeypatch):
    monkeypatch.setattr(settings, "allow_online", True)
    monkeypatch.setattr(ox, "geocode", _raiser(HTTP_429))
    with pytest.raises(OfflineError):
        online.geocode_online("济西湿地")
    assert cache_files() == []


def test_download_network_http_error_is_offline_error(monkeypatch):
    monkeypatch.setattr(settings, "allow_online", True)
    monkeypatch.setattr(ox, "graph_from_place", _raiser(HTTP_429))
    with pytest.raises(OfflineError, match="ResponseStatusCodeError: 429 Too Many Requests"):
        network.download_network("Lixia District, Jinan, China")


def test_download_network_http_error_caches_nothing(monkeypatch):
    monkeypatch.setattr(settings, "allow_online", True)
    monkeypatch.setattr(ox, "graph_from_place", _raiser(HTTP_429))
    with pytest.raises(PlanatlasError):
        network.download_network("Lixia District, Jinan, China")
    assert cache_files() == []
