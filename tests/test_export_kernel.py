"""Export and import from Python (`chat.export`, `Chat.import_session`) and the `/export`
command of the panel, in a real kernel of the test's server."""

from __future__ import annotations

import asyncio
import io
import zipfile
from pathlib import Path

import docx

from jupyter_opencode.testing import expected_text

from . import test_kernel_integration as integration
from .test_kernel_integration import SETUP, Starter

start_kernel = integration.start_kernel  # the fixture, shared

QUESTION = "How do I read a CSV file?"


async def test_export_and_import_from_python(start_kernel: Starter, tmp_path: Path) -> None:
    kernel = await start_kernel()
    notebook = tmp_path / "analysis" / "sales.ipynb"
    notebook.parent.mkdir()
    notebook.write_text("{}")
    await kernel.run(
        f"import os\nos.environ['JPY_SESSION_NAME'] = {str(notebook)!r}\n"
        + SETUP
        + f"chat.ask({QUESTION!r}, display_reply=False)\n"
        "chat._client.request('PATCH', f'sessions/{chat.session_id}',"
        " {'title': 'CSV help'}).result(10)"
    )
    saved = (
        await kernel.run(
            "paths = [chat.export('md'), chat.export('md'), chat.export('pdf', redact=True),"
            f" chat.export('json', {str(tmp_path / 'copy.json')!r}),"
            f" chat.export('txt', {str(tmp_path / 'notes') + '/'!r})]\n"
            "print(json.dumps([str(p) for p in paths]))"
        )
    ).json()
    folder = notebook.parent
    assert saved == [
        str(folder / "CSV help.md"),
        str(folder / "CSV help (2).md"),  # never over an existing file
        str(folder / "CSV help.pdf"),
        str(tmp_path / "copy.json"),
        str(tmp_path / "notes" / "CSV help.txt"),  # a new folder
    ]
    markdown = Path(saved[0]).read_text()
    assert markdown.startswith("# CSV help\n") and expected_text(QUESTION).strip() in markdown
    assert Path(saved[2]).read_bytes().startswith(b"%PDF-")

    imported = (
        await kernel.run(
            f"other = Chat.import_session({saved[3]!r})\n"
            "import time\n"
            "deadline = time.time() + 30\n"
            "while len(other.messages) < 2 and time.time() < deadline:\n"
            "    time.sleep(0.1)\n"
            "print(json.dumps([other.session_id != chat.session_id,"
            " [(m['role'], m['content']) for m in other.messages]]))"
        )
    ).json()
    # Traits are set on the kernel's thread, so the title shows once a cell has ended.
    for _ in range(50):
        title = (await kernel.run("print(json.dumps(other.title))")).json()
        if title:
            break
        await asyncio.sleep(0.1)
    imported.append(title)
    assert imported == [
        True,
        [["user", QUESTION], ["assistant", expected_text(QUESTION)]],
        "CSV help",
    ]

    failure = await kernel.execute(
        f"open({str(tmp_path / 'bad.json')!r}, 'w').write('{{\"format\": 1}}')\n"
        f"Chat.import_session({str(tmp_path / 'bad.json')!r})"
    )
    assert failure.reply["content"]["ename"] == "ValueError"
    assert "is not a jupyter-opencode JSON export" in failure.reply["content"]["evalue"]
    nothing = await kernel.execute("Chat().export('md')")
    assert "Nothing to export yet" in nothing.reply["content"]["evalue"]


async def test_export_command_downloads_in_the_browser(start_kernel: Starter) -> None:
    kernel = await start_kernel()
    await kernel.run(SETUP + f"chat.ask({QUESTION!r}, display_reply=False)")
    execution = await kernel.run(
        "from jupyter_opencode.kernel import panel\n"
        "panel.handle_browser_message(chat, {'type': 'command', 'name': 'export', 'arg': 'docx'})\n"
        "panel.handle_browser_message(chat, {'type': 'command', 'name': 'export', 'arg': 'rtf'})\n"
        "import time\ntime.sleep(3)"
    )
    custom = [
        m
        for m in kernel.iopub
        if m["msg_type"] == "comm_msg" and m["content"]["data"].get("method") == "custom"
    ]
    downloads = [m for m in custom if m["content"]["data"]["content"]["type"] == "download"]
    assert len(downloads) == 1, execution.stdout
    content = downloads[0]["content"]["data"]["content"]
    assert content["filename"].endswith(".docx")
    assert content["media_type"].startswith("application/vnd.openxmlformats")
    data = bytes(downloads[0]["buffers"][0])
    assert zipfile.is_zipfile(io.BytesIO(data))
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(data)).paragraphs)
    assert QUESTION in text
    notices = [c["content"]["data"]["content"] for c in custom]
    notices = [n for n in notices if n["type"] == "notice"]
    assert any(n["level"] == "error" and "Export formats: md" in n["text"] for n in notices)
    assert any(n["level"] == "info" and n["text"].startswith("Exported ") for n in notices)
