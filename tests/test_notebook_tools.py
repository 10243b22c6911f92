"""Notebook tools on a notebook no browser has open: the real opencode, MCP server, fake model."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import nbformat

from jupyter_opencode.demo.scripts import NOTEBOOK_REPLY

from .streams import Api, Frame, Opener, StreamClient, final

SOURCES = ["a = 1", "b = a + 1", "print(b)"]


def write_notebook(root: Path, name: str, sources: list[str] = SOURCES) -> Path:
    """A small valid notebook with cell ids c0, c1, ..."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src, id=f"c{i}") for i, src in enumerate(sources)]
    path = root / name
    path.write_text(nbformat.writes(nb))
    return path


def sources_of(path: Path) -> list[str]:
    """The cell sources of a notebook file, which must be valid."""
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    return [cell.source for cell in nb.cells]


def calls(*steps: tuple[str, dict[str, Any]]) -> str:
    """A prompt making the fake model call notebook tools in order."""
    return " ".join(f"[[notebook {tool} {json.dumps(args)}]]" for tool, args in steps)


async def ask(
    api: Api, stream: StreamClient, sid: str, text: str, replies: list[str]
) -> tuple[list[Frame], dict[str, Any]]:
    """Prompt; answer each permission prompt with the next reply; frames and final message."""
    stream.subscribe(sid)
    await api.prompt(sid, text)
    frames: list[Frame] = []
    answers = iter(replies)
    while True:
        frame = (await stream.until(lambda f: f.get("kind") == "permission" or final(sid)(f)))[-1]
        frames.append(frame)
        if frame.get("kind") != "permission":
            return frames, frame["message"]
        pid = frame["permission"]["id"]
        code, body = await api.call(
            "POST", "sessions", sid, "permissions", pid, body={"reply": next(answers)}
        )
        assert code == 200, body


def asked(frames: list[Frame]) -> list[dict[str, Any]]:
    """The notebook diffs of the permission prompts seen."""
    return [f["permission"]["notebook"] for f in frames if f.get("kind") == "permission"]


async def test_change_a_closed_notebook_through_the_contents_manager(
    api: Api, open_stream: Opener, jp_root_dir: Path
) -> None:
    path = write_notebook(jp_root_dir, "closed.ipynb")
    sid = f"nb-{uuid.uuid4().hex[:8]}"
    text = calls(
        ("read_notebook", {"path": "closed.ipynb"}),
        ("edit_cell", {"path": "closed.ipynb", "cell": 1, "source": "b = a + 41"}),
        ("insert_cell", {"path": "closed.ipynb", "index": 3, "source": "# Done", "cell_type": "markdown"}),
        ("move_cell", {"path": "closed.ipynb", "cell": "c2", "index": 0}),
        ("delete_cell", {"path": "closed.ipynb", "cell": "c0"}),
    )  # fmt: skip
    frames, message = await ask(api, await open_stream(), sid, text, ["once"] * 4)
    assert message["status"] == "complete", message
    diffs = asked(frames)
    assert [d["tool"] for d in diffs] == ["edit_cell", "insert_cell", "move_cell", "delete_cell"]
    assert diffs[0]["before"] == "b = a + 1" and diffs[0]["after"] == "b = a + 41"
    assert diffs[1]["before"] is None and diffs[1]["after"] == "# Done"
    assert diffs[3]["before"] == "a = 1" and diffs[3]["after"] is None
    assert not any(d["live"] for d in diffs)
    assert sources_of(path) == ["print(b)", "b = a + 41", "# Done"]
    said = message["content"]
    assert said.startswith(NOTEBOOK_REPLY)
    assert "closed.ipynb: 3 cells" in said and "--- cell 1 id=c1" in said
    assert "Edited cell; as re-read from the notebook file" in said and "b = a + 41" in said
    assert "Moved cell" in said and "Deleted cell 1 (id c0)" in said
