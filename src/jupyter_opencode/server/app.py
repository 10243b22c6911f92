"""The Jupyter server extension: settings, routes, and the lifetime of the store and worker."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import secrets
from pathlib import Path
from typing import Any

from jupyter_core.paths import jupyter_data_dir
from jupyter_server.extension.application import ExtensionApp
from jupyter_server.serverapp import ServerApp
from jupyter_server.utils import url_path_join
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from traitlets import Float, Instance, Int, List, Unicode, default, validate

from ..notebook import setup as notebook_setup
from ..worker.environment import ProviderChoice, user_provider, write_config
from ..worker.supervisor import WorkerError, WorkerSupervisor
from .activity import ActivityReporter
from .filechanges import FileChangeTracker
from .files import FileFinder
from .handlers import ROUTES
from .library import LibraryService
from .policy import OpencodePolicy
from .service import ChatService
from .storage import UNSAFE_FILESYSTEMS, default_local_dir, place_databases
from .store import SessionStore
from .store.files import FileChangeRecords


class OpencodeExtension(ExtensionApp):
    """Chat with an opencode agent from notebooks: sessions, streaming, the supervised worker."""

    name = "jupyter_opencode"

    db_path = Unicode(help="SQLite file holding sessions and messages.").tag(config=True)
    opencode_command = List(
        Unicode(),
        default_value=[],
        help="Command that runs opencode (default: the one `jupyter opencode install-worker` put in"
        " this environment, else `opencode` on PATH).",
    ).tag(config=True)
    opencode_config = Unicode(
        "",
        help="opencode configuration file for the worker (default: your own opencode setup when"
        " there is one, else the offline demo model).",
    ).tag(config=True)
    idle_timeout = Float(
        1800.0, help="Seconds without clients or prompts after which the worker stops (0: never)."
    ).tag(config=True)
    restart_limit = Int(5, help="Crash restarts in a row before the worker is marked failed.").tag(
        config=True
    )
    worker_home = Unicode(
        help="Home and data directory of the opencode worker (default: beside db_path)."
    ).tag(config=True)
    max_message_bytes = Int(
        256 * 1024, help="Largest prompt accepted, in UTF-8 bytes, attached context included."
    ).tag(config=True)
    turn_timeout = Float(
        600.0,
        help="Seconds an answer may go without any word from opencode (permission prompts"
        " excepted) before it is ended with an error.",
    ).tag(config=True)

    stream_cadence_ms = Int(
        40,
        help="Ms between two frames of streamed text a stream client receives (the deltas in"
        " between go as one chunk; other frames go at once). A client may ask for its own"
        " with ?cadence_ms= or a cadence frame (0: every delta as it comes).",
    ).tag(config=True)
    activity_interval = Float(
        10.0,
        help="Seconds between the stamps of server activity while an answer is in progress (idle"
        " cullers see a streaming answer as activity even with no browser connected).",
    ).tag(config=True)

    opencode_db = Unicode(
        "",
        help="opencode's own SQLite database (OPENCODE_DB; default: inside worker_home).",
    ).tag(config=True)
    local_storage_dir = Unicode(
        help="Folder on a local disk for the SQLite files whose configured place is on a network"
        " file system (default: /var/tmp/jupyter-opencode-<uid>).",
    ).tag(config=True)
    unsafe_filesystems = List(
        Unicode(),
        default_value=list(UNSAFE_FILESYSTEMS),
        help="File system types (as in /proc/mounts) where SQLite locking is not trusted.",
    ).tag(config=True)
    policy = Instance(OpencodePolicy, help="The administrator's rules (OpencodePolicy traits).")

    max_import_bytes = Int(
        64 * 1024 * 1024, help="Largest JSON export accepted by POST sessions/import, in bytes."
    ).tag(config=True)

    @default("db_path")
    def _default_db_path(self) -> str:
        return str(Path(jupyter_data_dir()) / "jupyter_opencode" / "sessions.db")

    @default("worker_home")
    def _default_worker_home(self) -> str:
        return str(Path(self.db_path).parent / "worker-home")

    @default("local_storage_dir")
    def _default_local_storage_dir(self) -> str:
        return str(default_local_dir())

    @default("policy")
    def _default_policy(self) -> OpencodePolicy:
        return OpencodePolicy(parent=self)

    @validate("db_path")
    def _validate_db_path(self, proposal: Any) -> str:
        path = Path(proposal["value"]).expanduser()
        if path.exists() and not path.is_file():
            raise ValueError(f"db_path {path} exists and is not a file")
        return str(path)

    @validate("max_message_bytes")
    def _validate_max_message_bytes(self, proposal: Any) -> int:
        if proposal["value"] < 1:
            raise ValueError("max_message_bytes must be positive")
        return int(proposal["value"])

    @property
    def server(self) -> ServerApp:
        """The Jupyter server this extension is loaded in."""
        if self.serverapp is None:
            raise RuntimeError("the extension is not linked to a Jupyter server")
        return self.serverapp

    def initialize_settings(self) -> None:
        """Create the store, worker supervisor and chat service; give kernels the way back here."""
        self.token = secrets.token_urlsafe(32)
        self._hand_token_to_kernels()
        self._place_databases()
        self.store = SessionStore(self.db_path)
        self.supervisor = WorkerSupervisor(
            parent=self,
            home=Path(self.worker_home),
            cwd=Path(self.server.root_dir),
            provider=self._provider,
            on_ready=lambda client: self.service.on_worker_ready(client),
            on_lost=lambda reason: self.service.on_worker_lost(reason),
            opencode_command=self.opencode_command,
            idle_timeout=self.idle_timeout,
            restart_limit=self.restart_limit,
        )
        self.service = ChatService(self.store, self.supervisor, turn_timeout=self.turn_timeout)
        self.library = LibraryService(self.service)
        self.activity = ActivityReporter(
            self.server.web_app.settings.setdefault("last_activity_times", {}),
            busy=lambda: bool(self.service.turns),
            interval=self.activity_interval,
        )
        self.service.on_activity = self.activity.mark
        self.service.check_model = self.policy.check_model
        self.notebook_tools = notebook_setup.install(self)
        self.file_changes = FileChangeTracker(
            self.service, FileChangeRecords(self.store), Path(self.server.root_dir)
        )
        self.service.files = self.file_changes
        self._opened: asyncio.Future[None] | None = None
        self._demo_server: HTTPServer | None = None
        self.settings.update(
            jupyter_opencode_app=self,
            jupyter_opencode_service=self.service,
            jupyter_opencode_library=self.library,
            jupyter_opencode_kernel_token=self.token,
            jupyter_opencode_files=FileFinder(self.server.root_dir),
        )

    def _place_databases(self) -> None:
        """Move SQLite files off network file systems, saying so."""
        placed = place_databases(
            Path(self.db_path),
            Path(self.worker_home),  # read first: it defaults to beside the configured db_path
            Path(self.opencode_db) if self.opencode_db else None,
            Path(self.local_storage_dir),
            self.unsafe_filesystems,
        )
        for warning in placed.warnings:
            self.log.warning("%s", warning)
        self.db_path = str(placed.db_path)
        self.opencode_db = str(placed.opencode_db or "")

    def kernel_environment(self) -> dict[str, str]:
        """What a kernel of this server needs to reach the extension: its URL and token."""
        return {
            "JUPYTER_OPENCODE_URL": self.server.connection_url.rstrip("/") + "/",
            "JUPYTER_OPENCODE_TOKEN": self.token,
        }

    def _hand_token_to_kernels(self) -> None:
        """Add the URL and token to the launch environment of kernels, and of nothing else.

        The server's own ``os.environ`` would leak the token to terminals and every other child.
        """
        manager = self.server.kernel_manager
        start_kernel = manager.start_kernel

        async def start_with_token(*args: Any, **kwargs: Any) -> Any:
            kwargs["env"] = {**(kwargs.get("env") or os.environ), **self.kernel_environment()}
            return await start_kernel(*args, **kwargs)

        manager.start_kernel = start_with_token  # type: ignore[method-assign]

    def initialize_handlers(self) -> None:
        """Mount the routes under ``{base_url}opencode/`` (the base URL is added by Jupyter)."""
        self.handlers.extend((url_path_join("opencode", path), handler) for path, handler in ROUTES)

    async def _start_jupyter_server_extension(self, serverapp: Any) -> None:
        """Once the server listens: open the store (no worker yet)."""
        await self.open()

    async def open(self) -> None:
        """Open the store once; marks work left open by an earlier process as interrupted."""
        if self._opened is None:
            self._opened = asyncio.ensure_future(self.store.open())
        await asyncio.shield(self._opened)

    def uses_demo_model(self) -> bool:
        """Whether the worker runs on the offline demo model (no provider configured)."""
        return not self.opencode_config and user_provider() is None

    async def _provider(self) -> ProviderChoice:
        choice = notebook_setup.with_notebook_tools(self, await self._config_choice())
        choice = self.policy.apply(choice)
        choice = self.file_changes.tracked(choice)
        if self.opencode_db:
            choice = dataclasses.replace(choice, environment={"OPENCODE_DB": self.opencode_db})
        return choice

    async def _config_choice(self) -> ProviderChoice:
        if self.opencode_config:
            path = Path(self.opencode_config).expanduser()
            if not path.is_file():
                raise WorkerError(f"opencode_config {path} does not exist")
            return ProviderChoice(path, None, demo=False, description=f"config file {path}")
        choice = user_provider()
        if choice is not None:
            return choice
        from ..demo import make_app as make_demo_model_app
        from ..demo import opencode_config as demo_opencode_config

        if self._demo_server is None:
            sockets = bind_sockets(0, "127.0.0.1")
            self._demo_server = HTTPServer(make_demo_model_app(pace=0.03, keep=0))
            self._demo_server.add_sockets(sockets)
            self._demo_url = f"http://127.0.0.1:{sockets[0].getsockname()[1]}/v1"
        path = write_config(
            Path(self.db_path).parent / "demo-opencode.json", demo_opencode_config(self._demo_url)
        )
        return ProviderChoice(path, None, demo=True, description="offline demo model")

    def current_activity(self) -> list[str]:
        """The sessions answering now: the server is not idle while the agent works."""
        return sorted(self.service.turns)

    async def stop_extension(self) -> None:
        """Stop the worker, flush and close the store."""
        await self.service.close()
        await self.activity.close()
        await self.notebook_tools.approvals.close()
        await self.supervisor.shutdown()
        if self._demo_server is not None:
            self._demo_server.stop()
        if self._opened is not None:
            # Even a store still opening must be closed, or its thread keeps the process alive.
            with contextlib.suppress(Exception):
                await self._opened
            await self.store.close()
