"""Full-text search over message text, session titles and annotation notes (SQLite FTS5)."""

from __future__ import annotations

import re
from typing import Any

import aiosqlite

_QUOTED = re.compile(r'"([^"]*)"?')
_TOKEN = re.compile(r"[^\W_]+")
_OPEN, _CLOSE = "\x02", "\x03"
SNIPPET_TOKENS = 16


class EmptyQuery(ValueError):
    """A search query with no text at all."""


def match_expression(query: str) -> str | None:
    """The FTS5 expression for what a user typed; None when it holds no searchable word.

    User text is never FTS5 syntax: every word becomes a quoted prefix phrase of its tokens
    (``df.grou`` -> ``"df grou"*``), every ``"quoted phrase"`` an exact phrase, all ANDed.
    """
    if not query.strip():
        raise EmptyQuery("the search query is empty")
    terms: list[str] = []
    position = 0
    for quoted in _QUOTED.finditer(query):
        terms += _words(query[position : quoted.start()])
        tokens = _TOKEN.findall(quoted.group(1))
        if tokens:
            terms.append('"' + " ".join(tokens) + '"')
        position = quoted.end()
    terms += _words(query[position:])
    return " AND ".join(terms) if terms else None


def _words(text: str) -> list[str]:
    phrases = (" ".join(_TOKEN.findall(word)) for word in text.split())
    return [f'"{phrase}"*' for phrase in phrases if phrase]


def highlighted(marked: str) -> tuple[str, list[list[int]]]:
    """Plain snippet text and the [start, end) ranges FTS5 marked in it."""
    text: list[str] = []
    ranges: list[list[int]] = []
    length = 0
    start = -1
    for piece in re.split(f"([{_OPEN}{_CLOSE}])", marked):
        if piece == _OPEN:
            start = length
        elif piece == _CLOSE:
            if start >= 0 and length > start:
                ranges.append([start, length])
            start = -1
        else:
            text.append(piece)
            length += len(piece)
    return "".join(text), ranges


async def search(
    db: aiosqlite.Connection, expression: str, limit: int, offset: int
) -> list[dict[str, Any]]:
    """Hits best first (bm25, then newest), one page of ``limit`` after ``offset``."""
    # The page is ranked and cut on rowids alone (ties: the newest document first, so pages
    # never overlap); snippets and joins are then made for that page only.
    sql = f"""
        WITH best AS (
            SELECT rowid AS doc, rank FROM search_index WHERE search_index MATCH :expression
            ORDER BY rank, rowid DESC LIMIT :limit OFFSET :offset
        )
        SELECT d.session_id, d.message_id, d.kind, s.title, m.role,
            coalesce(m.created_at, s.created_at) AS created_at,
            snippet(search_index, 0, '{_OPEN}', '{_CLOSE}', '…', {SNIPPET_TOKENS}) AS marked
        FROM best
        JOIN search_index ON search_index.rowid = best.doc
        JOIN search_docs d ON d.id = best.doc
        JOIN sessions s ON s.id = d.session_id
        LEFT JOIN messages m ON m.id = d.message_id
        WHERE search_index MATCH :expression
        ORDER BY best.rank, best.doc DESC
    """
    hits = []
    query = {"expression": expression, "limit": limit, "offset": offset}
    async with db.execute(sql, query) as rows:
        async for row in rows:
            snippet, ranges = highlighted(row["marked"])
            hits.append(
                {
                    "session_id": row["session_id"],
                    "message_id": row["message_id"],
                    "kind": row["kind"],
                    "title": row["title"],
                    "role": row["role"],
                    "created_at": row["created_at"],
                    "snippet": snippet,
                    "highlights": ranges,
                }
            )
    return hits


MATCHING_SESSIONS = (
    "SELECT d.session_id FROM search_index JOIN search_docs d ON d.id = search_index.rowid"
    " WHERE search_index MATCH ?"
)
"""Sessions with any document matching an expression (a sub-select for list filters)."""

SESSION_MATCHES = (
    "EXISTS (SELECT 1 FROM search_docs d WHERE d.session_id = sessions.id"
    " AND +d.id IN (SELECT rowid FROM search_index WHERE search_index MATCH ?))"
)
"""Whether the row's session has a document matching an expression (a list filter).

The matching documents are listed once per query; the unary ``+`` keeps SQLite from probing
the session's documents once per listed hit instead of testing each against the list.
"""

# Hits in at least one document per this many sessions: a walk down the sessions, newest
# first, fills a page after a few hundred sessions (10 ms on 50,000 of 100,000), while
# collecting every matching session and sorting them costs ~3 us a hit (280 ms there).
WALK_DENSITY = 25


async def is_common(db: aiosqlite.Connection, expression: str) -> bool:
    """Whether an expression matches so many documents that walking the sessions is faster."""
    # max(rowid) counts sessions from above without reading the table.
    async with db.execute("SELECT coalesce(max(rowid), 0) FROM sessions") as cursor:
        row = await cursor.fetchone()
    enough = max(1, int(row[0] if row else 0) // WALK_DENSITY)
    async with db.execute(
        "SELECT count(*) FROM (SELECT 1 FROM search_index WHERE search_index MATCH ? LIMIT ?)",
        (expression, enough),
    ) as cursor:
        row = await cursor.fetchone()
    return int(row[0] if row else 0) >= enough
