"""Shared fixtures: the repository root, the `redflag` binary (built by cargo when not
given as $REDFLAG_BIN), and CLI runs to compare with."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
DEMO = "samples/demo.csv"


def target_dir() -> Path:
    return Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def cli() -> Path:
    """The `redflag` binary of this checkout (debug), built once if needed."""
    given = os.environ.get("REDFLAG_BIN")
    if given:
        return Path(given)
    subprocess.run(["cargo", "build", "-q", "-p", "redflag-cli"], cwd=ROOT, check=True)
    return target_dir() / "debug" / "redflag"


def run_cli(cli: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([str(cli), *args], cwd=ROOT, capture_output=True, text=True, check=check)


@pytest.fixture(scope="session")
def cli_demo(cli: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The CLI's files for the demo, every format."""
    out = tmp_path_factory.mktemp("cli-demo")
    run_cli(cli, "screen", DEMO, "--out", str(out), "--format", "json,csv,md,html", "-q")
    return out


@pytest.fixture(autouse=True)
def in_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Paths are given as the CLI is given them: relative to the repository root."""
    monkeypatch.chdir(ROOT)
