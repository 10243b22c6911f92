"""``jupyter opencode``: install the worker, check the set-up, run the offline fake model."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ._version import __version__
from .worker.environment import user_provider
from .worker.install import (
    OPENCODE_VERSION,
    InstallError,
    find_rg,
    install_worker,
    installed_opencode,
    opencode_version,
)


def _install_worker(_: argparse.Namespace) -> int:
    print(f"Installing opencode-ai@{OPENCODE_VERSION} and ripgrep into {sys.prefix} ...")
    try:
        binary = install_worker()
    except InstallError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"opencode {opencode_version(binary)} ready at {binary}")
    return 0


def _doctor(_: argparse.Namespace) -> int:
    from jupyter_server.serverapp import ServerApp

    from .server.app import OpencodeExtension

    server = ServerApp()
    server.load_config_file()
    extension = OpencodeExtension(config=server.config)
    binary = installed_opencode()
    command = extension.opencode_command or ([str(binary)] if binary else [])
    version = opencode_version(command[0]) if command else None
    rg = find_rg()
    user = user_provider()
    if extension.opencode_config:
        provider = f"config file {extension.opencode_config}"
    elif user is not None:
        provider = user.description
    else:
        provider = "none: the offline demo model answers (run `opencode auth login` to use yours)"
    rows = [
        ("jupyter-opencode", __version__),
        ("opencode", f"{' '.join(command)} ({version})" if command else "NOT INSTALLED"),
        ("pinned opencode", OPENCODE_VERSION),
        ("ripgrep", str(rg) if rg else "NOT FOUND (opencode's grep and glob tools need it)"),
        ("provider", provider),
        ("database", extension.db_path),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    if not command or version is None:
        print("\nRun `jupyter opencode install-worker` to install opencode.")
        return 1
    return 0


def _fake_model(args: argparse.Namespace) -> int:
    from .demo import serve

    serve(args.port)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``jupyter-opencode``."""
    parser = argparse.ArgumentParser(
        prog="jupyter opencode",
        description="Install the opencode worker, check the set-up, run the offline fake model.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "install-worker", help="install the pinned opencode and ripgrep in this environment"
    ).set_defaults(run=_install_worker)
    commands.add_parser("doctor", help="show what the extension will use").set_defaults(run=_doctor)
    fake = commands.add_parser("fake-model", help="serve the offline OpenAI-compatible fake model")
    fake.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free port)")
    fake.set_defaults(run=_fake_model)
    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
