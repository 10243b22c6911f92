"""Where the SQLite files live: never on a file system whose locking SQLite cannot trust.

SQLite's locks are unreliable on network file systems (NFS, SMB, ...), where a database can be
corrupted. Home folders on JupyterHub often are such mounts, so the session database and
opencode's own database move to a local folder, with a warning that says where and why.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..worker.environment import private_dir

log = logging.getLogger(__name__)

MOUNT_TABLE = Path("/proc/mounts")
UNSAFE_FILESYSTEMS = (
    "nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "afs", "lustre", "glusterfs", "ceph",
    "fuse.sshfs", "fuse.s3fs", "fuse.gcsfuse", "fuse.glusterfs", "fuse.cephfs", "fuse.juicefs",
)  # fmt: skip


def _unescape(field: str) -> str:
    """A mount table field with its octal escapes (``\\040`` for a space) decoded."""
    return field.encode().decode("unicode_escape") if "\\" in field else field


def filesystem_type(path: Path, mount_table: Path = MOUNT_TABLE) -> str | None:
    """The type of the file system holding ``path`` (or the folder it would be created in)."""
    try:
        lines = mount_table.read_text().splitlines()
    except OSError:
        return None
    existing, missing = path.expanduser().absolute(), []
    while not existing.exists() and existing != existing.parent:
        missing.append(existing.name)
        existing = existing.parent
    target = existing.resolve().joinpath(*reversed(missing))
    best: tuple[int, str] | None = None
    for line in lines:
        fields = line.split()
        if len(fields) < 3:
            continue
        mount_point = Path(_unescape(fields[1]))
        if (target == mount_point or mount_point in target.parents) and (
            best is None or len(mount_point.parts) >= best[0]
        ):
            best = (len(mount_point.parts), fields[2])
    return best[1] if best else None


def default_local_dir() -> Path:
    """A folder on this machine's own disk, per user (``/var/tmp`` survives reboots)."""
    base = Path("/var/tmp") if Path("/var/tmp").is_dir() else Path(tempfile.gettempdir())
    return base / f"jupyter-opencode-{os.getuid()}"


@dataclass(frozen=True)
class Placement:
    """Where the session database and opencode's own database go."""

    db_path: Path
    opencode_db: Path | None
    warnings: tuple[str, ...] = ()


def _own_local_dir(path: Path) -> Path:
    """The local folder, created 0700, refused if someone else owns it."""
    private_dir(path)
    if path.stat().st_uid != os.getuid():
        raise ValueError(f"local_storage_dir {path} belongs to another user")
    return path


def _copy_database(source: Path, target: Path) -> None:
    """A consistent copy of an SQLite database (its WAL included), 0600."""
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def place_databases(
    db_path: Path,
    worker_home: Path,
    opencode_db: Path | None,
    local_dir: Path,
    unsafe: tuple[str, ...] | list[str] = UNSAFE_FILESYSTEMS,
    mount_table: Path = MOUNT_TABLE,
) -> Placement:
    """Keep both databases off network file systems; say what moved, and copy what existed."""
    warnings = []
    own_db = opencode_db or worker_home / "data" / "opencode" / "opencode.db"
    if (kind := filesystem_type(db_path.parent, mount_table)) in unsafe:
        local = _own_local_dir(local_dir) / db_path.name
        copied = ""
        if db_path.is_file() and not local.exists():
            _copy_database(db_path, local)
            copied = f"; the sessions already in {db_path} were copied there"
        warnings.append(
            f"db_path {db_path} is on {kind}, where SQLite locking is unsafe: using {local}"
            f" instead{copied}. Set OpencodeExtension.db_path (or local_storage_dir) to a"
            " folder on a local disk that persists to keep sessions across restarts."
        )
        db_path = local
    if (kind := filesystem_type(own_db.parent, mount_table)) in unsafe:
        moved = _own_local_dir(local_dir) / "opencode.db"
        copied = ""
        if own_db.is_file() and not moved.exists():
            _copy_database(own_db, moved)
            copied = " (a copy of the existing one)"
        warnings.append(
            f"opencode's own database under {own_db} would be on {kind}, where SQLite locking is"
            f" unsafe: opencode uses {moved}{copied} instead (OPENCODE_DB). Set"
            " OpencodeExtension.opencode_db or worker_home to a local disk to choose."
        )
        opencode_db = moved
    return Placement(db_path, opencode_db, tuple(warnings))
