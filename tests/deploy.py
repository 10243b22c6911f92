"""The published artifacts, as a user installs them: the wheel in a fresh venv, no checkout.

Fixtures (session scope, built once): the wheel and sdist, and a virtualenv made from Debian's
``/usr/bin/python3`` (so that other system users can run it) holding what a single-user image
starts from (JupyterHub and JupyterLab) plus the wheel, installed by ``deploy/Dockerfile``'s
own ``RUN`` lines.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCKERFILE = REPO / "deploy" / "Dockerfile"
SYSTEM_PYTHON = Path("/usr/bin/python3")
# What the single-user image's base (a Jupyter docker stack) already has.
BASE_IMAGE_PACKAGES = ("jupyterhub", "jupyterlab")


@dataclass(frozen=True)
class Dist:
    """The built wheel and sdist."""

    wheel: Path
    sdist: Path


@dataclass
class DeployVenv:
    """A fresh virtualenv with the base image's packages; the Dockerfile's lines add the rest."""

    root: Path
    dist: Dist
    installed: bool = False  # the Dockerfile's lines have run

    @property
    def bin(self) -> Path:
        """Its scripts folder."""
        return self.root / "bin"

    @property
    def python(self) -> Path:
        """Its Python."""
        return self.bin / "python"

    def run(self, *args: str, timeout: float = 600.0) -> str:
        """Run one of its scripts (``jupyter``, ``pip``...); its output, or a failed test."""
        done = subprocess.run(
            [str(self.bin / args[0]), *args[1:]],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.root,
            env=clean_environment(),
        )
        assert done.returncode == 0, f"{shlex.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout + done.stderr

    def dockerfile_commands(self) -> list[list[str]]:
        """The Dockerfile's ``RUN pip ...`` and ``RUN jupyter ...`` lines, for this venv's wheel."""
        commands = []
        for line in DOCKERFILE.read_text().splitlines():
            if line.startswith(("RUN pip ", "RUN jupyter ")):
                words = shlex.split(line)
                commands.append(
                    [str(self.dist.wheel) if w == "jupyter-opencode" else w for w in words[1:]]
                )
        return commands

    def install(self) -> None:
        """Run the Dockerfile's lines, once."""
        if not self.installed:
            for command in self.dockerfile_commands():
                self.run(*command)
            self.installed = True


def clean_environment() -> dict[str, str]:
    """This test run's environment without its virtualenv or checkout on any path."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    venv_bin = str(Path(sys.prefix) / "bin")
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != venv_bin)
    return env


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Dist:
    """``python -m build``: the sdist, and the wheel built from it (needs no npm: JS included)."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(REPO)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return Dist(next(out.glob("*.whl")), next(out.glob("*.tar.gz")))


@pytest.fixture(scope="session")
def deploy_venv(dist: Dist) -> Iterator[DeployVenv]:
    """A venv any user may run (under /tmp, 0755) with the base image's packages."""
    if not SYSTEM_PYTHON.is_file():
        pytest.skip(f"{SYSTEM_PYTHON} is needed for a venv other users can run")
    top = Path(tempfile.mkdtemp(prefix="jupyter-opencode-deploy-"))
    top.chmod(0o755)
    root = top / "venv"
    subprocess.run([str(SYSTEM_PYTHON), "-m", "venv", str(root)], check=True, timeout=300)
    venv = DeployVenv(root, dist)
    venv.run("pip", "install", "--quiet", *BASE_IMAGE_PACKAGES)
    yield venv
    shutil.rmtree(top, ignore_errors=True)
