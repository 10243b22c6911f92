"""Cell operations and what the agent is shown, without a server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from jupyter_opencode.notebook.cells import (
    OUTPUT_LIMIT,
    ToolInputError,
    apply,
    inverse,
    locate,
    plan,
    render_outputs,
)
from jupyter_opencode.worker.environment import notebook_tools_overlay, read_config


def cells() -> list[dict]:
    return [
        {"cell_type": "code", "id": f"c{i}", "metadata": {}, "source": s, "outputs": [],
         "execution_count": None}
        for i, s in enumerate(["a = 1", "b = 2", "c = 3"])
    ]  # fmt: skip


def test_a_cell_is_named_by_index_or_id() -> None:
    assert locate(cells(), 2) == 2
    assert locate(cells(), "c1") == 1
    assert locate(cells(), "0") == 0
    for bad, message in ((3, "out of range"), ("zz", "no cell has the id"), (True, "cell index")):
        with pytest.raises(ToolInputError, match=message):
            locate(cells(), bad)


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("insert_cell", {"index": 1, "source": "new = 0", "cell_type": "markdown"}),
        ("edit_cell", {"cell": "c2", "source": "c = 30"}),
        ("delete_cell", {"cell": 0}),
        ("move_cell", {"cell": 0, "index": 2}),
    ],
)
def test_every_change_is_undone_exactly(tool: str, args: dict) -> None:
    nb = cells()
    change = plan(tool, args, nb)
    apply(nb, change.wire())
    assert nb != cells()
    apply(nb, inverse(change))
    assert nb == cells()


def test_bad_arguments_say_what_is_wrong() -> None:
    with pytest.raises(ToolInputError, match="'index' must be an integer from 0 to 3"):
        plan("insert_cell", {"index": 9, "source": "x"}, cells())
    with pytest.raises(ToolInputError, match="'cell_type' must be one of"):
        plan("insert_cell", {"index": 0, "source": "x", "cell_type": "sql"}, cells())
    with pytest.raises(ToolInputError, match="'source' must be a string"):
        plan("edit_cell", {"cell": 0}, cells())


def test_long_outputs_are_truncated_with_a_marker_and_images_kept() -> None:
    outputs: list[dict[str, Any]] = [
        {"output_type": "stream", "name": "stdout", "text": "x" * (OUTPUT_LIMIT + 500)},
        {"output_type": "display_data", "data": {"image/png": "iVBOR\n", "text/plain": "<F>"}},
        {"output_type": "error", "ename": "KeyError", "evalue": "'k'",
         "traceback": ["\x1b[31mKeyError\x1b[0m: 'k'"]},
    ]  # fmt: skip
    text, images = render_outputs(outputs)
    assert "x\n[... output truncated: 500 more characters]\n[image: image/png]\nKeyError" in text
    assert images == [("image/png", "iVBOR")]
    short, _ = render_outputs(outputs[2:])
    assert short == "KeyError: 'k'\nKeyError: 'k'"


def test_the_worker_config_keeps_the_users_permissions(tmp_path: Path) -> None:
    config = tmp_path / "opencode.jsonc"
    config.write_text('{\n  // mine\n  "permission": {"edit": "ask", "bash": "deny",},\n}')
    user = read_config(config)
    server = {"type": "remote", "url": "http://127.0.0.1:1/opencode/notebook/mcp"}
    overlay = notebook_tools_overlay(user, server, ("edit_cell",), ("read_notebook",))
    permission = overlay["permission"]
    assert permission["bash"] == "deny"
    assert list(permission["edit"].items()) == [("*", "ask"), ("*.ipynb", "deny")]
    assert permission["jupyter_edit_cell"] == "ask"
    assert permission["jupyter_read_notebook"] == "allow"
    assert overlay["mcp"]["jupyter"] == {**server, "enabled": True}
    everything = notebook_tools_overlay({"permission": "ask"}, {}, (), ())["permission"]
    assert everything["*"] == "ask" and everything["edit"] == {"*": "ask", "*.ipynb": "deny"}
    assert json.loads(json.dumps(overlay)) == overlay
