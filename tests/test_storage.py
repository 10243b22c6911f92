"""Storage: every file we or opencode create is private; SQLite stays off network file systems."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest

from jupyter_opencode.server.storage import filesystem_type, place_databases

from .streams import Api


def _modes(root: Path) -> dict[str, int]:
    """Every file and folder under ``root`` (itself included) with its permission bits."""
    found = {str(root): stat.S_IMODE(root.stat().st_mode)}
    for folder, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            path = Path(folder) / name
            if not path.is_symlink():
                found[str(path)] = stat.S_IMODE(path.stat().st_mode)
    return found


class TestPrivateFiles:
    """A fresh database folder and worker home: after an answer, nothing is open to others."""

    @pytest.fixture
    def jp_server_config(self, jp_server_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
        """Database and worker home in folders this test alone uses."""
        jp_server_config["OpencodeExtension"]["db_path"] = str(tmp_path / "state" / "sessions.db")
        jp_server_config["OpencodeExtension"]["worker_home"] = str(tmp_path / "state" / "home")
        return jp_server_config

    async def test_everything_is_0600_or_0700(self, api: Api, tmp_path: Path) -> None:
        answer = await api.ask("session-modes-1", "hello")
        assert answer["status"] == "complete"
        modes = _modes(tmp_path / "state")
        assert str(tmp_path / "state" / "home" / "data" / "opencode" / "opencode.db") in modes
        assert any(p.endswith("sessions.db-wal") for p in modes)
        loose = {
            path: oct(mode)
            for path, mode in modes.items()
            if mode != (0o700 if Path(path).is_dir() else 0o600)
        }
        assert not loose


class TestNetworkFileSystem:
    """The database folder is on a file system SQLite cannot trust: both databases move."""

    @pytest.fixture
    def jp_server_config(self, jp_server_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
        """This machine's own file system type for tmp_path, declared unsafe; an old database."""
        kind = filesystem_type(tmp_path)
        assert kind is not None
        shared = tmp_path / "shared"
        shared.mkdir()
        with sqlite3.connect(shared / "sessions.db") as db:
            db.execute("CREATE TABLE earlier (note TEXT)")
            db.execute("INSERT INTO earlier VALUES ('kept')")
        db.close()
        jp_server_config["OpencodeExtension"].update(
            db_path=str(shared / "sessions.db"),
            worker_home=str(shared / "home"),
            local_storage_dir=str(tmp_path / "local"),
            unsafe_filesystems=[kind],
        )
        return jp_server_config

    async def test_databases_move_to_the_local_folder(
        self, api: Api, jp_serverapp: Any, tmp_path: Path
    ) -> None:
        app = jp_serverapp.web_app.settings["jupyter_opencode_app"]
        local = tmp_path / "local"
        assert app.db_path == str(local / "sessions.db")
        assert app.opencode_db == str(local / "opencode.db")
        assert stat.S_IMODE(local.stat().st_mode) == 0o700
        answer = await api.ask("session-nfs-1", "hello")
        assert answer["status"] == "complete"
        # The sessions written before are still there, and opencode wrote its own beside them.
        with sqlite3.connect(local / "sessions.db") as db:
            assert db.execute("SELECT note FROM earlier").fetchall() == [("kept",)]
            assert db.execute("SELECT count(*) FROM sessions").fetchone() == (1,)
        db.close()
        assert (local / "opencode.db").is_file()
        assert not (tmp_path / "shared" / "home" / "data" / "opencode" / "opencode.db").exists()
        assert (await api.call("GET", "sessions", "session-nfs-1"))[0] == 200


def test_mount_table_of_a_network_home(tmp_path: Path) -> None:
    """A mount table naming NFS for /home (no NFS server here to mount a real one)."""
    table = tmp_path / "mounts"
    table.write_text(
        "/dev/vda / ext4 rw,relatime 0 0\n"
        "filer:/export/home /home nfs4 rw,vers=4.2 0 0\n"
        "filer:/scratch /home/ann/local\\040disk ext4 rw 0 0\n"
    )
    assert filesystem_type(Path("/home/ann/.local/share/x.db"), table) == "nfs4"
    assert filesystem_type(Path("/home/ann/local disk/x.db"), table) == "ext4"
    assert filesystem_type(Path("/srv/x.db"), table) == "ext4"
    placed = place_databases(
        Path("/home/ann/.local/share/jupyter/jupyter_opencode/sessions.db"),
        Path("/srv/worker-home"),
        None,
        tmp_path / "local",
        mount_table=table,
    )
    assert placed.db_path == tmp_path / "local" / "sessions.db"
    assert placed.opencode_db is None
    assert "nfs4" in placed.warnings[0] and "OpencodeExtension.db_path" in placed.warnings[0]
