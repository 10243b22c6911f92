"""The fake OpenAI-compatible model server, over real HTTP to its subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

from jupyter_opencode.demo.fix import cell_source, fixed_source
from jupyter_opencode.notebook.cells import render_cell
from jupyter_opencode.testing import (
    TOOL_OUTPUT,
    FakeModelProcess,
    expected_reasoning,
    expected_text,
    opencode_config,
    parse_directive,
    reply_chunks,
    title_for,
)

TITLE_SYSTEM = "You are a title generator. You output ONLY a thread title. Nothing else."


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeModelProcess]:
    """One fake model subprocess for this module."""
    with FakeModelProcess() as model:
        yield model


def post(
    fake: FakeModelProcess, messages: list[dict[str, Any]], stream: bool = True
) -> tuple[int, bytes]:
    """POST a chat completion and return (status, raw body)."""
    body = json.dumps({"model": "echo-1", "stream": stream, "messages": messages}).encode()
    request = urllib.request.Request(
        f"{fake.url}/chat/completions", data=body, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        with e:
            return e.code, e.read()


def sse_chunks(raw: bytes) -> list[Any]:
    """Parse an SSE body into its JSON chunks, ``"[DONE]"`` kept as a string."""
    events = []
    for line in raw.decode().split("\n\n"):
        if line.startswith("data: "):
            data = line[len("data: ") :]
            events.append(data if data == "[DONE]" else json.loads(data))
    return events


def field(chunks: list[Any], name: str) -> str:
    """Concatenate one delta field over all chunks."""
    return "".join(
        c["choices"][0]["delta"].get(name) or ""
        for c in chunks
        if isinstance(c, dict) and c["choices"]
    )


def user(text: str) -> list[dict[str, Any]]:
    """Return a conversation of one user message."""
    return [{"role": "system", "content": "You are opencode."}, {"role": "user", "content": text}]


def test_models(fake: FakeModelProcess) -> None:
    with urllib.request.urlopen(f"{fake.url}/models", timeout=10) as response:
        models = json.load(response)
    assert [m["id"] for m in models["data"]] == ["echo-1"]


def test_echo_stream_shape(fake: FakeModelProcess) -> None:
    text = "Cell 1:\ndf = load()\n\nHow do I plot df?"
    status, raw = post(fake, user(text))
    assert status == 200
    chunks = sse_chunks(raw)
    assert chunks[-1] == "[DONE]"
    final = chunks[-2]
    assert final["choices"][0]["finish_reason"] == "stop"
    assert final["usage"]["completion_tokens"] > 0
    assert all(c["choices"][0]["finish_reason"] is None for c in chunks[:-2])
    assert field(chunks, "content") == expected_text(text)
    assert expected_text(text).startswith("You asked: How do I plot df?\n")
    assert "```python\n" in expected_text(text)


def test_echo_names_the_error(fake: FakeModelProcess) -> None:
    text = (
        "Traceback (most recent call last):\n"
        '  File "<cell>", line 1\n'
        "\x1b[0;31mKeyError\x1b[0m: 'colour'\n\nWhy did this fail?"
    )
    _, raw = post(fake, user(text))
    reply = field(sse_chunks(raw), "content")
    assert reply == expected_text(text)
    assert "The last cell raised KeyError: 'colour'" in reply


def test_content_as_parts(fake: FakeModelProcess) -> None:
    messages = [{"role": "user", "content": [{"type": "text", "text": "[[long:3]]"}]}]
    _, raw = post(fake, messages)
    assert field(sse_chunks(raw), "content") == "w0 w1 w2 "


def test_non_streaming(fake: FakeModelProcess) -> None:
    status, raw = post(fake, user("hello"), stream=False)
    assert status == 200
    body = json.loads(raw)
    assert body["choices"][0]["message"]["content"] == expected_text("hello")
    assert body["choices"][0]["finish_reason"] == "stop"


def test_long(fake: FakeModelProcess) -> None:
    _, raw = post(fake, user("bench [[long:5000]]"))
    chunks = sse_chunks(raw)
    assert len(chunks) == 5000 + 3  # role chunk, deltas, final chunk, [DONE]
    assert field(chunks, "content") == "".join(f"w{i} " for i in range(5000))


def test_slow_spaces_chunks(fake: FakeModelProcess) -> None:
    started = time.monotonic()
    _, raw = post(fake, user("[[slow:4:0.1]]"))
    assert time.monotonic() - started >= 0.35
    assert field(sse_chunks(raw), "content") == "s0 s1 s2 s3 "


def test_reasoning_before_text(fake: FakeModelProcess) -> None:
    text = "[[reasoning]] why?"
    chunks = sse_chunks(post(fake, user(text))[1])
    assert field(chunks, "reasoning_content") == expected_reasoning(text) != ""
    assert field(chunks, "content") == expected_text(text)
    kinds = [next(iter(c["choices"][0]["delta"]), None) for c in chunks[1:-2]]
    assert kinds == sorted(kinds, key=lambda k: k != "reasoning_content")


def test_tool_call_then_answer(fake: FakeModelProcess) -> None:
    messages = user("please [[tool]]")
    chunks = sse_chunks(post(fake, messages)[1])
    assert chunks[-2]["choices"][0]["finish_reason"] == "tool_calls"
    calls = [
        c["choices"][0]["delta"]["tool_calls"]
        for c in chunks[:-2]
        if c["choices"][0]["delta"].get("tool_calls")
    ]
    call = calls[0][0]
    assert call["function"]["name"] == "bash"
    assert json.loads(call["function"]["arguments"])["command"] == "echo tool-ok"
    follow_up = [
        *messages,
        {"role": "assistant", "content": "", "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call["id"], "content": "tool-ok\n"},
    ]
    reply = field(sse_chunks(post(fake, follow_up)[1]), "content")
    assert reply == expected_text("please [[tool]]") == expected_text("[[tool]]", TOOL_OUTPUT)
    assert "tool-ok" in reply


@pytest.mark.parametrize(
    ("directive", "status", "kind"),
    [
        ("[[error400]]", 400, "invalid_request_error"),
        ("[[error500]]", 500, "server_error"),
    ],
)
def test_errors(fake: FakeModelProcess, directive: str, status: int, kind: str) -> None:
    for _ in range(2):
        code, raw = post(fake, user(f"fail {directive}"))
        assert code == status
        assert json.loads(raw)["error"]["type"] == kind


def test_title_request_ignores_directives(fake: FakeModelProcess) -> None:
    messages = [
        {"role": "system", "content": TITLE_SYSTEM},
        {"role": "user", "content": "Generate a title for this conversation:\n"},
        {"role": "user", "content": "[[error500]] Plot the sales by region"},
    ]
    status, raw = post(fake, messages)
    assert status == 200
    title = field(sse_chunks(raw), "content")
    assert title == title_for("[[error500]] Plot the sales by region") == "Plot the sales by region"


def test_last_directive_wins() -> None:
    assert parse_directive("context: [[long:3]]\n\nask [[slow:2:0.5]]").args == ("2", "0.5")
    assert parse_directive("no directive").name == "echo"
    assert reply_chunks("[[error400]]") == []


def test_recording(fake: FakeModelProcess) -> None:
    fake.clear()
    assert fake.requests() == []
    post(fake, user("first [[long:1]]"))
    post(fake, user("second [[error400]]"))
    texts = [r["messages"][-1]["content"] for r in fake.requests()]
    assert texts == ["first [[long:1]]", "second [[error400]]"]
    fake.clear()
    assert fake.requests() == []


def test_opencode_config() -> None:
    config = opencode_config("http://127.0.0.1:1/v1", ask_bash=True)
    assert config["model"] == "fake/echo-1"
    assert config["provider"]["fake"]["options"]["baseURL"] == "http://127.0.0.1:1/v1"
    assert config["provider"]["fake"]["models"]["echo-1"]["name"] == "Demo model (offline)"
    assert config["permission"]["bash"] == "ask"
    assert opencode_config("http://x/v1")["permission"]["bash"] == "allow"


def test_module_cli_stops_on_sigterm() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter_opencode.testing", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    with proc:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("fake model listening on http://127.0.0.1:")
        proc.terminate()
        assert proc.wait(5) == 0


def tool_call_of(chunks: list[Any]) -> dict[str, Any]:
    """The one tool call streamed in ``chunks``."""
    calls = [
        c["choices"][0]["delta"]["tool_calls"][0]
        for c in chunks
        if isinstance(c, dict) and c["choices"] and c["choices"][0]["delta"].get("tool_calls")
    ]
    assert len(calls) == 1
    return dict(calls[0])


def test_fix_reads_the_notebook_then_edits_that_cell(fake: FakeModelProcess) -> None:
    question = (
        "Fix cell c1 of work/plain.ipynb: it failed with the error attached.\n"
        "Error: KeyError\nKeyError: 'colour'\n"
    )
    notebook = (
        "work/plain.ipynb: 2 cells, showing 0 to 1 (open in JupyterLab)\n"
        "--- cell 0 id=c0 type=code execution_count=1\n"
        'd = {"color": "red"}\n'
        "--- cell 1 id=c1 type=code execution_count=2\n"
        'd["colour"].upper()\n'
        "--- outputs\nKeyError: 'colour'"
    )
    messages = user(question)
    steps = []
    for said in (notebook, "Edited cell 1 (id c1) of work/plain.ipynb."):
        call = tool_call_of(sse_chunks(post(fake, messages)[1]))
        steps.append((call["function"]["name"], json.loads(call["function"]["arguments"])))
        messages += [
            {"role": "assistant", "content": "", "tool_calls": [call]},
            {"role": "tool", "tool_call_id": call["id"], "content": said},
        ]
    assert steps == [
        ("jupyter_read_notebook", {"path": "work/plain.ipynb"}),
        (
            "jupyter_edit_cell",
            {"path": "work/plain.ipynb", "cell": "c1", "source": 'd["color"].upper()'},
        ),
    ]
    reply = field(sse_chunks(post(fake, messages)[1]), "content")
    assert reply.startswith("I corrected cell c1.") and "Edited cell 1" in reply

    unfixable = user(question.replace("colour", "zzz"))
    call = tool_call_of(sse_chunks(post(fake, unfixable)[1]))
    unfixable += [
        {"role": "assistant", "content": "", "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call["id"], "content": notebook.replace("colour", "zzz")},
    ]
    assert "found no fix" in field(sse_chunks(post(fake, unfixable)[1]), "content")


def test_the_demo_model_fixes_the_quickstart_failing_cell() -> None:
    quickstart = nbformat.read(Path(__file__).parents[1] / "notebooks" / "quickstart.ipynb", 4)
    shown = "\n".join(render_cell(cell, i)[0] for i, cell in enumerate(quickstart.cells))
    failing = next(c for c in quickstart.cells if "colour" in c.source)
    source = cell_source(shown, failing.id)
    assert source is not None and source == failing.source
    assert fixed_source(source, "colour", shown) == failing.source.replace("colour", "color")
