"""Rewinding from Python away answers that changed a notebook: told how to undo, panel offers it."""

from __future__ import annotations

import uuid
from pathlib import Path

from jupyter_opencode.kernel.library import REWOUND_CHANGES

from .streams import Api, Opener
from .test_kernel_integration import Starter, start_kernel
from .test_library_kernel import _customs
from .test_notebook_tools import SOURCES, ask, calls, sources_of, write_notebook

__all__ = ["start_kernel"]  # the fixture, shared with the kernel integration tests


async def test_python_rewind_tells_of_notebook_changes_and_the_panel_offers_undo(
    start_kernel: Starter, api: Api, open_stream: Opener, jp_root_dir: Path
) -> None:
    name = "kernel-rewound.ipynb"
    path = write_notebook(jp_root_dir, name)
    sid = f"nb-{uuid.uuid4().hex[:8]}"
    text = calls(("edit_cell", {"path": name, "cell": 1, "source": "b = 7"}))
    _, answer = await ask(api, await open_stream(), sid, text, ["once"])
    assert sources_of(path) == ["a = 1", "b = 7", "print(b)"]

    kernel = await start_kernel()
    ran = await kernel.run(
        "import json, time\n"
        "from jupyter_opencode import Chat\n"
        "chat = Chat()\n"
        f"chat.load({sid!r})\n"
        "deadline = time.time() + 30\n"
        "while len(chat.messages) < 2 and time.time() < deadline: time.sleep(0.05)\n"
        "print(json.dumps(chat.rewind()))"
    )
    assert REWOUND_CHANGES in ran.stdout
    assert answer["id"] in ran.json()
    rewinds = [f for m in _customs(kernel, "frames") for f in m["frames"] if f["type"] == "rewind"]
    # Our own rewind at once, then the server's frame (a no-op here: forwarded only once).
    assert [(f["removed"], f["notebook_changes"]) for f in rewinds][:1] == [
        (ran.json(), [answer["id"]])
    ]

    code, body = await api.call(
        "POST", "sessions", sid, "messages", answer["id"], "notebook-changes"
    )
    assert code == 200 and [r["cell_id"] for r in body["restored"]] == ["c1"]
    assert sources_of(path) == SOURCES
