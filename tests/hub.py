"""A JupyterHub on loopback: LocalProcessSpawner, the dummy authenticator, throwaway users.

Everything listens on 127.0.0.1 on free ports. The hub, its proxy (configurable-http-proxy from
npm) and the single-user servers run from the deploy venv; the users are system users made
with ``useradd`` for one test session and removed after it with whatever they left running.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from jupyter_opencode.testing import free_port, quiet_lab_settings

from .deploy import DeployVenv, clean_environment

PASSWORD = "hub-test-password"
START_TIMEOUT = 90.0

_CONFIG = """\
c = get_config()  # noqa: F821
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.ConfigurableHTTPProxy.command = [{proxy!r}]
c.JupyterHub.db_url = "sqlite:///{state}/hub.sqlite"
c.JupyterHub.cookie_secret_file = "{state}/cookie_secret"
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = {password!r}
c.Authenticator.allowed_users = set({users!r})
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [{singleuser!r}]
c.Spawner.default_url = "/lab"
c.Spawner.args = {args!r}
c.Spawner.environment = {environment!r}
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
# jupyter_server answers the spawner's SIGINT with a y/n prompt: go on to SIGTERM at once.
c.LocalProcessSpawner.interrupt_timeout = 1
# At the end the users' processes are ended with the users themselves (faster than a stop each).
c.JupyterHub.cleanup_servers = False
c.JupyterHub.services = [{{"name": "tester", "api_token": {token!r}}}]
c.JupyterHub.load_roles = [
    {{
        "name": "tester",
        "scopes": ["admin:users", "admin:servers", "tokens", "access:servers"],
        "services": ["tester"],
    }}
]
"""

_SINGLEUSER_ARGS = [
    "--OpencodeExtension.activity_interval=1",
    "--LabApp.expose_app_in_browser=True",
    "--LabApp.news_url=None",
    "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
]


def install_proxy(prefix: Path) -> Path:
    """configurable-http-proxy from npm, under ``prefix``; its command."""
    subprocess.run(
        ["npm", "install", "--prefix", str(prefix), "--no-audit", "--no-fund",
         "configurable-http-proxy@5"],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    return prefix / "node_modules" / ".bin" / "configurable-http-proxy"


@contextmanager
def system_users(count: int) -> Iterator[list[str]]:
    """``count`` new system users with home folders, removed (with their processes) after."""
    stem = f"johub{secrets.token_hex(3)}"
    names = [f"{stem}{chr(ord('a') + i)}" for i in range(count)]
    try:
        for name in names:
            subprocess.run(["useradd", "-m", "-s", "/bin/bash", name], check=True, timeout=60)
            # No news prompt over the chat in their JupyterLab (as in the other browser tests).
            jupyter = Path(pwd.getpwnam(name).pw_dir) / ".jupyter"
            quiet_lab_settings(jupyter / "lab" / "user-settings")
            shutil.chown(jupyter, name, name)
            for path in jupyter.rglob("*"):
                shutil.chown(path, name, name)
        yield names
    finally:
        for name in names:
            end_processes_of(name)
            subprocess.run(["userdel", "-r", name], capture_output=True, timeout=60)


def processes_of(user: str) -> list[int]:
    """The ids of the processes running as ``user``."""
    try:
        uid = pwd.getpwnam(user).pw_uid
    except KeyError:
        return []
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    found.append(int(entry.name))
            except FileNotFoundError:
                continue
    return found


def end_processes_of(user: str) -> None:
    """SIGKILL whatever a throwaway test user still runs."""
    for pid in processes_of(user):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
    deadline = time.monotonic() + 10  # userdel refuses a user whose processes still exist
    while processes_of(user) and time.monotonic() < deadline:
        time.sleep(0.1)


def run_as(user: str, *command: str) -> subprocess.CompletedProcess[str]:
    """Run ``command`` as ``user`` (what one user's own process may do)."""
    return subprocess.run(
        ["runuser", "-u", user, "--", *command], capture_output=True, text=True, timeout=60
    )


class Hub:
    """A running JupyterHub; ``api`` calls its REST API as the test's admin service."""

    def __init__(self, state: Path, venv: DeployVenv, proxy: Path, users: list[str]) -> None:
        self.state = state
        self.venv = venv
        self.proxy = proxy
        self.users = users
        self.port = free_port()
        self.token = secrets.token_hex(32)
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = state / "hub.log"

    @property
    def url(self) -> str:
        """The proxy's public URL, ending in '/'."""
        return f"http://127.0.0.1:{self.port}/"

    def config(self) -> str:
        """The hub's ``jupyterhub_config.py``."""
        return _CONFIG.format(
            port=self.port,
            hub_port=free_port(),
            proxy_api_port=free_port(),
            proxy=str(self.proxy),
            state=self.state,
            password=PASSWORD,
            users=self.users,
            singleuser=str(self.venv.bin / "jupyterhub-singleuser"),
            args=_SINGLEUSER_ARGS,
            # The single-user server tells the hub its activity every 2 s (default 300).
            environment={
                "JUPYTERHUB_ACTIVITY_INTERVAL": "2",
                "PATH": f"{self.venv.bin}{os.pathsep}/usr/local/bin:/usr/bin:/bin",
            },
            token=self.token,
        )

    def start(self) -> None:
        """Start the hub and wait until its API answers through the proxy."""
        config = self.state / "jupyterhub_config.py"
        config.write_text(self.config())
        env = clean_environment()
        env["PATH"] = f"{self.venv.bin}{os.pathsep}{env['PATH']}"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [str(self.venv.bin / "jupyterhub"), "-f", str(config)],
                cwd=self.state,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.wait_for(lambda: self.api("GET", "") is not None, "the hub's API")

    def wait_for(self, check: Any, what: str, timeout: float = START_TIMEOUT) -> Any:
        """Poll ``check()`` until it returns something true."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None and self.proc.poll() is None, self.tail()
            try:
                if result := check():
                    return result
            except (OSError, urllib.error.HTTPError):
                pass
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}\n{self.tail()}")

    def tail(self) -> str:
        """The end of the hub's log."""
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""

    def request(
        self, method: str, path: str, token: str, body: Any = None, timeout: float = 30.0
    ) -> tuple[int, Any]:
        """A JSON request through the proxy with ``token``; (status, body)."""
        request = urllib.request.Request(
            f"{self.url}{path}",
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"token {token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                raw = response.read()
                status = response.status
        except urllib.error.HTTPError as e:
            with e:
                raw, status = e.read(), e.code
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode(errors="replace")

    def api(self, method: str, path: str, body: Any = None) -> Any:
        """The hub's REST API as the admin service; raises on an error status."""
        status, answer = self.request(method, f"hub/api/{path}", self.token, body)
        if status >= 400:
            raise urllib.error.HTTPError(path, status, str(answer), None, None)  # type: ignore[arg-type]
        return answer

    def start_server(self, user: str) -> str:
        """Start ``user``'s server unless it runs; a token of that user's own for it."""
        if not self.api("GET", f"users/{user}")["servers"]:
            self.api("POST", f"users/{user}/server")
        self.wait_for(
            lambda: self.api("GET", f"users/{user}")["servers"].get("", {}).get("ready"),
            f"{user}'s server",
        )
        token: str = self.api("POST", f"users/{user}/tokens", {"note": "test"})["token"]
        return token

    def stop_server(self, user: str) -> None:
        """Stop ``user``'s server (as the idle culler does) and wait until it is gone."""
        self.api("DELETE", f"users/{user}/server")
        self.wait_for(lambda: not self.api("GET", f"users/{user}")["servers"], f"{user} stopped")

    def stop(self) -> None:
        """Stop the hub (and its proxy and the servers it spawned)."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@contextmanager
def running_hub(state: Path, venv: DeployVenv, proxy: Path, users: list[str]) -> Iterator[Hub]:
    """A started hub, stopped after."""
    state.mkdir(parents=True, exist_ok=True)
    hub = Hub(state, venv, proxy, users)
    try:
        hub.start()
        yield hub
    finally:
        hub.stop()


def home_of(user: str) -> Path:
    """The user's home folder."""
    return Path(pwd.getpwnam(user).pw_dir)


def listening_port(pid: int) -> int:
    """The TCP port process ``pid`` listens on (its sockets' inodes in /proc/net/tcp)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            if (target := os.readlink(fd)).startswith("socket:["):
                inodes.add(target[8:-1])
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
            return int(fields[1].rsplit(":", 1)[1], 16)
    raise AssertionError(f"process {pid} listens on no TCP port")


def can_run_useradd() -> bool:
    """Whether this process may create system users."""
    return os.geteuid() == 0 and shutil.which("useradd") is not None
