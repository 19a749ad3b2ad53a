"""``plan --uncertainty N`` on Dask (``--dask-local``, ``--scheduler``): the same chunks of samples, evaluated
on Dask's workers, give the same ranges bit for bit as in this process; bad backend options are one line."""

from __future__ import annotations

import itertools
import json
import socket
import time

import pytest

from stargate.plan import builtin_scenario, run_plan
from stargate.uncertainty.plan import chunk_samples, plan_ranges

pytest.importorskip("dask.distributed")


@pytest.fixture(scope="module")
def builtin(catalog):
    sc = builtin_scenario()
    return sc, run_plan(sc, catalog)


def _same(a, b) -> None:
    assert [p.ranges for p in a.phases] == [p.ranges for p in b.phases]
    assert a.totals == b.totals


def test_chunking_does_not_change_the_ranges(builtin, catalog):
    # Each sample's chain is elementwise in its inputs, so how the samples are cut into chunks (the unit a
    # Dask worker gets) cannot change any figure: 97 per chunk, the default, and all at once agree exactly.
    sc, plan = builtin
    default = plan_ranges(sc, catalog, plan, 700, seed=4)
    _same(default, plan_ranges(sc, catalog, plan, 700, seed=4, chunk=97))
    _same(default, plan_ranges(sc, catalog, plan, 700, seed=4, chunk=700))


def test_chunk_size_bounds_the_number_of_chunks():
    for n in (1, 250, 251, 16_000, 16_001, 1_000_000):
        size = chunk_samples(n)
        assert size >= 250 and -(-n // size) <= 64


def test_a_local_dask_cluster_gives_the_same_ranges(builtin, catalog):
    sc, plan = builtin
    ticks: list[tuple[int, int]] = []
    on_dask = plan_ranges(sc, catalog, plan, 1200, seed=9, dask_local=2, chunk=250,
                          progress=lambda done, total: ticks.append((done, total)))
    _same(plan_ranges(sc, catalog, plan, 1200, seed=9, chunk=250), on_dask)
    # progress counts samples as chunks arrive, in whatever order: four chunks of 250 and one of 200
    done = [0] + [d for d, _ in ticks]
    assert sorted(b - a for a, b in itertools.pairwise(done)) == [200, 250, 250, 250, 250] and {t for _, t in ticks} == {1200}


def test_plan_command_on_dask_prints_the_same_json(cli):
    here = cli("plan", "--uncertainty", "400", "--seed", "3", "--json")
    there = cli("plan", "--uncertainty", "400", "--seed", "3", "--dask-local", "2", "--json")
    assert here.code == there.code == 0, there.stderr
    assert json.loads(here.stdout) == json.loads(there.stdout)
    assert there.stderr == ""  # no Dask warning or log line leaks onto stderr


def _one_line(r, *fragments: str) -> None:
    assert r.code == 2 and r.stdout == "", (r.code, r.stderr)
    assert r.stderr.startswith("stargate: error: ") and r.stderr.count("\n") == 1, r.stderr
    for f in fragments:
        assert f in r.stderr, (f, r.stderr)


@pytest.mark.parametrize(("command", "args", "fragments"), [
    ("plan", ["--dask-local", "2"], ["--dask-local: '2'", "only with --uncertainty"]),
    ("plan", ["--scheduler", "tcp://127.0.0.1:8786"], ["--scheduler: 'tcp://127.0.0.1:8786'", "only with --uncertainty"]),
    ("plan", ["--uncertainty", "10", "--dask-local", "0"], ["--dask-local: '0'", "1 to 256"]),
    ("plan", ["--uncertainty", "10", "--dask-local", "1e3"], ["--dask-local: '1e3'", "whole number"]),
    ("plan", ["--uncertainty", "10", "--dask-local", "257"], ["--dask-local: '257'"]),
    ("plan", ["--uncertainty", "10", "--scheduler", "localhost:8786"], ["--scheduler: 'localhost:8786'", "tcp://HOST:PORT"]),
    ("plan", ["--uncertainty", "10", "--scheduler", "tcp://127.0.0.1:8786", "--dask-local", "2"], ["--dask-local", "not both"]),
    ("report", ["--uncertainty", "0", "--dask-local", "2"], ["--dask-local: '2'", "only with --uncertainty"]),
])
def test_bad_dask_options_are_one_line(cli, tmp_path, command, args, fragments):
    out = ["-o", str(tmp_path / "r.html")] if command == "report" else []
    _one_line(cli(command, *out, *args), *fragments)
    assert not (tmp_path / "r.html").exists()


def test_an_unreachable_scheduler_fails_fast(cli, monkeypatch):
    monkeypatch.setattr("stargate.dask_client.SCHEDULER_TIMEOUT_S", 1)
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t = time.monotonic()
    _one_line(cli("plan", "--uncertainty", "50", "--scheduler", f"tcp://127.0.0.1:{port}"), "--scheduler",
              "running Dask scheduler")
    assert time.monotonic() - t < 15


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"dask_local": 2}, "dask_local: 2 is not allowed; expected only with uncertainty > 0"),
    ({"uncertainty": 10, "dask_local": -1}, "dask_local: -1 is not allowed; expected a whole number from 1 to 256"),
    ({"uncertainty": 10, "dask_local": True}, "dask_local: True is not allowed"),
    ({"uncertainty": 10, "scheduler": "x"}, "scheduler: 'x' is not allowed; expected a Dask scheduler address"),
])
def test_the_api_names_its_arguments(kwargs, message):
    from stargate import api
    from stargate.errors import InputError

    with pytest.raises(InputError) as e:
        api.plan(**kwargs)
    assert str(e.value).startswith(message)
