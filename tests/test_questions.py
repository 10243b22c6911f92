"""The agent's questions: the real opencode's ``question`` tool, called by the fake model."""

from __future__ import annotations

import json
from typing import Any

from jupyter_opencode.demo.scripts import NOTEBOOK_REPLY

from .streams import Api, Frame, Opener, final

QUESTIONS = [
    {
        "question": "Which library should the plot use?",
        "header": "Library",
        "options": [
            {"label": "matplotlib", "description": "The classic"},
            {"label": "plotly", "description": "Interactive"},
        ],
    },
    {
        "question": "Which columns?",
        "header": "Columns",
        "options": [{"label": "a", "description": ""}, {"label": "b", "description": ""}],
        "multiple": True,
    },
]
ASK = f"[[call question {json.dumps({'questions': QUESTIONS})}]]"


def is_question(frame: Frame) -> bool:
    """Whether a frame is a question frame."""
    return frame["type"] == "question"


async def answer(api: Api, sid: str, qid: str, body: Any) -> tuple[int, Any]:
    """POST an answer to a question."""
    return await api.call("POST", "sessions", sid, "questions", qid, body=body)


async def test_a_question_is_shown_answered_and_kept(api: Api, open_stream: Opener) -> None:
    sid = "question-answered"
    stream = await open_stream()
    stream.subscribe(sid)
    await api.prompt(sid, ASK)
    frames = await stream.until(is_question)
    asked = frames[-1]
    qid = asked["question_id"]
    assert [q["header"] for q in asked["questions"]] == ["Library", "Columns"]
    # opencode's tool always lets the user type an answer of their own.
    flags = [(q["multiple"], q["custom"]) for q in asked["questions"]]
    assert flags == [(False, True), (True, True)]
    assert [o["label"] for o in asked["questions"][0]["options"]] == ["matplotlib", "plotly"]
    status = await stream.until(lambda f: f.get("kind") == "status")
    assert status[-1]["message"] == "Waiting for your answer"
    # A client opening the conversation now finds the question in the answer in progress.
    streaming = (await api.messages(sid))[-1]
    assert streaming["status"] == "streaming"
    assert [p["id"] for p in streaming["parts"] if p["kind"] == "question"] == [qid]

    bad = [
        ({"answers": [["plotly"]]}, "bad_answers"),  # one list per question
        ({"answers": [["plotly", "matplotlib"], ["a"]]}, "bad_answers"),  # not multiple
        ({"answers": [["plotly"], ["  "]]}, "bad_answers"),  # a blank typed answer
        ({"answers": [["plotly"], []]}, "bad_answers"),
        ({"answers": "plotly"}, "bad_answers"),
        ({"reject": False}, "bad_reject"),
        ({}, "bad_answer"),
    ]
    for body, reason in bad:
        code, error = await answer(api, sid, qid, body)
        assert (code, error["reason"]) == (400, reason), (body, error)
    code, error = await answer(api, sid, "que_unknown", {"reject": True})
    assert (code, error["reason"]) == (404, "unknown_question")

    code, body = await answer(api, sid, qid, {"answers": [["Seaborn, please"], ["a", "b"]]})
    assert (code, body) == (200, {"answers": [["Seaborn, please"], ["a", "b"]]})
    code, error = await answer(api, sid, qid, {"reject": True})
    assert (code, error["reason"]) == (409, "already_answered")

    done = await stream.until(final(sid))
    settled = [f for f in done if is_question(f)]
    assert settled[0]["answers"] == [["Seaborn, please"], ["a", "b"]]
    message = done[-1]["message"]
    assert NOTEBOOK_REPLY in message["content"]
    assert "Seaborn, please" in message["content"]
    assert message["status"] == "complete"
    # A reload shows the question and its answer; the question tool is not listed twice.
    stored = (await api.messages(sid))[-1]
    parts = [p for p in stored["parts"] if p["kind"] in ("question", "tool")]
    assert [p["kind"] for p in parts] == ["question"]
    assert parts[0]["answers"] == [["Seaborn, please"], ["a", "b"]]


async def test_a_dismissed_question_tells_the_agent(api: Api, open_stream: Opener) -> None:
    sid = "question-dismissed"
    stream = await open_stream()
    stream.subscribe(sid)
    await api.prompt(sid, ASK)
    qid = (await stream.until(is_question))[-1]["question_id"]
    code, body = await answer(api, sid, qid, {"reject": True})
    assert (code, body) == (200, {"answers": None})
    done = await stream.until(final(sid))
    assert [f.get("rejected") for f in done if is_question(f)] == [True]
    message = done[-1]["message"]
    assert message["status"] == "complete"
    assert [p.get("rejected") for p in message["parts"] if p["kind"] == "question"] == [True]
    code, error = await answer(api, sid, qid, {"answers": [["plotly"], ["a"]]})
    assert (code, error["reason"]) == (409, "already_answered")
