"""The project's own API fuzzing, against a live ``stargate serve``: schemathesis over the published
OpenAPI schema, and raw hostile requests (NaN/Infinity literals, huge numbers, deep nesting, long and
control-character strings, quantity arithmetic, file names, unknown fields, chunked bodies over the
cap, foreign Host headers). Seeded and derandomized; a subset of ``benchmarks/fuzz_api.py`` (which
runs 10,000 cases or more).

Every response must be under 500, arrive within 10 s, and be strict JSON on ``/api`` routes and for
every 4xx (a 422 in the OpenAPI ``HTTPValidationError`` shape).
"""

import os

import pytest
from web_server import fuzz_hostile, fuzz_schema, running_server

SEED = 20261202
HOSTILE_CASES = int(os.environ.get("STARGATE_FUZZ_API_CASES", "800"))
"""Raw hostile requests per CI run (``benchmarks/fuzz_api.py`` runs 10,000 API cases or more)."""
SCHEMA_EXAMPLES = int(os.environ.get("STARGATE_FUZZ_API_EXAMPLES", "25"))
"""schemathesis examples per operation and mode (valid, invalid): about 9 requests each."""


@pytest.fixture(scope="module")
def server():
    with running_server() as url:
        yield url


def test_schemathesis_over_the_openapi_schema(server):
    pytest.importorskip("schemathesis")
    stats = fuzz_schema(server, examples=SCHEMA_EXAMPLES, seed=SEED)
    print(stats.summary())
    assert stats.cases >= 8 * SCHEMA_EXAMPLES, stats.summary()
    assert not stats.failures, stats.summary() + "\n" + "\n".join(stats.failures)


def test_hostile_requests(server):
    stats = fuzz_hostile(server, HOSTILE_CASES, seed=SEED, oversize_streams=2)
    print(stats.summary())
    assert stats.cases == HOSTILE_CASES
    assert not stats.failures, stats.summary() + "\n" + "\n".join(stats.failures)
    assert stats.server_errors == stats.invalid_json == stats.transport_errors == 0
    assert stats.max_latency_s < 10
