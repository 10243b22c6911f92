"""Files and images sent with a prompt: a real server, opencode and the fake model."""

from __future__ import annotations

import base64
import io
import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import docx
import nbformat
import PIL.Image
import pypdf

from jupyter_opencode.kernel.context import describe, new_attachment
from jupyter_opencode.kernel.variables import list_variables
from jupyter_opencode.server.export.html import HtmlRenderer
from jupyter_opencode.server.export.notebook import build_notebook
from jupyter_opencode.server.export.options import ExportOptions
from jupyter_opencode.server.export.pdf import build_pdf
from jupyter_opencode.server.export.plain import MarkdownRenderer
from jupyter_opencode.server.export.word import build_docx
from jupyter_opencode.testing import FakeModelProcess

from .streams import Api, StreamClient
from .test_kernel_integration import Starter, start_kernel

__all__ = ["start_kernel"]  # the fixture, shared with the kernel integration tests

# The smallest valid PNG: one transparent pixel.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def _asked(fake_model: FakeModelProcess, marker: str) -> str:
    """Everything the model was sent in the request that carried ``marker``."""
    asked = [r for r in fake_model.requests() if marker in json.dumps(r)]
    assert asked, f"no request to the model mentioned {marker!r}"
    return json.dumps(asked[-1]["messages"])


async def test_file_folder_and_image_reach_the_model(
    api: Api, fake_model: FakeModelProcess, jp_root_dir: Path
) -> None:
    name = "ventes été 2024.csv"
    (jp_root_dir / name).write_text("region,total\nnorth,QUOKKA-4711\n")
    (jp_root_dir / "data").mkdir()
    (jp_root_dir / "data" / "january.parquet").write_bytes(b"PAR1")
    image = base64.b64encode(PNG).decode()
    sid = "session-attach-1"
    answer = await api.ask(
        sid,
        "compare these",
        attachments=[
            {"type": "file", "path": name},
            {"type": "file", "path": "data"},
            {"type": "image", "mime": "image/png", "data": image, "name": "plot.png"},
        ],
    )
    assert answer["status"] == "complete", answer
    sent = _asked(fake_model, "compare these")
    assert "QUOKKA-4711" in sent  # the file's text
    assert "january.parquet" in sent  # the folder's listing
    assert f"data:image/png;base64,{image}" in sent  # an image part

    user = (await api.messages(sid))[0]
    assert [(a["type"], a["name"], a["size"]) for a in user["attachments"]] == [
        ("file", name, len((jp_root_dir / name).read_bytes())),
        ("folder", "data", 0),
        ("image", "plot.png", len(PNG)),
    ]
    assert user["attachments"][2]["data"] == image
    code, found = await api.call("GET", "search", q="ventes")
    assert code == 200 and any(h["kind"] == "attachment" for h in found["hits"]), found


async def test_image_file_from_the_root_is_sent_as_an_image(
    api: Api, fake_model: FakeModelProcess, jp_root_dir: Path
) -> None:
    (jp_root_dir / "figure.png").write_bytes(PNG)
    answer = await api.ask(
        "session-attach-2", "look at figure", attachments=[{"type": "file", "path": "figure.png"}]
    )
    assert answer["status"] == "complete"
    assert base64.b64encode(PNG).decode() in _asked(fake_model, "look at figure")
    code, body = await api.call("GET", "models")  # the worker is up: the fake model takes images
    assert code == 200 and body["models"][0]["images"] is True, body


def _bad_files(root: Path) -> dict[str, tuple[int, str]]:
    """Paths that must be refused, with the status and reason each gets."""
    outside = root.parent / "secret.txt"
    outside.write_text("top secret")
    os.symlink(outside, root / "link.txt")
    (root / "big.log").write_bytes(b"x" * (50 * 1024 * 1024))
    (root / "model.bin").write_bytes(b"\x00\x01\x02binary")
    return {
        "../secret.txt": (400, "path_outside_root"),
        str(outside): (400, "path_outside_root"),
        "link.txt": (400, "path_outside_root"),
        "missing.csv": (400, "file_not_found"),
        "big.log": (413, "attachment_too_large"),
        "model.bin": (400, "unsupported_attachment"),
        "x" * 300: (400, "bad_path"),
    }


async def test_bad_attachments_are_refused_and_nothing_is_sent(
    api: Api, jp_root_dir: Path, open_stream: Callable[[], Awaitable[StreamClient]]
) -> None:
    sid = "session-attach-3"
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"type": "file", "path": path}, code, reason)
        for path, (code, reason) in _bad_files(jp_root_dir).items()
    ]
    big = base64.b64encode(b"\x89PNG" + b"0" * (5 * 1024 * 1024)).decode()
    cases += [
        ({"type": "image", "mime": "image/png", "data": big}, 413, "attachment_too_large"),
        ({"type": "image", "mime": "image/tiff", "data": "AAAA"}, 400, "unsupported_attachment"),
        ({"type": "image", "mime": "image/png", "data": "not base64!"}, 400, "bad_image"),
        ({"type": "video", "path": "x"}, 400, "bad_attachments"),
    ]
    for item, status, reason in cases:
        code, body = await api.call(
            "POST", "sessions", sid, "messages", body={"text": "hi", "attachments": [item]}
        )
        assert (code, body["reason"]) == (status, reason), (item.get("path"), body)
        assert body["message"]
    assert (await api.call("GET", "sessions", sid))[0] == 404  # nothing was saved

    stream = await open_stream()
    stream.send(type="prompt", session_id=sid, text="hi", attachments=[cases[0][0]])
    error = await stream.next()
    assert (error["type"], error["reason"]) == ("error", "path_outside_root")
    assert (await api.call("GET", "sessions", sid))[0] == 404


def _picture(fmt: str) -> str:
    """A small real picture, base64."""
    out = io.BytesIO()
    PIL.Image.new("RGB", (40, 30), (200, 60, 20)).save(out, fmt)
    return base64.b64encode(out.getvalue()).decode()


EXPORTED = {"id": "s-attached", "title": "Attached", "message_count": 1, "tags": []}
ATTACHED = [
    {
        "id": "m1", "role": "user", "status": "complete", "content": "see", "created_at": 1.0,
        "attachments": [
            {"type": "file", "name": "ventes été.csv", "path": "q3/ventes été.csv", "size": 2048},
            {"type": "folder", "name": "data", "path": "data", "size": 0},
            {"type": "image", "name": "chart.png", "mime": "image/png", "size": 99,
             "data": _picture("PNG")},
            {"type": "image", "name": "photo.webp", "mime": "image/webp", "size": 77,
             "data": _picture("WEBP")},
        ],
    }
]  # fmt: skip


def test_exports_name_attachments_and_embed_images() -> None:
    options = ExportOptions()
    text = render_text(MarkdownRenderer(options))
    assert "`q3/ventes été.csv` (2.0 kB)" in text and "`data/` (folder)" in text
    assert "`chart.png` (image, 99 B)" in text
    page = render_text(HtmlRenderer(options))
    assert page.count('<img src="data:image/') == 2 and "img-src data:" in page
    out = io.BytesIO()
    build_notebook(EXPORTED, ATTACHED, options, out)
    cell = nbformat.reads(out.getvalue().decode(), as_version=4).cells[1]
    assert sorted(cell.attachments) == ["0-chart.png", "1-photo.webp"]
    assert "](attachment:0-chart.png)" in cell.source and "ventes été.csv" in cell.source
    out = io.BytesIO()
    build_docx(EXPORTED, ATTACHED, options, out)
    document = docx.Document(io.BytesIO(out.getvalue()))
    assert len(document.inline_shapes) == 2
    assert "ventes été.csv" in "\n".join(p.text for p in document.paragraphs)
    out = io.BytesIO()
    build_pdf(EXPORTED, ATTACHED, options, out)
    reader = pypdf.PdfReader(io.BytesIO(out.getvalue()))
    assert sum(len(page.images) for page in reader.pages) == 2
    assert "chart.png" in " ".join(page.extract_text() for page in reader.pages)


def render_text(renderer: Any) -> str:
    """A whole text export of the attached message."""
    return str(renderer.head(EXPORTED) + renderer.messages(ATTACHED) + renderer.tail())


async def test_ask_sends_files_and_images_from_python(
    start_kernel: Starter, fake_model: FakeModelProcess, jp_root_dir: Path
) -> None:
    (jp_root_dir / "sales.csv").write_text("region,total\nsouth,WOMBAT-42\n")
    (jp_root_dir / "shot.png").write_bytes(PNG)
    kernel = await start_kernel()
    await kernel.run(
        f"import os\nos.chdir({str(jp_root_dir)!r})\n"
        "import matplotlib\nmatplotlib.use('agg')\nimport matplotlib.pyplot as plt\n"
        "from jupyter_opencode import Chat\n"
        "fig = plt.figure(figsize=(1, 1))\nplt.plot([1, 2, 3])\n"
        f"png = {PNG!r}\n"
        "reply = Chat().ask('python attachments', files=['sales.csv'],"
        " images=[fig, png, 'shot.png'], display_reply=False)\n"
        "assert reply.status == 'complete', reply.status"
    )
    sent = _asked(fake_model, "python attachments")
    assert "WOMBAT-42" in sent
    assert sent.count("data:image/png;base64,") == 3
    assert sent.count(base64.b64encode(PNG).decode()) == 2


async def test_files_match_names_first_and_hidden_last(api: Api, jp_root_dir: Path) -> None:
    for path in ("sales.csv", "reports/q3 sales été.md", ".cache/sales.tmp", "notes.txt"):
        (jp_root_dir / path).parent.mkdir(parents=True, exist_ok=True)
        (jp_root_dir / path).write_text("x")
    (jp_root_dir / "node_modules" / "sales").mkdir(parents=True)
    code, body = await api.call("GET", "files", q="SAL")
    assert code == 200
    assert [(f["path"], f["type"], f["hidden"], f["size"]) for f in body["files"]] == [
        ("sales.csv", "file", False, 1),
        ("reports/q3 sales été.md", "file", False, 1),
        (".cache/sales.tmp", "file", True, 1),
    ]
    code, body = await api.call("GET", "files", q="été", limit="1")
    assert code == 200 and [f["path"] for f in body["files"]] == ["reports/q3 sales été.md"]
    code, body = await api.call("GET", "files", limit="0")
    assert code == 400 and body["reason"] == "bad_limit"


def test_variables_are_listed_and_summarized_with_shapes() -> None:
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame({"a": [1, 2, 3]})
    namespace = {"frame": frame, "grid": np.arange(12).reshape(3, 4), "np": np, "_hidden": 1}
    namespace |= {"In": [], "note": "x" * 50_000, "describe": describe}
    assert list_variables(namespace) == [
        {"name": "frame", "type": "DataFrame", "shape": "(3, 1)"},
        {"name": "grid", "type": "ndarray", "shape": "(3, 4)"},
        {"name": "note", "type": "str", "shape": "len 50000"},
    ]
    kind, label, text = describe(namespace["grid"], "grid")
    assert (kind, label) == ("variable", "grid")
    assert "shape (3, 4), dtype int64" in text and "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]" in text
    chip = new_attachment(*describe(list(range(100_000)), "big"))
    assert chip["text"].endswith("chars]") and chip["size"] < 30_000
