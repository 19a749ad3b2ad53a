"""Shared fixtures: the shipped catalog, an in-process CLI runner, a web API client, hypothesis profiles."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass

import pytest
from hypothesis import settings

from stargate.catalog import Catalog

settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True)
settings.register_profile("dev", max_examples=200, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return Catalog.load()


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    def json(self):
        return json.loads(self.stdout)


@pytest.fixture
def cli(capsys, monkeypatch):
    """Run ``stargate ARGS`` in-process through the real entry point, exit code included."""
    from stargate.cli import main

    def run(*args: str) -> CliResult:
        monkeypatch.setattr(sys, "argv", ["stargate", *args])
        capsys.readouterr()
        with pytest.raises(SystemExit) as exc:
            main()
        out = capsys.readouterr()
        return CliResult(int(exc.value.code or 0), out.out, out.err)

    return run


@pytest.fixture(scope="module")
def client():
    """The web API (``stargate serve``'s app) in-process, one per test module; its worker pool closed after."""
    from fastapi.testclient import TestClient

    from stargate.web.app import create_app

    app = create_app()
    yield TestClient(app)
    app.state.pool.close()
