"""Nagle's algorithm off on the app server's connections (a 40 ms stall per request otherwise).

Streamlit binds the server's listening socket itself (``socket.socket(family=...)``,
protocol left at 0) and hands it to uvicorn. asyncio turns ``TCP_NODELAY`` on
only for sockets that report ``IPPROTO_TCP`` as their protocol, and an accepted
socket inherits the 0, so every connection of the app keeps Nagle's algorithm
on. A response written in two parts (headers, then body) then waits for the
browser's delayed acknowledgement of the first: measured here with curl on one
kept-alive connection, the first request of a Streamlit 1.67 server took 2 ms
and each one after it 42-44 ms. A first visit asks for about 90 files of
Streamlit's bundle, six at a time, so the stalls add up to most of a second,
and every rerun's messages on the WebSocket meet the same wait. (The same
cause is reported against uvicorn for its own pre-bound sockets:
Kludex/uvicorn#3149.)

On Linux an accepted socket takes its ``TCP_NODELAY`` from the listening
socket, so setting it once on the listener, as the server starts, covers every
connection after. The listener is found among the process's open files by its
port, with no reach into Streamlit's internals; where the files cannot be
listed, or the option is already on, nothing changes.
"""

from __future__ import annotations

import contextlib
import os
import socket
import stat
from collections.abc import Iterator

__all__ = ["listening_sockets", "no_nagle"]

_FD_DIRS = ("/proc/self/fd", "/dev/fd")


def _open_fds() -> list[int]:
    """The process's open file descriptors (empty where they cannot be listed)."""
    for folder in _FD_DIRS:
        try:
            return sorted(int(name) for name in os.listdir(folder) if name.isdigit())
        except OSError:
            continue
    return []


def _as_listener(fd: int, port: int) -> socket.socket | None:
    """A second handle on ``fd`` when it is a TCP socket listening on ``port``, else None."""
    try:
        if not stat.S_ISSOCK(os.fstat(fd).st_mode):
            return None
        dup = os.dup(fd)
    except OSError:  # closed meanwhile (e.g. the listing's own descriptor)
        return None
    try:
        sock = socket.socket(fileno=dup)
    except OSError:  # a socket Python cannot take (its family unknown here)
        os.close(dup)
        return None
    try:
        if (sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM
                and sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
                and sock.getsockname()[1] == port):
            return sock
    except OSError:
        pass
    sock.close()
    return None


@contextlib.contextmanager
def listening_sockets(port: int) -> Iterator[list[socket.socket]]:
    """Handles on this process's TCP sockets listening on ``port`` (closed on exit; the sockets stay open).

    Parameters
    ----------
    port : int
        TCP port number.
    """
    found = [s for fd in _open_fds() if (s := _as_listener(fd, port)) is not None]
    try:
        yield found
    finally:
        for sock in found:
            sock.close()


def no_nagle(port: int) -> int:
    """Turn ``TCP_NODELAY`` on for this process's listeners on ``port``; how many were switched.

    Parameters
    ----------
    port : int
        The port the app server listens on.

    Returns
    -------
    int
        Listeners that had the option off and now have it on (0 when there is
        none, it was on already, or the open files cannot be listed).
    """
    switched = 0
    with listening_sockets(port) as listeners:
        for sock in listeners:
            if not sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                switched += 1
    return switched
