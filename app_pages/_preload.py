"""Streamlit's widget code asked for with the page, not after the first script run.

Streamlit's frontend loads the code of each kind of element (multiselect,
selectbox, custom component, ...) only when the first element of that kind
arrives from the script run. On a first visit to the map page that is about
35 small files, asked for only once the server has started the run and
served while it runs, then the map component's code after them; measured in
Chromium on the 2-core machine (Resource Timing, first visits of 2026-12-04),
they arrived 0.4-0.7 s after the page's first elements, and the map frame
could not start before. Nothing in the browser needs to wait for the run to
know these names: the app's pages draw the same kinds of element every time.

This module lists the kinds of element the app's landing page draws
(:data:`ELEMENTS`), resolves them through the ``manifest.json`` of the
installed Streamlit frontend into the files each one needs (the Vite build's
own import lists, so a Streamlit upgrade renames nothing here), and
:class:`PreloadMiddleware` adds ``<link rel="modulepreload">`` tags for them to
the page Streamlit serves, as its ``index.html`` does for its own bundle. The
browser then fetches them while the rest of the page loads and the server is
still idle; the frontend's later ``import()`` finds them ready.

Nothing here is needed for correctness: a kind of element missing from the
manifest is skipped, a page that is not plain HTML passes unchanged, and an
element not listed is loaded by Streamlit as before.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["ELEMENTS", "PreloadMiddleware", "chunk_urls", "entry_file", "link_tags", "with_links"]

#: Kinds of element (the Vite chunk ``name`` of each) the map page, the app's landing page, draws:
#: the sidebar's project choice (Radio), the app's CSS and scripts (Html), the layer picker
#: (Multiselect), basemap and colour choices (Selectbox), clustering (Checkbox), the search box
#: (TextInput) and the map itself (ComponentInstance, streamlit-folium's frame).
ELEMENTS: tuple[str, ...] = ("Radio", "Html", "Multiselect", "Selectbox", "Checkbox", "TextInput",
                             "ComponentInstance")


def _static_dir() -> Path:
    import streamlit

    return Path(streamlit.__file__).resolve().parent / "static"


def _closure(manifest: dict[str, Any], key: str, seen: set[str], out: list[str]) -> None:
    """``key``'s static imports depth first, then ``key`` itself (each once)."""
    if key in seen or key not in manifest:
        return
    seen.add(key)
    for dep in manifest[key].get("imports", []):
        _closure(manifest, dep, seen, out)
    out.append(key)


def _manifest(folder: Path) -> dict[str, Any]:
    try:
        loaded = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _entry_key(manifest: dict[str, Any]) -> str | None:
    """The manifest's key of the page's own bundle (the build's one entry)."""
    return next((k for k, v in manifest.items() if isinstance(v, dict) and v.get("isEntry")), None)


def entry_file(*, static_dir: Path | None = None) -> str | None:
    """The page's own bundle (``static/js/index.….js``), by which Streamlit's ``index.html`` is known."""
    manifest = _manifest(static_dir if static_dir is not None else _static_dir())
    entry = _entry_key(manifest)
    return str(manifest[entry]["file"]) if entry is not None and manifest[entry].get("file") else None


def chunk_urls(names: Iterable[str] = ELEMENTS, *, static_dir: Path | None = None) -> list[str]:
    """Relative URLs of the frontend files the elements ``names`` need beyond the page's own bundle.

    Parameters
    ----------
    names : iterable of str
        Vite chunk names of Streamlit elements (e.g. ``"Multiselect"``).
    static_dir : pathlib.Path, optional
        Streamlit's frontend folder (default: the installed Streamlit's).

    Returns
    -------
    list of str
        ``./static/js/...`` URLs, dependencies first, each once; files the page's
        ``index.html`` already loads are left out, as are names the manifest lacks.
    """
    manifest = _manifest(static_dir if static_dir is not None else _static_dir())
    entry = _entry_key(manifest)
    seen: set[str] = set()
    if entry is not None:
        _closure(manifest, entry, seen, [])  # the page's own bundle: already asked for by index.html
    by_name = {v.get("name"): k for k, v in manifest.items() if isinstance(v, dict) and v.get("isDynamicEntry")}
    keys: list[str] = []
    for name in names:
        if name in by_name:
            _closure(manifest, by_name[name], seen, keys)
    return [f"./{manifest[k]['file']}" for k in keys if str(manifest[k].get("file", "")).endswith(".js")]


def link_tags(urls: Iterable[str]) -> bytes:
    """``<link rel="modulepreload">`` tags for ``urls``, as Streamlit's ``index.html`` writes its own."""
    return "".join(f'<link rel="modulepreload" crossorigin href="{html.escape(u)}">' for u in urls).encode()


def with_links(page: bytes, tags: bytes, *, entry: str) -> bytes:
    """``page`` with ``tags`` just before its ``</head>`` when it is Streamlit's page (it loads ``entry``).

    Any other HTML (a custom component's frame, whose relative URLs point
    elsewhere) and a page with no ``</head>`` come back unchanged.
    """
    at = page.find(b"</head>")
    if at < 0 or not tags or not entry or entry.encode() not in page[:at]:
        return page
    return page[:at] + tags + page[at:]


@lru_cache(maxsize=1)
def _defaults() -> tuple[bytes, str]:
    return link_tags(chunk_urls()), entry_file() or ""


class PreloadMiddleware:
    """ASGI middleware: the app's HTML pages name the element code they will need (module docstring).

    Parameters
    ----------
    app : ASGI application
        The application wrapped (Streamlit's).
    tags : bytes, keyword-only, optional
        The tags to add (default: :func:`link_tags` of :func:`chunk_urls`).
    entry : str, keyword-only, optional
        The page's bundle file that marks Streamlit's own page (default: :func:`entry_file`).
    """

    def __init__(self, app: ASGIApp, *, tags: bytes | None = None, entry: str | None = None) -> None:
        self.app = app
        self.tags = tags
        self.entry = entry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http" or scope.get("method") != "GET":
            await self.app(scope, receive, send)
            return
        default_tags, default_entry = _defaults()
        tags = self.tags if self.tags is not None else default_tags
        entry = self.entry if self.entry is not None else default_entry
        start: Message | None = None
        body: list[bytes] = []

        async def send_page(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = {k.lower(): v for k, v in message.get("headers", [])}
                plain_html = (message.get("status") == 200 and b"content-encoding" not in headers
                              and headers.get(b"content-type", b"").startswith(b"text/html"))
                if plain_html and tags:
                    start = message  # held until the body is complete
                    return
            elif message["type"] == "http.response.body" and start is not None:
                body.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                page = with_links(b"".join(body), tags, entry=entry)
                headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
                headers.append((b"content-length", str(len(page)).encode()))
                await send({**start, "headers": headers})
                await send({"type": "http.response.body", "body": page, "more_body": False})
                start = None
                return
            await send(message)

        await self.app(scope, receive, send_page)
