"""Run the fake model server as a subprocess (never on the caller's event loop)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

_SRC_DIR = str(Path(__file__).resolve().parents[2])
_READY_PREFIX = "fake model listening on "


class FakeModelError(RuntimeError):
    """The fake model subprocess did not start."""


class FakeModelProcess:
    """Context manager that starts ``python -m jupyter_opencode.testing`` on a free port."""

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self.root = ""
        self._proc: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        """Return the OpenAI base URL, ``http://127.0.0.1:PORT/v1``."""
        return f"{self.root}/v1"

    def start(self) -> None:
        """Start the subprocess and wait for its listening line."""
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_SRC_DIR, env.get("PYTHONPATH")) if p)
        cmd = [sys.executable, "-m", "jupyter_opencode.testing", "--port", str(self.port)]
        self._proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline().strip()
        if not line.startswith(_READY_PREFIX):
            self.stop()
            raise FakeModelError(f"fake model did not start (printed {line!r})")
        self.root = line[len(_READY_PREFIX) :]
        self.port = int(self.root.rsplit(":", 1)[1])

    def stop(self) -> None:
        """Stop the subprocess: SIGTERM, then SIGKILL after 5 s."""
        if self._proc is None:
            return
        proc, self._proc = self._proc, None
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()

    def requests(self) -> list[dict[str, Any]]:
        """Return every chat completion request body the server received."""
        with urllib.request.urlopen(f"{self.root}/_requests", timeout=10) as response:
            result: list[dict[str, Any]] = json.load(response)
        return result

    def clear(self) -> None:
        """Forget the recorded request bodies."""
        request = urllib.request.Request(f"{self.root}/_requests", method="DELETE")
        with urllib.request.urlopen(request, timeout=10):
            pass

    def __enter__(self) -> FakeModelProcess:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
