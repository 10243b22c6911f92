"""Search, list filters, organizing, counters: a real server, opencode and the fake model."""

from __future__ import annotations

import random
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from jupyter_opencode.server.store.search import EmptyQuery, highlighted, match_expression

from .streams import Api, Opener

# The second of several sessions; its third message (second prompt) holds the rare words.
SESSIONS = {
    "session-lib-one": ["how do I read a csv file", "and write it back"],
    "session-lib-two": ["plot a histogram", "now try df.groupby('region').sum() please"],
    "session-lib-three": ["explain the traceback", "what is a KeyError"],
}
HOSTILE = [
    'AND (', "NEAR", "*", '"', ":", "-", "groupby AND (", 'NEAR(a b, 2)', "col:value",
    "-groupby", "^start", "a OR", '""', "'", "((((", "region*", "{x}", "\\", "%_%", "'; DROP",
]  # fmt: skip


FILLERS = 300


async def _fill(jp_serverapp: Any) -> None:
    """Many more finished sessions, stored the way the chat service stores them."""
    app = jp_serverapp.web_app.settings["jupyter_opencode_app"]
    await app.open()
    store = app.store
    for n in range(FILLERS):
        sid = f"session-filler-{n:04d}"
        now = time.time()
        user: dict[str, Any] = {
            "id": f"filler-user-{n}", "session_id": sid, "role": "user", "status": "complete",
            "content": f"weekly sales report {n} for the northern stores", "error": None,
            "model": None, "created_at": now, "completed_at": now, "context": [],
        }  # fmt: skip
        answer = {**user, "id": f"filler-answer-{n}", "role": "assistant", "status": "pending",
                  "content": "", "completed_at": None}  # fmt: skip
        await store.start_turn(sid, user, answer, None)
        await store.finish_message({
            **answer, "status": "complete", "content": f"Report {n}: revenue grew in region {n}",
            "parts": [], "tokens": 3, "cost": 0.0, "completed_at": now,
        })  # fmt: skip


async def _converse(api: Api) -> None:
    for sid, prompts in SESSIONS.items():
        for text in prompts:
            await api.ask(sid, text)


async def _search(api: Api, q: str, **params: Any) -> list[dict[str, Any]]:
    code, body = await api.call("GET", "search", q=q, **params)
    assert code == 200, (q, body)
    return list(body["hits"])


async def _listed(api: Api, **params: Any) -> list[str]:
    """Every session id ``GET sessions`` lists with these filters, through pages of 40."""
    listed: list[str] = []
    cursor = ""
    while True:
        code, page = await api.call("GET", "sessions", limit="40", cursor=cursor, **params)
        assert code == 200, page
        listed += [s["id"] for s in page["sessions"]]
        if not page["next_cursor"]:
            return listed
        cursor = page["next_cursor"]


def _marked(hit: dict[str, Any]) -> list[str]:
    return [hit["snippet"][a:b] for a, b in hit["highlights"]]


async def test_search_prefix_phrase_and_hostile_queries(api: Api, jp_serverapp: Any) -> None:
    await _converse(api)
    await _fill(jp_serverapp)
    assert len((await api.call("GET", "sessions", limit="200"))[1]["sessions"]) == 200
    third = (await api.messages("session-lib-two"))[2]
    assert "groupby" in third["content"]

    hits = await _search(api, "grou")
    assert hits and hits[0]["session_id"] == "session-lib-two"
    assert hits[0]["message_id"] == third["id"] and hits[0]["role"] == "user"
    assert [w.lower() for w in _marked(hits[0])] == ["groupby"]
    assert hits[0]["title"] and "<" not in hits[0]["snippet"]

    phrase = await _search(api, '"groupby region"')
    assert {h["message_id"] for h in phrase} >= {third["id"]}
    assert await _search(api, '"region groupby"') == []  # a phrase keeps its word order
    both = await _search(api, "histogram plot")
    assert {h["session_id"] for h in both} == {"session-lib-two"}
    # A word in every filler: the pages of hits hold each match once, the target among them.
    seen: list[str] = []
    cursor = ""
    while True:
        code, page = await api.call("GET", "search", q="region", limit="100", cursor=cursor)
        assert code == 200
        seen += [h["message_id"] for h in page["hits"]]
        if not page["next_cursor"]:
            break
        cursor = page["next_cursor"]
    assert third["id"] in seen and len(seen) == len(set(seen)) > FILLERS

    # The session list by a word in every filler (walked newest first) and by a rare word
    # (its sessions collected and sorted): each page for page the unfiltered list's order.
    everything = await _listed(api)
    fillers = [sid for sid in everything if sid.startswith("session-filler-")]
    assert await _listed(api, q="northern") == fillers
    assert await _listed(api, q="northern", starred="false") == fillers
    assert await _listed(api, q="grou") == ["session-lib-two"]
    assert await _listed(api, q="region") == [
        sid for sid in everything if sid in set(fillers) | {"session-lib-two"}
    ]

    for q in HOSTILE:
        code, body = await api.call("GET", "search", q=q)
        assert code == 200, (q, body)
        assert isinstance(body["hits"], list)
    for q in ("", "   "):
        code, body = await api.call("GET", "search", q=q)
        assert code == 400 and body["reason"] == "empty_query"

    code, first = await api.call("GET", "search", q="you asked", limit="2")
    assert code == 200 and len(first["hits"]) == 2 and first["next_cursor"]
    cursor = first["next_cursor"]
    code, rest = await api.call("GET", "search", q="you asked", limit="2", cursor=cursor)
    assert code == 200 and rest["hits"]
    assert not {h["message_id"] for h in rest["hits"]} & {h["message_id"] for h in first["hits"]}
    assert (await api.call("GET", "search", q="x", cursor="junk!"))[0] == 400


async def test_filters_organize_counters_and_delete(
    api: Api, open_stream: Opener, db_path: Path
) -> None:
    await _converse(api)
    code, one = await api.call("PATCH", "sessions", "session-lib-one", body={
        "starred": True, "tags": ["data", "csv"], "title": "Reading CSV files",
    })  # fmt: skip
    assert code == 200 and one["starred"] and one["tags"] == ["data", "csv"]
    await api.call("PATCH", "sessions", "session-lib-two", body={"tags": ["data"]})
    await api.call("PATCH", "sessions", "session-lib-three", body={"archived": True})

    async def ids(**params: Any) -> set[str]:
        code, body = await api.call("GET", "sessions", **params)
        assert code == 200, body
        return {s["id"] for s in body["sessions"]}

    assert await ids() == {"session-lib-one", "session-lib-two"}
    assert await ids(archived="true") == {"session-lib-three"}
    assert await ids(archived="all") == set(SESSIONS)
    assert await ids(tag="data") == {"session-lib-one", "session-lib-two"}
    assert await ids(tag="data", starred="true") == {"session-lib-one"}
    assert await ids(tag="data", starred="false") == {"session-lib-two"}
    assert await ids(q="groupby") == {"session-lib-two"}
    assert await ids(q="groupby", tag="csv") == set()
    assert await ids(q="reading") == {"session-lib-one"}  # the new title is searched
    assert await ids(q="traceback") == set()  # archived
    assert await ids(q="traceback", archived="all") == {"session-lib-three"}
    assert await ids(q="*") == set()

    code, body = await api.call("GET", "sessions", archived="all")
    session = next(s for s in body["sessions"] if s["id"] == "session-lib-one")
    assert session["message_count"] == 4 and session["tokens"] > 0
    assert session["first_message_preview"] == "how do I read a csv file"
    assert session["last_activity"] >= session["created_at"]

    code, _ = await api.call("DELETE", "sessions", "session-lib-two")
    assert code == 204
    assert await _search(api, "groupby") == []
    with sqlite3.connect(db_path) as db:
        for table in ("messages", "chunks", "search_docs", "session_tags", "annotations"):
            rows = db.execute(
                f"SELECT count(*) FROM {table} WHERE session_id = ?", ("session-lib-two",)
            ).fetchone()
            assert rows == (0,), table
        assert db.execute("INSERT INTO search_index(search_index) VALUES ('integrity-check')")


BAD_PATCHES = [
    ({}, "empty_patch"),
    ({"colour": "red"}, "unknown_field"),
    ({"title": ""}, "bad_title"),
    ({"title": "x" * 201}, "bad_title"),
    ({"starred": "yes"}, "bad_starred"),
    ({"archived": 1}, "bad_archived"),
    ({"tags": "data"}, "bad_tags"),
    ({"tags": ["x"] * 21}, "bad_tags"),
    ({"tags": [""]}, "bad_tags"),
    ({"tags": ["x" * 51]}, "bad_tags"),
    ({"tags": [3]}, "bad_tags"),
]


async def test_bad_patches_and_filters_are_400(api: Api, open_stream: Opener) -> None:
    stream = await open_stream()
    sid = "session-lib-patch"
    await stream.answer(api, sid, "hello")
    code, before = await api.call("GET", "sessions", sid)
    for body, reason in BAD_PATCHES:
        code, answer = await api.call("PATCH", "sessions", sid, body=body)
        assert code == 400 and answer["reason"] == reason, (body, answer)
    assert (await api.call("GET", "sessions", sid))[1] == before
    bad: list[dict[str, Any]] = [{"starred": "maybe"}, {"archived": "2"}, {"q": "x" * 1001}]
    for params in bad:
        code, answer = await api.call("GET", "sessions", **params)
        assert code == 400, (params, answer)


def test_match_expression_never_passes_syntax_through() -> None:
    assert match_expression("grou") == '"grou"*'
    assert match_expression('df.groupby "sum of" x') == '"df groupby"* AND "sum of" AND "x"*'
    assert match_expression("AND ( NEAR * : -") == '"AND"* AND "NEAR"*'
    assert match_expression('"unclosed phrase') == '"unclosed phrase"'
    assert match_expression("* - :") is None
    with pytest.raises(EmptyQuery):
        match_expression("  ")
    assert highlighted("a \x02b\x03 c \x02dd\x03") == ("a b c dd", [[2, 3], [6, 8]])


def test_any_text_is_a_valid_search() -> None:
    """Random text from every corner of Unicode, FTS5 operators included, never fails to run."""
    db = sqlite3.connect(":memory:")
    db.execute(
        "CREATE VIRTUAL TABLE t USING fts5 (text, tokenize = 'unicode61 remove_diacritics 2')"
    )
    db.execute("INSERT INTO t VALUES (?)", ("groupby sum \u00b2 \u02b9x caf\u00e9 \u6570 \uff46",))
    rng = random.Random(11)
    alphabet = (
        list('"*:^-+(){}[],.;\'\\/ \t\n') + ["AND", "OR", "NOT", "NEAR", "NEAR("]
        + [chr(c) for c in (0x2B9, 0xB2, 0x301, 0x200D, 0xFE0F, 0x1F600, 0x5B57, 0xFF46, 0x0)]
        + [chr(rng.randint(0x20, 0x2FFFF)) for _ in range(400)]
    )  # fmt: skip
    for _ in range(3000):
        query = "".join(rng.choices(alphabet, k=rng.randint(1, 12)))
        try:
            expression = match_expression(query)
        except EmptyQuery:
            assert not query.strip()
            continue
        if expression is not None:
            db.execute("SELECT count(*) FROM t WHERE t MATCH ?", (expression,)).fetchone()
