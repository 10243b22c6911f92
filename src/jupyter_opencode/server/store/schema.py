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
    # 2: which server process is writing an open answer, so only its owner's recovery ends it.
    """
    ALTER TABLE messages ADD COLUMN owner TEXT;
    """,
    # 3: the session library: full-text search, tags, annotations, templates, list indexes.
    # Search documents (message text, titles, annotation notes) are kept by triggers, so every
    # way of writing messages indexes them once they are final (never per streamed chunk).
    """
    CREATE INDEX IF NOT EXISTS sessions_page ON sessions (id, updated_at, archived, starred);
    CREATE INDEX IF NOT EXISTS sessions_by_notebook
        ON sessions (notebook_path, updated_at DESC, id DESC);
    CREATE TABLE IF NOT EXISTS session_tags (
        tag TEXT NOT NULL,
        session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        PRIMARY KEY (tag, session_id)
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS session_tags_by_session ON session_tags (session_id);
    CREATE TRIGGER IF NOT EXISTS session_tags_insert AFTER INSERT ON sessions BEGIN
        INSERT OR IGNORE INTO session_tags (tag, session_id)
            SELECT value, new.id FROM json_each(new.tags);
    END;
    CREATE TRIGGER IF NOT EXISTS session_tags_update AFTER UPDATE OF tags ON sessions BEGIN
        DELETE FROM session_tags WHERE session_id = new.id;
        INSERT OR IGNORE INTO session_tags (tag, session_id)
            SELECT value, new.id FROM json_each(new.tags);
    END;
    CREATE TABLE IF NOT EXISTS annotations (
        message_id TEXT PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
        session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        rating TEXT,
        note TEXT NOT NULL DEFAULT '',
        updated_at REAL NOT NULL
    );
    CREATE INDEX IF NOT EXISTS annotations_by_session ON annotations (session_id);
    CREATE TABLE IF NOT EXISTS templates (
        name TEXT PRIMARY KEY,
        model TEXT,
        agent TEXT,
        instructions TEXT,
        created_at REAL NOT NULL
    );
    CREATE TABLE IF NOT EXISTS search_docs (
        id INTEGER PRIMARY KEY,
        session_id TEXT NOT NULL,
        message_id TEXT,
        kind TEXT NOT NULL,
        text TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS search_docs_by_session ON search_docs (session_id);
    CREATE INDEX IF NOT EXISTS search_docs_by_message ON search_docs (message_id)
        WHERE message_id IS NOT NULL;
    CREATE VIRTUAL TABLE IF NOT EXISTS search_index USING fts5 (
        text, content = 'search_docs', content_rowid = 'id',
        tokenize = 'unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER IF NOT EXISTS search_docs_insert AFTER INSERT ON search_docs BEGIN
        INSERT INTO search_index (rowid, text) VALUES (new.id, new.text);
    END;
    CREATE TRIGGER IF NOT EXISTS search_docs_delete AFTER DELETE ON search_docs BEGIN
        INSERT INTO search_index (search_index, rowid, text) VALUES ('delete', old.id, old.text);
    END;
    -- char(2) and char(3) mark hits in snippets: they are never part of indexed text.
    CREATE TRIGGER IF NOT EXISTS search_message_insert AFTER INSERT ON messages
    WHEN new.status NOT IN ('pending', 'streaming') AND new.content != '' BEGIN
        INSERT INTO search_docs (session_id, message_id, kind, text) VALUES (new.session_id,
            new.id, 'message', replace(replace(new.content, char(2), ''), char(3), ''));
    END;
    CREATE TRIGGER IF NOT EXISTS search_message_update AFTER UPDATE OF status, content
    ON messages WHEN new.status NOT IN ('pending', 'streaming') BEGIN
        DELETE FROM search_docs WHERE message_id = new.id AND kind = 'message';
        INSERT INTO search_docs (session_id, message_id, kind, text)
            SELECT new.session_id, new.id, 'message',
                replace(replace(new.content, char(2), ''), char(3), '')
            WHERE new.content != '';
    END;
    CREATE TRIGGER IF NOT EXISTS search_message_delete AFTER DELETE ON messages BEGIN
        DELETE FROM search_docs WHERE message_id = old.id;
    END;
    CREATE TRIGGER IF NOT EXISTS search_title_insert AFTER INSERT ON sessions
    WHEN new.title != '' BEGIN
        INSERT INTO search_docs (session_id, kind, text) VALUES (new.id, 'title',
            replace(replace(new.title, char(2), ''), char(3), ''));
    END;
    CREATE TRIGGER IF NOT EXISTS search_title_update AFTER UPDATE OF title ON sessions BEGIN
        DELETE FROM search_docs WHERE session_id = new.id AND kind = 'title';
        INSERT INTO search_docs (session_id, kind, text)
            SELECT new.id, 'title', replace(replace(new.title, char(2), ''), char(3), '')
            WHERE new.title != '';
    END;
    CREATE TRIGGER IF NOT EXISTS search_session_delete AFTER DELETE ON sessions BEGIN
        DELETE FROM search_docs WHERE session_id = old.id;
    END;
    CREATE TRIGGER IF NOT EXISTS search_note_insert AFTER INSERT ON annotations
    WHEN new.note != '' BEGIN
        INSERT INTO search_docs (session_id, message_id, kind, text) VALUES (new.session_id,
            new.message_id, 'note', replace(replace(new.note, char(2), ''), char(3), ''));
    END;
    CREATE TRIGGER IF NOT EXISTS search_note_update AFTER UPDATE OF note ON annotations BEGIN
        DELETE FROM search_docs WHERE message_id = new.message_id AND kind = 'note';
        INSERT INTO search_docs (session_id, message_id, kind, text)
            SELECT new.session_id, new.message_id, 'note',
                replace(replace(new.note, char(2), ''), char(3), '')
            WHERE new.note != '';
    END;
    CREATE TRIGGER IF NOT EXISTS search_note_delete AFTER DELETE ON annotations BEGIN
        DELETE FROM search_docs WHERE message_id = old.message_id AND kind = 'note';
    END;
    """,
    # 4: where an imported session came from (JSON: original id, title, export time).
    """
    ALTER TABLE sessions ADD COLUMN imported_from TEXT;
    """,
    # 5: notebook tools: "Always" answers per session and kind of change; every change, for undo.
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
    # 6: ids of deleted sessions, so that a late prompt from a stale client cannot revive one.
    """
    CREATE TABLE IF NOT EXISTS deleted_sessions (
        id TEXT PRIMARY KEY,
        deleted_at REAL NOT NULL
    ) WITHOUT ROWID;
    """,
    # 7 (file changes, context): each file opencode's edit tools changed, as it was before the
    # answer and as the answer left it, for undo; the tokens of each session's context window and
    # the model's limit.
    """
    ALTER TABLE sessions ADD COLUMN context_tokens INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE sessions ADD COLUMN context_limit INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE IF NOT EXISTS file_changes (
        id INTEGER PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        message_id TEXT NOT NULL,
        path TEXT NOT NULL,
        before BLOB,
        after BLOB,
        settled INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL,
        undone_at REAL,
        UNIQUE (message_id, path)
    );
    """,
    # 8: files and images sent with a user message; their names are searched.
    """
    ALTER TABLE messages ADD COLUMN attachments TEXT NOT NULL DEFAULT '[]';
    CREATE TRIGGER IF NOT EXISTS search_attachment_insert AFTER INSERT ON messages
    WHEN new.attachments != '[]' BEGIN
        INSERT INTO search_docs (session_id, message_id, kind, text)
            SELECT new.session_id, new.id, 'attachment',
                replace(replace(group_concat(json_extract(value, '$.name'), ' '),
                    char(2), ''), char(3), '')
            FROM json_each(new.attachments);
    END;
    """,
]
