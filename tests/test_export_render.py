"""The renderers on their own: names, redaction, annotations, code cells, fences, paging."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import docx
import nbformat
import pypdf

from jupyter_opencode.server.export.html import HtmlRenderer
from jupyter_opencode.server.export.importing import import_session
from jupyter_opencode.server.export.jsonfile import JsonRenderer
from jupyter_opencode.server.export.markdown import fence
from jupyter_opencode.server.export.notebook import build_notebook, split_code
from jupyter_opencode.server.export.options import ExportOptions, content_disposition, file_name
from jupyter_opencode.server.export.pdf import build_pdf
from jupyter_opencode.server.export.plain import MarkdownRenderer, TextRenderer
from jupyter_opencode.server.export.redact import redact_text
from jupyter_opencode.server.export.word import build_docx
from jupyter_opencode.server.store import SessionStore

OPTIONS = ExportOptions()
SESSION = {"id": "s-render-1", "title": "Notes", "message_count": 2, "tags": ["q3"]}
ANNOTATED: list[dict[str, Any]] = [
    {"id": "m1", "role": "user", "status": "complete", "content": "plot it", "created_at": 1.0},
    {
        "id": "m2", "role": "assistant", "status": "complete", "created_at": 2.0,
        "content": "Like ![this](http://example.com/t.png):\n\n```python\nplt.plot(x)\n```\n\n"
        "```json\n{\"a\": 1}\n```\n",
        "annotation": {"rating": "down", "note": "wrong axis labels"},
    },
]  # fmt: skip


def render(renderer: Any, messages: list[dict[str, Any]]) -> str:
    return str(renderer.head(SESSION) + renderer.messages(messages) + renderer.tail())


def test_file_names_are_safe() -> None:
    assert file_name("../../etc/passwd", "md") == "etc-passwd.md"
    assert file_name("a\u202eb\x00c\nd", "pdf") == "abc d.pdf"
    assert file_name("  ...  ", "txt") == "conversation.txt"
    assert file_name("x" * 300, "md") == "x" * 80 + ".md"
    header = content_disposition('Q3 "Umsätze" / 数据', "docx")
    assert header.startswith("attachment; filename=\"Q3_-Umsatze.docx\"; filename*=UTF-8''")
    assert unquote(header.split("''", 1)[1]) == "Q3 -Umsätze- - 数据.docx"


def test_redaction_hides_key_shapes_and_keeps_prose() -> None:
    text = (
        "use sk-ant-api03-abcdefghijklmnopqrstuv and AKIAABCDEFGHIJKLMNOP, "
        "OPENAI_API_KEY='abcdef123456789', Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.abc, "
        "ghp_0123456789abcdefghijklmnopqrstuvwxyz; the token budget is 10 words"
    )
    hidden = redact_text(text)
    for secret in ("sk-ant", "AKIA", "abcdef123456789", "eyJhbGci", "ghp_"):
        assert secret not in hidden
    assert hidden.count("[REDACTED]") == 5 and "the token budget is 10 words" in hidden


def test_fences_outlast_backticks_inside() -> None:
    assert fence("a ``` b") == "````\na ``` b\n````"
    assert fence("plain", "text") == "```text\nplain\n```"


def test_annotations_are_rendered_in_every_text_format() -> None:
    for renderer in (MarkdownRenderer(OPTIONS), TextRenderer(OPTIONS), HtmlRenderer(OPTIONS)):
        text = render(renderer, ANNOTATED)
        assert "Rated unhelpful" in text and "wrong axis labels" in text, type(renderer)
    page = render(HtmlRenderer(OPTIONS), ANNOTATED)
    assert "<img" not in page and '<a href="http://example.com/t.png"' in page  # loads nothing
    doc = json.loads(render(JsonRenderer(OPTIONS), ANNOTATED))
    assert doc["messages"][1]["annotation"] == {"rating": "down", "note": "wrong axis labels"}
    assert "Rated" not in render(MarkdownRenderer(OPTIONS), ANNOTATED[:1])


def test_documents_carry_annotations_and_code() -> None:
    out = io.BytesIO()
    build_pdf(SESSION, ANNOTATED, OPTIONS, out)
    pdf = " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(out.getvalue())).pages)
    assert "Rated unhelpful" in pdf and "plt.plot(x)" in pdf
    out = io.BytesIO()
    build_docx(SESSION, ANNOTATED, OPTIONS, out)
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(out.getvalue())).paragraphs)
    assert "wrong axis labels" in text and "plt.plot(x)" in text
    out = io.BytesIO()
    build_notebook(SESSION, ANNOTATED, OPTIONS, out)
    notebook = nbformat.reads(out.getvalue().decode(), as_version=4)
    assert [c.cell_type for c in notebook.cells] == [
        "markdown", "markdown", "markdown", "code", "markdown", "markdown",
    ]  # fmt: skip
    assert notebook.cells[3].source == "plt.plot(x)"
    assert "```json" in notebook.cells[4].source  # not runnable: stays Markdown
    assert "wrong axis labels" in notebook.cells[5].source


def test_split_code_keeps_prose_order_and_magics() -> None:
    text = "Run:\n\n```bash\nls\n```\n\nthen\n\n```\nx = 1\n```\n\n    indented\n\nend"
    assert split_code(text) == [
        ("markdown", "Run:"),
        ("code", "%%bash\nls"),
        ("markdown", "then"),
        ("code", "x = 1"),
        ("markdown", "indented\n\nend"),
    ]
    nested = "- item\n\n  ```python\n  y = 2\n  ```\n"
    assert split_code(nested) == [("markdown", nested.strip())]  # inside a list: stays there


def test_message_batches_read_in_order_without_gaps(tmp_path: Path) -> None:
    async def scenario() -> list[list[str]]:
        store = SessionStore(tmp_path / "s.db")
        await store.open()
        session = {"title": "t", "message_count": 7}
        doc = {
            "format": "jupyter-opencode.session", "version": 1, "session": session,
            "messages": [
                {"role": "user", "content": str(i), "created_at": float(i)} for i in range(7)
            ],
        }  # fmt: skip
        created = await import_session(store, json.dumps(doc).encode(), 1 << 20)
        batches = [
            [m["content"] for m in batch]
            async for batch in store.message_batches(created["id"], size=3)
        ]
        await store.close()
        return batches

    assert asyncio.run(scenario()) == [["0", "1", "2"], ["3", "4", "5"], ["6"]]


def test_import_restores_annotations_with_the_new_message_ids(tmp_path: Path) -> None:
    async def scenario() -> list[tuple[str, Any]]:
        store = SessionStore(tmp_path / "s.db")
        await store.open()
        doc = {"format": "jupyter-opencode.session", "version": 1, "session": {},
               "messages": [{**m, "id": "old-" + m["id"]} for m in ANNOTATED]}  # fmt: skip
        created = await import_session(store, json.dumps(doc).encode(), 1 << 20)
        found = [
            (m["id"], m["annotation"])
            async for batch in store.message_batches(created["id"])
            for m in batch
        ]
        await store.close()
        return found

    found = asyncio.run(scenario())
    assert [a for _, a in found] == [None, {"rating": "down", "note": "wrong axis labels"}]
    assert not any(mid.startswith("old-") for mid, _ in found)


def test_control_characters_and_color_codes_do_not_break_documents() -> None:
    noisy = [
        {"id": "n1", "role": "user", "status": "complete", "created_at": 1.0,
         "content": "why?\x00\x07", "context": [{"kind": "error", "label": "In [2]\x1b[0m",
         "text": "\x1b[31mKeyError\x1b[0m: 'x'\x0c"}]},
        {"id": "n2", "role": "assistant", "status": "complete", "created_at": 2.0,
         "model": "m\x1b", "content": "```\n\x1b[1mbold\x1b[0m\x00\n```"},
    ]  # fmt: skip
    session = {**SESSION, "title": "Noisy\x00 title\x1b[2J"}
    out = io.BytesIO()
    build_docx(session, noisy, OPTIONS, out)
    document = docx.Document(io.BytesIO(out.getvalue()))
    text = "\n".join(p.text for p in document.paragraphs)
    assert document.core_properties.title == "Noisy title"
    assert "KeyError: 'x'" in text and "bold" in text and "\x1b" not in text
    out = io.BytesIO()
    build_pdf(session, noisy, OPTIONS, out)
    pdf = " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(out.getvalue())).pages)
    assert "KeyError: 'x'" in pdf and "[31m" not in pdf
    page = HtmlRenderer(OPTIONS)
    html = page.head(session) + page.messages(noisy)
    assert "KeyError: 'x'" in html
    assert "\x1b" not in html and "\x00" not in html
