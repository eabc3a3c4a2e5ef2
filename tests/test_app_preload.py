"""The page names the element code it will need (app_pages._preload)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from app_pages import _preload


def _manifest(tmp_path: Path) -> Path:
    """A Vite manifest with a page bundle and two elements sharing a dependency (hand-made)."""
    entries = {
        "index.html": {"file": "static/js/index.AAA.js", "isEntry": True, "imports": ["_react.BBB.js"]},
        "_react.BBB.js": {"file": "static/js/react.BBB.js"},
        "_shared.CCC.js": {"file": "static/js/shared.CCC.js", "imports": ["_react.BBB.js"]},
        "_label.DDD.js": {"file": "static/js/label.DDD.js", "imports": ["_shared.CCC.js"]},
        "src/Radio.tsx": {"file": "static/js/Radio.EEE.js", "name": "Radio", "isDynamicEntry": True,
                          "imports": ["_react.BBB.js", "_label.DDD.js", "index.html"]},
        "src/Checkbox.tsx": {"file": "static/js/Checkbox.FFF.js", "name": "Checkbox", "isDynamicEntry": True,
                             "imports": ["_shared.CCC.js"], "css": ["static/css/Checkbox.css"]},
        "src/Slider.tsx": {"file": "static/js/Slider.GGG.js", "name": "Slider", "isDynamicEntry": True},
    }
    (tmp_path / "manifest.json").write_text(json.dumps(entries), encoding="utf-8")
    return tmp_path


def test_chunk_urls_are_each_elements_imports_dependencies_first_without_the_pages_own(tmp_path):
    folder = _manifest(tmp_path)
    urls = _preload.chunk_urls(["Radio", "Checkbox", "Missing"], static_dir=folder)
    # react is the page bundle's (index.html loads it); shared comes once; Slider was not asked for
    assert urls == ["./static/js/shared.CCC.js", "./static/js/label.DDD.js", "./static/js/Radio.EEE.js",
                    "./static/js/Checkbox.FFF.js"]
    assert _preload.entry_file(static_dir=folder) == "static/js/index.AAA.js"


def test_chunk_urls_of_a_missing_or_broken_manifest_are_none(tmp_path):
    assert _preload.chunk_urls(static_dir=tmp_path) == []
    (tmp_path / "manifest.json").write_text("{not json", encoding="utf-8")
    assert _preload.chunk_urls(static_dir=tmp_path) == []
    assert _preload.entry_file(static_dir=tmp_path) is None


def test_every_element_the_landing_page_draws_is_in_the_installed_streamlit():
    """A Streamlit upgrade that renames an element's chunk shows here, not as a silently slower page."""
    static = _preload._static_dir()
    manifest = json.loads((static / "manifest.json").read_text(encoding="utf-8"))
    names = {v.get("name") for v in manifest.values() if v.get("isDynamicEntry")}
    assert set(_preload.ELEMENTS) <= names
    urls = _preload.chunk_urls()
    assert all((static / u.removeprefix("./")).is_file() for u in urls)
    page = (static / "index.html").read_text(encoding="utf-8")
    assert not [u for u in urls if u in page]  # nothing the page asks for already
    assert len(urls) == len(set(urls))
    # an element's own file comes after the files it imports
    multiselect = next(i for i, u in enumerate(urls) if "/Multiselect." in u)
    menu = next(i for i, u in enumerate(urls) if "/useMenuTrigger." in u)
    assert menu < multiselect


def test_link_tags_escape_their_urls():
    tags = _preload.link_tags(['./static/js/a".js'])
    assert tags == b'<link rel="modulepreload" crossorigin href="./static/js/a&quot;.js">'


PAGE = b'<html><head><script type="module" src="./static/js/index.AAA.js"></script></head><body></body></html>'
TAGS = b'<link rel="modulepreload" crossorigin href="./static/js/x.js">'


def test_with_links_only_touches_streamlits_own_page():
    out = _preload.with_links(PAGE, TAGS, entry="static/js/index.AAA.js")
    assert out == PAGE.replace(b"</head>", TAGS + b"</head>")
    component = b'<html><head><script src="./static/js/main.js"></script></head></html>'  # a component's frame
    assert _preload.with_links(component, TAGS, entry="static/js/index.AAA.js") == component
    assert _preload.with_links(b"<p>no head</p>", TAGS, entry="static/js/index.AAA.js") == b"<p>no head</p>"


def _serve(middleware, scope, messages):
    """Messages the middleware sends for a request answered by an app that sends ``messages``."""
    sent = []

    async def app(scope, receive, send):
        for m in messages:
            await send(m)

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    asyncio.run(middleware(app)(scope, receive, send))
    return sent


def _middleware(app):
    return _preload.PreloadMiddleware(app, tags=TAGS, entry="static/js/index.AAA.js")


def _start(content_type: bytes, status: int = 200, *extra: tuple[bytes, bytes]):
    return {"type": "http.response.start", "status": status,
            "headers": [(b"content-type", content_type), (b"content-length", b"999"), *extra]}


GET = {"type": "http", "method": "GET", "path": "/"}


def test_the_middleware_adds_the_tags_to_a_page_sent_in_parts_and_fixes_its_length():
    half = len(PAGE) // 2
    sent = _serve(_middleware, GET, [
        _start(b"text/html; charset=utf-8"),
        {"type": "http.response.body", "body": PAGE[:half], "more_body": True},
        {"type": "http.response.body", "body": PAGE[half:], "more_body": False},
    ])
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    body = sent[1]["body"]
    assert body == PAGE.replace(b"</head>", TAGS + b"</head>")
    headers = dict(sent[0]["headers"])
    assert headers[b"content-length"] == str(len(body)).encode()
    assert headers[b"content-type"] == b"text/html; charset=utf-8"


@pytest.mark.parametrize("start", [
    _start(b"application/javascript"),                       # not a page
    _start(b"text/html", 304),                                # not modified: no body to change
    _start(b"text/html", 200, (b"content-encoding", b"gzip")),  # compressed: left as it is
])
def test_the_middleware_passes_other_responses_unchanged(start):
    body = {"type": "http.response.body", "body": PAGE, "more_body": False}
    assert _serve(_middleware, GET, [start, body]) == [start, body]


def test_the_middleware_leaves_other_methods_and_websockets_alone():
    start, body = _start(b"text/html"), {"type": "http.response.body", "body": PAGE, "more_body": False}
    assert _serve(_middleware, {"type": "http", "method": "POST", "path": "/"}, [start, body]) == [start, body]
    hello = {"type": "websocket.accept"}
    assert _serve(_middleware, {"type": "websocket", "path": "/_stcore/stream"}, [hello]) == [hello]
