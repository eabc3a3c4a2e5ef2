"""The app server: Nagle's algorithm off (app_pages._nodelay) and its settings (.streamlit/config.toml)."""

from __future__ import annotations

import socket
import sys
import tomllib
from pathlib import Path

import pytest

from app_pages import _nodelay

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="accepted sockets take TCP_NODELAY from the listener on Linux")


def _listener() -> socket.socket:
    """A listening socket made as Streamlit makes its own: protocol left at 0."""
    sock = socket.socket(family=socket.AF_INET)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    return sock


def _accepted_nodelay(listener: socket.socket) -> int:
    client = socket.create_connection(listener.getsockname())
    conn, _ = listener.accept()
    try:
        return conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    finally:
        conn.close()
        client.close()


@linux_only
def test_no_nagle_switches_the_listener_and_every_connection_after_it():
    listener, other = _listener(), _listener()
    try:
        port = listener.getsockname()[1]
        assert listener.proto == 0
        assert _accepted_nodelay(listener) == 0  # the stall this module removes
        assert _nodelay.no_nagle(port) == 1
        assert _accepted_nodelay(listener) == 1
        assert _accepted_nodelay(other) == 0  # another port's listener is left alone
        assert _nodelay.no_nagle(port) == 0  # already on: nothing to switch
        assert listener.fileno() >= 0  # the server's own socket stays open
    finally:
        listener.close()
        other.close()


def test_no_nagle_finds_nothing_on_a_port_nobody_listens_on():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, not listening
        assert _nodelay.no_nagle(port) == 0


def test_the_served_app_watches_no_source_files_and_stays_offline():
    """A planner's server does not watch its sources: each new session's watcher went through every
    imported module (0.37 s of a first map, .streamlit/config.toml), and it never phones home."""
    config = tomllib.loads((Path(__file__).resolve().parent.parent / ".streamlit" / "config.toml")
                           .read_text(encoding="utf-8"))
    assert config["server"]["fileWatcherType"] == "none"
    assert config["server"]["enableStaticServing"] is True  # the map's Leaflet is served from ./static
    assert config["browser"]["gatherUsageStats"] is False
