"""From the published wheel to a team on JupyterHub, with nothing of this checkout in the way.

In order (one venv and one hub for the module): the wheel and sdist carry the built JS; a
fresh venv lists the extensions as enabled; the Dockerfile's lines install it, and before the
worker is installed the first prompt says which command to run; then a real JupyterHub with
two system users: each is answered through the proxy (browser, REST, WebSocket), neither gets
anything of the other's, both stream at once, a streaming answer is activity, and a stopped
server leaves no process behind.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import stat
import tarfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

from jupyter_opencode._version import __version__
from jupyter_opencode.kernel.client import close_socket
from jupyter_opencode.testing import JupyterProcess, chromium, expected_text
from jupyter_opencode.worker.install import OPENCODE_VERSION

from .deploy import DeployVenv, clean_environment
from .hub import (
    PASSWORD,
    Hub,
    can_run_useradd,
    home_of,
    install_proxy,
    listening_port,
    processes_of,
    run_as,
    running_hub,
    system_users,
)
from .streams import time_limit

# Building the wheel and a venv, or logging two users in, can take minutes on a loaded machine.
pytestmark = pytest.mark.timeout(900)

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
FINAL = ("complete", "error", "interrupted", "aborted")


def _plain(text: str) -> str:
    return _ANSI.sub("", text)


# The wheel, the sdist, the Dockerfile


def test_wheel_and_sdist_carry_the_built_js(deploy_venv: DeployVenv) -> None:
    wheel = set(zipfile.ZipFile(deploy_venv.dist.wheel).namelist())
    assert "jupyter_opencode/static/chat.js" in wheel
    data = f"jupyter_opencode-{__version__}.data/data"
    shared = f"{data}/share/jupyter/labextensions/jupyter-opencode/"
    assert {f"{shared}package.json", f"{shared}install.json"} <= wheel
    assert any(n.startswith(f"{shared}static/remoteEntry.") for n in wheel)
    assert f"{data}/etc/jupyter/jupyter_server_config.d/jupyter_opencode.json" in wheel
    with tarfile.open(deploy_venv.dist.sdist) as sdist:
        names = {name.partition("/")[2] for name in sdist.getnames()}
    assert {
        "src/jupyter_opencode/static/chat.js",
        "src/jupyter_opencode/labextension/package.json",
        "deploy/Dockerfile",
    } <= names
    assert not any("node_modules" in n for n in names)


def test_dockerfile_installs_it_and_first_use_names_the_missing_worker(
    deploy_venv: DeployVenv, tmp_path: Path
) -> None:
    commands = deploy_venv.dockerfile_commands()
    assert [c[:2] for c in commands] == [["pip", "install"], ["jupyter", "opencode"]]
    deploy_venv.run(*commands[0])  # pip install jupyter-opencode (the wheel)

    servers = _plain(deploy_venv.run("jupyter", "server", "extension", "list"))
    assert re.search(r"jupyter_opencode enabled", servers), servers
    assert f"jupyter_opencode {__version__} OK" in servers, servers
    labs = _plain(deploy_venv.run("jupyter", "labextension", "list"))
    assert f"jupyter-opencode v{__version__} enabled OK (python, jupyter-opencode)" in labs, labs
    assert "not compatible" not in labs and " X" not in labs, labs

    # No worker yet: the first prompt ends with the command that installs it.
    sid = "session-no-worker"
    env = {**clean_environment(), "XDG_CONFIG_HOME": str(tmp_path / "xdg-config")}
    with JupyterProcess(tmp_path, python=deploy_venv.python, env=env) as server:
        server.call("POST", f"opencode/sessions/{sid}/messages", {"text": "hello"})
        answer = _final(server, sid)
    assert answer["status"] == "error"
    assert "run `jupyter opencode install-worker`" in answer["error"]

    output = deploy_venv.run(*commands[1])  # jupyter opencode install-worker
    assert f"opencode {OPENCODE_VERSION} ready" in output
    deploy_venv.installed = True


def _final(server: JupyterProcess, sid: str, timeout: float = 90.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = server.call("GET", f"opencode/sessions/{sid}/messages")["messages"]
        if messages and messages[-1]["role"] == "assistant" and messages[-1]["status"] in FINAL:
            return dict(messages[-1])
        time.sleep(0.2)
    raise AssertionError(f"no answer in {sid}")


# A real JupyterHub with two system users

NOTEBOOK = nbformat.v4.new_notebook(
    cells=[nbformat.v4.new_code_cell("from jupyter_opencode import Chat\nChat()")],
    metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}},
)
FIGURES: dict[str, float] = {}


@pytest.fixture(autouse=True)
def jp_asyncio_loop() -> None:
    """No pytest-jupyter loop here: Playwright's sync API owns the thread's event loop."""


@pytest.fixture(autouse=True)
def jp_server_cleanup() -> None:
    """No in-process Jupyter server here."""


@pytest.fixture(scope="module")
def hub(deploy_venv: DeployVenv, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """JupyterHub with two new system users, each with a notebook showing a Chat."""
    if not can_run_useradd():
        pytest.skip("the hub test creates system users with useradd: it must run as root")
    deploy_venv.install()  # as the single-user image was built
    proxy = install_proxy(tmp_path_factory.mktemp("proxy"))
    with system_users(2) as users:
        for user in users:
            path = home_of(user) / "chat.ipynb"
            path.write_text(nbformat.writes(NOTEBOOK))
            owner = home_of(user).stat()
            os.chown(path, owner.st_uid, owner.st_gid)
        with running_hub(tmp_path_factory.mktemp("hub"), deploy_venv, proxy, users) as hub:
            yield hub
        print("\nhub figures (s):", json.dumps(FIGURES, indent=1))


@pytest.fixture(scope="module")
def tokens(hub: Hub) -> dict[str, str]:
    """An API token of each user's own, their servers started."""
    return {user: hub.start_server(user) for user in hub.users}


def _login(page: Any, hub: Hub, user: str) -> None:
    page.goto(f"{hub.url}hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", PASSWORD)
    page.click("#login_submit")


def test_each_user_is_answered_in_lab_after_login(hub: Hub) -> None:
    from playwright.sync_api import expect

    from .browser.lab import shot, wait_kernel_idle

    first, second = hub.users
    with chromium() as browser:
        for user in hub.users:
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            page = context.new_page()
            started = time.perf_counter()
            _login(page, hub, user)  # spawns the server, then opens /user/<name>/lab
            page.wait_for_url(re.compile(f"/user/{user}/lab"), timeout=120_000)
            page.wait_for_function("() => !!window.jupyterapp", timeout=120_000)
            page.evaluate("() => window.jupyterapp.restored")  # the layout is settled
            if user == first:
                # The notebook panel: run the cell showing a Chat, ask in it.
                page.goto(f"{hub.url}user/{user}/lab/tree/chat.ipynb")
                wait_kernel_idle(page)
                page.locator(".jp-Notebook .jp-Cell").first.locator(".jp-InputArea-editor").click()
                page.keyboard.press("Shift+Enter")
                view = page.locator(".jp-Notebook .jo-chat")
            else:
                # The sidebar: a new chat in a tab.
                command = "jupyter-opencode:open-sessions"
                page.wait_for_function(
                    f"() => window.jupyterapp.commands.hasCommand('{command}')", timeout=60_000
                )
                page.evaluate(f"window.jupyterapp.commands.execute('{command}')")
                page.locator("#jupyter-opencode-sessions").get_by_role(
                    "button", name="New chat"
                ).click()
                view = page.locator(".jp-MainAreaWidget:not(.lm-mod-hidden) > .jo-tab")
            box = view.get_by_role("textbox", name="Message")
            expect(box).to_be_visible(timeout=60_000)
            box.fill(f"hello from {user}")
            box.press("Enter")
            answer = view.locator(".jo-msg.jo-assistant").last
            expect(answer).to_have_class(re.compile("jo-status-complete"), timeout=90_000)
            expect(answer.locator(".jo-body")).to_contain_text(f"hello from {user}")
            FIGURES[f"login to first answer, {user}"] = round(time.perf_counter() - started, 1)
            shot(page, f"hub-{'panel' if user == first else 'sidebar'}")
            if user == second:
                # This user's cookie opens nothing of the other's server.
                other = page.goto(f"{hub.url}user/{first}/opencode/sessions")
                assert other is not None and other.status in (403, 404), other.status
                assert f"hello from {first}" not in page.content()
            context.close()


def _ws_frames(
    hub: Hub, user: str, token: str, sid: str, until: str, timeout: float = 90.0
) -> list[dict[str, Any]]:
    """Frames of ``sid`` from the user's stream socket (through the proxy) until it ends."""

    async def collect() -> list[dict[str, Any]]:
        url = f"ws://127.0.0.1:{hub.port}/user/{user}/opencode/stream"
        request = HTTPRequest(url, headers={"Authorization": f"token {token}"}, connect_timeout=30)
        ws = await websocket_connect(request)
        frames = []
        try:
            hello = await ws.read_message()
            assert isinstance(hello, str) and json.loads(hello)["type"] == "connected"
            ws.write_message(json.dumps({"type": "subscribe", "session_id": sid, "after_seq": 0}))
            async with time_limit(timeout):
                while True:
                    raw = await ws.read_message()
                    assert isinstance(raw, str), "the socket closed"
                    frame = json.loads(raw)
                    frame["at"] = time.perf_counter()
                    frames.append(frame)
                    message = frame["message"] if frame["type"] == "message" else {}
                    if message.get("id") == until and message.get("status") in FINAL:
                        return frames
        finally:
            await close_socket(ws)

    return asyncio.run(collect())


def test_two_users_stream_at_once_each_their_own_text(hub: Hub, tokens: dict[str, str]) -> None:
    asked = {}
    for user, token in tokens.items():
        sid = f"session-both-{user}"
        text = f"a question only {user} asks"
        status, body = hub.request(
            "POST", f"user/{user}/opencode/sessions/{sid}/messages", token, {"text": text}
        )
        assert status == 202, body
        asked[user] = (sid, text, body["assistant_message"]["id"], time.perf_counter())

    async def both() -> dict[str, list[dict[str, Any]]]:
        loop = asyncio.get_running_loop()
        jobs = {
            user: loop.run_in_executor(
                None, _ws_frames, hub, user, tokens[user], asked[user][0], asked[user][2]
            )
            for user in tokens
        }
        return {user: await job for user, job in jobs.items()}

    frames = asyncio.run(both())
    for user, (_sid, text, mid, sent) in asked.items():
        mine = [f for f in frames[user] if f.get("message_id") == mid or f["type"] == "message"]
        final = [f for f in mine if f["type"] == "message" and f["message"]["id"] == mid][-1]
        assert final["message"]["status"] == "complete"
        assert final["message"]["content"] == expected_text(text)
        deltas = "".join(f["delta"] for f in mine if f.get("kind") == "text")
        assert deltas == expected_text(text)
        others = [u for u in tokens if u != user]
        assert not any(f"only {o} asks" in json.dumps(frames[user]) for o in others)
        firsts = [f["at"] for f in frames[user] if f.get("delta")]
        FIGURES[f"both at once, first delta, {user}"] = round(firsts[0] - sent, 2)
        FIGURES[f"both at once, answer done, {user}"] = round(frames[user][-1]["at"] - sent, 2)


def test_one_users_token_gets_nothing_of_the_others(hub: Hub, tokens: dict[str, str]) -> None:
    owner, other = hub.users
    sid = f"session-both-{owner}"
    base = f"user/{owner}/opencode"
    status, listing = hub.request("GET", f"{base}/sessions", tokens[owner])
    assert status == 200 and sid in {s["id"] for s in listing["sessions"]}
    routes = [
        ("GET", "status"),
        ("GET", "sessions"),
        ("GET", f"sessions/{sid}"),
        ("GET", f"sessions/{sid}/messages"),
        ("GET", f"sessions/{sid}/export?format=md"),
        ("GET", "search?q=question"),
        ("POST", f"sessions/{sid}/messages"),
        ("DELETE", f"sessions/{sid}"),
    ]
    for method, route in routes:
        body = {"text": "steal"} if method == "POST" else None
        status, answer = hub.request(method, f"{base}/{route}", tokens[other], body)
        assert status == 403, (method, route, status, answer)
        assert "only" not in json.dumps(answer)
    with pytest.raises(HTTPClientError) as refused:
        _ws_frames(hub, owner, tokens[other], sid, until="none", timeout=10)
    assert refused.value.code == 403
    # The session is untouched.
    status, messages = hub.request("GET", f"{base}/sessions/{sid}/messages", tokens[owner])
    assert status == 200 and len(messages["messages"]) == 2


def test_one_users_processes_cannot_read_the_others_files(hub: Hub, tokens: dict[str, str]) -> None:
    owner, other = hub.users
    _, status = hub.request("GET", f"user/{owner}/opencode/status", tokens[owner])
    worker = status["worker"]["pid"]
    assert worker
    state = home_of(owner) / ".local" / "share" / "jupyter" / "jupyter_opencode"
    uid = home_of(owner).stat().st_uid
    found = [state, *state.rglob("*")]
    assert state / "sessions.db" in found
    assert state / "worker-home" / "data" / "opencode" / "opencode.db" in found
    for path in found:
        if path.is_symlink():
            continue
        info = path.stat()
        assert info.st_uid == uid, path
        assert stat.S_IMODE(info.st_mode) == (0o700 if path.is_dir() else 0o600), path
    for command in (
        ["cat", str(state / "sessions.db")],
        ["ls", str(state / "worker-home")],
        ["cat", f"/proc/{worker}/environ"],
    ):
        done = run_as(other, *command)
        assert done.returncode != 0 and "Permission denied" in done.stderr, (command, done)
    # Its worker answers nobody without the password that only its own environment holds.
    port = listening_port(worker)
    probe = (
        "import urllib.request, urllib.error\n"
        f"try: urllib.request.urlopen('http://127.0.0.1:{port}/session', timeout=10)\n"
        "except urllib.error.HTTPError as e: print(e.code)\n"
    )
    done = run_as(other, str(hub.venv.python), "-c", probe)
    assert done.stdout.strip() == "401", done


def test_streaming_answer_is_activity_and_a_stopped_server_leaves_nothing(
    hub: Hub, tokens: dict[str, str]
) -> None:
    user = hub.users[0]
    sid = "session-culler"
    status, body = hub.request(
        "POST",
        f"user/{user}/opencode/sessions/{sid}/messages",
        tokens[user],
        {"text": "[[slow:120:0.1]] a long run nobody watches"},
    )
    assert status == 202, body

    def last_activity() -> str:
        return str(hub.api("GET", f"users/{user}")["servers"][""]["last_activity"])

    time.sleep(4)
    early = last_activity()
    time.sleep(6)  # no request reaches the user's server meanwhile
    late = last_activity()
    assert late > early, (early, late)
    assert processes_of(user)
    hub.stop_server(user)  # what jupyterhub-idle-culler does to an idle server
    hub.wait_for(lambda: not processes_of(user), f"{user}'s processes to end", timeout=30)
