"""Exports of real conversations (the real opencode and the fake model) in every format."""

from __future__ import annotations

import io
import json
import re
import zipfile
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote

import docx
import nbformat
import pypdf
import pytest
from tornado.httpclient import HTTPClientError, HTTPResponse

from jupyter_opencode.demo.scripts import DEMO_CODE

from .streams import Api, Opener, final

SID = "session-export-1"
PAYLOAD = (
    "<script>alert('s')</script> <img src=x onerror=alert('i')> "
    "[click](javascript:alert('j')) <a href=\"javascript:alert('a')\">a</a>"
)
CONTEXT = [{"kind": "cell", "label": "In [3]", "text": "df = load('sales.csv')"}]
SECRET = "sk-proj-abcdefghijklmnopqrstuvwxyz0123"
MEDIA = {
    "md": "text/markdown; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
    "json": "application/json; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "ipynb": "application/x-ipynb+json",
}


async def download(jp_fetch: Any, *path: str, **params: str) -> HTTPResponse:
    """GET a route under ``opencode/`` and return the raw response."""
    response: HTTPResponse = await jp_fetch("opencode", *path, params=params)
    return response


async def conversation(api: Api, open_stream: Opener) -> None:
    """Two exchanges: the first with attached context and a secret, the second with markup."""
    stream = await open_stream()
    stream.subscribe(SID)
    for text, context in [
        (f"my key is {SECRET}\nhow do I sum the sales?", CONTEXT),
        (f"[[reasoning]] and now {PAYLOAD}", []),
    ]:
        accepted = await api.prompt(SID, text, context=context)
        mid = accepted["assistant_message"]["id"]

        def answered(frame: dict[str, Any], mid: str = mid) -> bool:
            return final(SID)(frame) and frame["message"]["id"] == mid

        await stream.until(answered)
    code, _ = await api.call("PATCH", "sessions", SID, body={"title": "Sales / Umsätze 2026"})
    assert code == 200


class _Markup(HTMLParser):
    """Collects the tags, event-handler attributes and URLs of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.handlers: list[str] = []
        self.urls: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name.startswith("on"):
                self.handlers.append(name)
            if name in ("href", "src", "action", "formaction"):
                self.urls.append(value or "")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def check_markdown(data: bytes) -> None:
    text = data.decode()
    assert text.startswith("# Sales / Umsätze 2026\n")
    headings = re.findall(
        r"^## (\w+)( \(\S+\))? · \d{4}-\d\d-\d\d \d\d:\d\d UTC$", text, re.MULTILINE
    )
    # Each answer names the model opencode used for it.
    assert [(name, bool(model)) for name, model in headings] == [
        ("You", False),
        ("Assistant", True),
        ("You", False),
        ("Assistant", True),
    ]
    assert "how do I sum the sales?" in text and f"```python\n{DEMO_CODE}\n```" in text
    assert "**Context (cell):** In [3]" in text and "df = load('sales.csv')" in text
    assert "> *Reasoning*" in text and "Thinking about the question." in text


def check_text(data: bytes) -> None:
    text = data.decode()
    assert text.startswith("Sales / Umsätze 2026\n====================\n")
    assert "how do I sum the sales?" in text and DEMO_CODE in text
    assert "[context: cell In [3]]\n    df = load('sales.csv')" in text


def check_json(data: bytes) -> None:
    doc = json.loads(data)
    assert (doc["format"], doc["version"]) == ("jupyter-opencode.session", 1)
    assert doc["session"]["id"] == SID and doc["session"]["title"] == "Sales / Umsätze 2026"
    roles = [m["role"] for m in doc["messages"]]
    assert roles == ["user", "assistant", "user", "assistant"]
    assert doc["messages"][0]["context"] == CONTEXT
    assert doc["messages"][3]["parts"][0]["kind"] == "reasoning"


def check_html(data: bytes) -> None:
    page = _Markup()
    page.feed(data.decode())
    assert "script" not in page.tags and "img" not in page.tags and "iframe" not in page.tags
    assert page.handlers == []
    assert all(url.startswith(("http://", "https://", "mailto:")) for url in page.urls), page.urls
    text = "".join(page.text)
    # The payloads are shown as the text they are.
    assert "<script>alert('s')</script>" in text and "onerror=alert('i')" in text
    assert DEMO_CODE in text and "how do I sum the sales?" in text
    assert "Content-Security-Policy" in data.decode() and "@media print" in data.decode()


def check_pdf(data: bytes) -> None:
    reader = pypdf.PdfReader(io.BytesIO(data))
    text = " ".join(page.extract_text() for page in reader.pages)
    assert reader.metadata is not None and reader.metadata.title == "Sales / Umsätze 2026"
    for expected in ("how do I sum the sales?", "You asked:", DEMO_CODE, "df = load('sales.csv')"):
        assert expected in text, expected
    fonts = {
        str(font["/BaseFont"])
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()  # type: ignore[index]
    }
    assert any("Mono" in font or "Courier" in font for font in fonts), fonts


def check_docx(data: bytes) -> None:
    document = docx.Document(io.BytesIO(data))
    paragraphs = document.paragraphs
    assert paragraphs[0].text == "Sales / Umsätze 2026"
    text = "\n".join(p.text for p in paragraphs)
    assert "how do I sum the sales?" in text and "You asked:" in text
    code = [p for p in paragraphs if p.text == DEMO_CODE]
    assert code and code[0].style is not None and code[0].style.name == "Code Block"
    assert code[0].style.font.name == "Consolas"


def check_ipynb(data: bytes) -> None:
    notebook = nbformat.reads(data.decode(), as_version=4)
    nbformat.validate(notebook)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert [c.source for c in code] == [DEMO_CODE, DEMO_CODE]
    markdown = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    assert "> how do I sum the sales?" in markdown and "You asked:" in markdown
    assert notebook.metadata["jupyter_opencode"]["session_id"] == SID
    assert code[0].metadata["jupyter_opencode"]["role"] == "assistant"


CHECKS = {
    "md": check_markdown,
    "txt": check_text,
    "json": check_json,
    "html": check_html,
    "pdf": check_pdf,
    "docx": check_docx,
    "ipynb": check_ipynb,
}


async def test_every_format_is_valid(api: Api, open_stream: Opener, jp_fetch: Any) -> None:
    await conversation(api, open_stream)
    for fmt, check in CHECKS.items():
        response = await download(jp_fetch, "sessions", SID, "export", format=fmt)
        assert response.headers["Content-Type"] == MEDIA[fmt]
        disposition = response.headers["Content-Disposition"]
        assert disposition.startswith(f'attachment; filename="Sales_-_Umsatze_2026.{fmt}"; ')
        encoded = disposition.split("filename*=UTF-8''")[1]
        assert unquote(encoded) == f"Sales - Umsätze 2026.{fmt}"
        check(response.body)


async def test_options_and_errors(api: Api, open_stream: Opener, jp_fetch: Any) -> None:
    await conversation(api, open_stream)
    plain = (await download(jp_fetch, "sessions", SID, "export", format="md")).body.decode()
    assert SECRET in plain and "UTC" in plain
    bare = await download(
        jp_fetch, "sessions", SID, "export", format="md", timestamps="0", context="false"
    )
    assert "UTC" not in bare.body.decode() and "sales.csv" not in bare.body.decode()
    for fmt in ("md", "txt", "json", "html", "ipynb"):
        hidden = await download(jp_fetch, "sessions", SID, "export", format=fmt, redact="1")
        assert SECRET not in hidden.body.decode() and "[REDACTED]" in hidden.body.decode()
    pdf = await download(jp_fetch, "sessions", SID, "export", format="pdf", redact="yes")
    pdf_text = " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.body)).pages)
    assert SECRET not in pdf_text and "[REDACTED]" in pdf_text
    await api.call("PATCH", "sessions", SID, body={"title": f"uses {SECRET}"})
    named = await download(jp_fetch, "sessions", SID, "export", format="txt", redact="true")
    assert SECRET not in named.headers["Content-Disposition"] + named.body.decode()
    assert "uses [REDACTED].txt" in unquote(named.headers["Content-Disposition"])

    bad: list[tuple[dict[str, Any], str]] = [
        ({"format": "exe"}, "bad_format"),
        ({"format": "md", "redact": "maybe"}, "bad_redact"),
        ({"format": "md", "timestamps": ""}, "bad_timestamps"),
    ]
    for params, reason in bad:
        code, body = await api.call("GET", "sessions", SID, "export", **params)
        assert (code, body["reason"]) == (400, reason), body
    code, body = await api.call("GET", "sessions", "no-such-session", "export", format="md")
    assert (code, body["reason"]) == (404, "unknown_session")


async def test_bulk_export_is_a_zip(api: Api, open_stream: Opener, jp_fetch: Any) -> None:
    stream = await open_stream()
    sids = ["session-bulk-a", "session-bulk-b", "session-bulk-c"]
    for sid in sids:
        await stream.answer(api, sid, f"question of {sid}")
        await api.call("PATCH", "sessions", sid, body={"title": "Same title"})
    await api.call("PATCH", "sessions", sids[2], body={"title": "Other"})
    response = await jp_fetch(
        "opencode", "export", method="POST",
        body=json.dumps({"session_ids": sids, "format": "ipynb", "timestamps": False}),
    )  # fmt: skip
    assert response.headers["Content-Type"] == "application/zip"
    assert response.headers["Content-Disposition"].startswith(
        'attachment; filename="conversations_'
    )
    archive = zipfile.ZipFile(io.BytesIO(response.body))
    names = archive.namelist()
    assert names == ["Same title.ipynb", "Same title (2).ipynb", "Other.ipynb"]
    for name, sid in zip(names, sids, strict=True):
        notebook = nbformat.reads(archive.read(name).decode(), as_version=4)
        nbformat.validate(notebook)
        assert notebook.metadata["jupyter_opencode"]["session_id"] == sid
        assert any(f"question of {sid}" in c.source for c in notebook.cells)

    for body, code, reason in [
        ({"session_ids": [], "format": "md"}, 400, "bad_session_ids"),
        ({"session_ids": ["bad id"], "format": "md"}, 400, "bad_session_ids"),
        ({"session_ids": sids, "format": "rtf"}, 400, "bad_format"),
        ({"session_ids": sids, "format": "md", "redact": "perhaps"}, 400, "bad_redact"),
        ({"session_ids": [*sids, "session-missing"], "format": "md"}, 404, "unknown_session"),
    ]:
        answer = await api.call("POST", "export", body=body)
        assert answer[0] == code and answer[1]["reason"] == reason, answer


async def test_large_session_streams_in_pieces(api: Api, jp_fetch: Any) -> None:
    count = 1200
    body = {
        "format": "jupyter-opencode.session",
        "version": 1,
        "session": {"title": "Big"},
        "messages": [
            {"role": "user" if i % 2 == 0 else "assistant", "content": f"message {i} " + "x" * 900,
             "created_at": 1_700_000_000 + i}
            for i in range(count)
        ],
    }  # fmt: skip
    code, created = await api.call("POST", "sessions", "import", raw=json.dumps(body).encode())
    assert code == 201, created
    response = await download(jp_fetch, "sessions", created["session"]["id"], "export", format="md")
    # Sent batch by batch as it is rendered: chunked, with no length known up front.
    assert response.headers.get("Transfer-Encoding") == "chunked"
    assert "Content-Length" not in response.headers
    text = response.body.decode()
    assert text.count("\n## ") == count and f"message {count - 1} " in text


async def test_export_routes_need_auth(jp_fetch: Any) -> None:
    for method, path in [
        ("GET", "sessions/session-export-1/export"),
        ("POST", "export"),
        ("POST", "sessions/import"),
    ]:
        with pytest.raises(HTTPClientError) as info:
            await jp_fetch(
                "opencode", *path.split("/"), method=method,
                headers={"Authorization": "token wrong"},
                body=b"{}" if method == "POST" else None,
            )  # fmt: skip
        assert info.value.code == 403
