"""Schema of the session database, as forward-only migrations keyed by ``PRAGMA user_version``."""

from __future__ import annotations

MIGRATIONS: list[str] = [
    # 1: sessions, messages and the chunks streamed into them.
    """
    CREATE TABLE IF NOT EXISTS sessions (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL DEFAULT '',
        model TEXT,
        status TEXT NOT NULL DEFAULT 'idle',
        parent_id TEXT,
        fork_message_id TEXT,
        opencode_session_id TEXT,
        notebook_path TEXT,
        settings TEXT NOT NULL DEFAULT '{}',
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        last_activity REAL NOT NULL,
        message_count INTEGER NOT NULL DEFAULT 0,
        tokens INTEGER NOT NULL DEFAULT 0,
        cost REAL NOT NULL DEFAULT 0,
        first_message_preview TEXT NOT NULL DEFAULT '',
        starred INTEGER NOT NULL DEFAULT 0,
        archived INTEGER NOT NULL DEFAULT 0,
        tags TEXT NOT NULL DEFAULT '[]'
    );
    CREATE INDEX IF NOT EXISTS sessions_recent ON sessions (updated_at DESC, id DESC);
    CREATE TABLE IF NOT EXISTS messages (
        id TEXT PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        role TEXT NOT NULL,
        status TEXT NOT NULL,
        content TEXT NOT NULL DEFAULT '',
        error TEXT,
        model TEXT,
        tokens INTEGER NOT NULL DEFAULT 0,
        cost REAL NOT NULL DEFAULT 0,
        created_at REAL NOT NULL,
        completed_at REAL,
        context TEXT NOT NULL DEFAULT '[]',
        parts TEXT NOT NULL DEFAULT '[]'
    );
    CREATE INDEX IF NOT EXISTS messages_by_session ON messages (session_id);
    CREATE INDEX IF NOT EXISTS messages_open ON messages (status)
        WHERE status IN ('pending', 'streaming');
    CREATE TABLE IF NOT EXISTS chunks (
        session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        message_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        payload TEXT NOT NULL,
        PRIMARY KEY (session_id, seq)
    ) WITHOUT ROWID;
    """,
    # notebook tools: "Always" answers per session and kind of change; every change, for undo.
    """
    CREATE TABLE IF NOT EXISTS notebook_always (
        session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        created_at REAL NOT NULL,
        PRIMARY KEY (session_id, kind)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS notebook_changes (
        id INTEGER PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        message_id TEXT NOT NULL,
        path TEXT NOT NULL,
        change TEXT NOT NULL,
        created_at REAL NOT NULL,
        undone_at REAL
    );
    CREATE INDEX IF NOT EXISTS notebook_changes_by_message ON notebook_changes (message_id);
    """,
]
