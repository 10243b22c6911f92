"""Find the Jupyter server that runs the jupyter-opencode extension."""

from __future__ import annotations

import os
from dataclasses import dataclass

URL_ENV = "JUPYTER_OPENCODE_URL"
TOKEN_ENV = "JUPYTER_OPENCODE_TOKEN"

NO_SERVER_MESSAGE = (
    "No Jupyter server with jupyter-opencode found: start JupyterLab (or jupyter server) "
    "with jupyter-opencode installed, or set JUPYTER_OPENCODE_URL and JUPYTER_OPENCODE_TOKEN."
)


@dataclass(frozen=True)
class ServerInfo:
    """Base URL (ending in '/') and token of one Jupyter server."""

    url: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        """HTTP headers that authenticate against this server."""
        return {"Authorization": f"token {self.token}"} if self.token else {}

    def api_url(self, path: str) -> str:
        """Absolute URL of `path` under the extension's API prefix."""
        return f"{self.url}opencode/{path}"

    def ws_url(self, path: str) -> str:
        """Absolute WebSocket URL of `path` under the extension's API prefix."""
        url = self.api_url(path)
        return "ws" + url[4:] if url.startswith("http") else url


def normalize_url(url: str) -> str:
    """Return `url` with exactly one trailing slash."""
    return url.rstrip("/") + "/"


def candidate_servers() -> list[ServerInfo]:
    """Servers to try, best first: the environment, else the runtime dir's server list."""
    url = os.environ.get(URL_ENV, "").strip()
    if url:
        return [ServerInfo(normalize_url(url), os.environ.get(TOKEN_ENV, ""))]
    from jupyter_server.serverapp import list_running_servers

    found = []
    for info in list_running_servers():
        url = info.get("url")
        if isinstance(url, str) and url:
            found.append(ServerInfo(normalize_url(url), str(info.get("token") or "")))
    return found
