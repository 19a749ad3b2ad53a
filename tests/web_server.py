"""A real `stargate serve` on a free loopback port, for browser, load and fuzz tests; and the API
fuzzers (shared by ``tests/test_api_fuzz.py`` and ``benchmarks/fuzz_api.py``).

Two fuzzers, both seeded and deterministic:

- :func:`fuzz_schema`: schemathesis over the published OpenAPI schema (valid and invalid data for
  every operation), each response checked against the schema (status, content type, 422 shape);
- :func:`fuzz_hostile`: raw requests built to hurt: ``NaN``/``Infinity`` literals, huge and
  long numbers, deep nesting, long and control-character strings, arithmetic in quantity strings,
  file names, wrong types, unknown fields, bodies over the cap (chunked too), wrong ``Host``
  headers, odd methods and paths.

Every response must be under 500, arrive within :data:`MAX_LATENCY_S`, and, on ``/api`` routes and
for every 4xx, be strict JSON (a 422 in the OpenAPI ``HTTPValidationError`` shape).
"""

from __future__ import annotations

import json
import random
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

MAX_LATENCY_S = 10.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_server(*extra: str):
    """``stargate serve`` on a free port: yields its URL. Its stderr goes to a file (a pipe nobody
    reads would fill up with the server's log and block it)."""
    port = free_port()
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen([sys.executable, "-m", "stargate", "serve", "--port", str(port), *extra],
                                stdout=subprocess.DEVNULL, stderr=log)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.time() + 30
            while time.time() < deadline:
                try:
                    urllib.request.urlopen(url + "/openapi.json", timeout=1)
                    break
                except OSError:
                    if proc.poll() is not None:
                        log.seek(0)
                        raise RuntimeError(log.read().decode(errors="replace")) from None
                    time.sleep(0.1)
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=10)


# ---------------------------------------------------------------------------------------------- checks

@dataclass
class FuzzStats:
    """What a fuzzing run saw: counts by status, the problems found (first few kept), the slowest answer."""

    cases: int = 0
    server_errors: int = 0
    invalid_json: int = 0
    transport_errors: int = 0
    max_latency_s: float = 0.0
    statuses: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def add(self, what: str, status: int | None, content: bytes, seconds: float, path: str) -> None:
        self.cases += 1
        self.max_latency_s = max(self.max_latency_s, seconds)
        if status is None:
            self.transport_errors += 1
            self._fail(f"{what}: no response ({content.decode(errors='replace')[:200]})")
            return
        self.statuses[status] = self.statuses.get(status, 0) + 1
        for problem in problems(path, status, content, seconds):
            if problem.startswith(("invalid JSON", "422 shape")):
                self.invalid_json += 1
            elif problem.startswith("HTTP 5"):
                self.server_errors += 1
            self._fail(f"{what}: {problem}: {content[:300]!r}")

    def _fail(self, message: str) -> None:
        if len(self.failures) < 20:
            self.failures.append(message)

    def summary(self) -> str:
        codes = ", ".join(f"{k}: {v}" for k, v in sorted(self.statuses.items()))
        return (f"{self.cases} cases, {self.server_errors} HTTP 5xx, {self.invalid_json} invalid JSON, "
                f"{self.transport_errors} without a response, max latency {self.max_latency_s:.2f} s ({codes})")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} in JSON")


def problems(path: str, status: int, content: bytes, seconds: float) -> list[str]:
    """What is wrong with one response (nothing, for a good one)."""
    out = []
    if status >= 500:
        out.append(f"HTTP {status}")
    if seconds > MAX_LATENCY_S:
        out.append(f"slow: {seconds:.1f} s")
    if path.startswith(("/api", "/openapi")) or 400 <= status < 500:
        try:
            body = json.loads(content, parse_constant=_no_constant)
        except ValueError as e:
            return [*out, f"invalid JSON ({e})"]
        if status == 422 and not _is_validation_error(body):
            out.append("422 shape: not an HTTPValidationError")
    return out


def _is_validation_error(body: Any) -> bool:
    if not isinstance(body, dict) or not isinstance(body.get("detail"), list) or not body["detail"]:
        return False
    for e in body["detail"]:
        if not (isinstance(e, dict) and isinstance(e.get("loc"), list) and isinstance(e.get("msg"), str)
                and isinstance(e.get("type"), str) and all(isinstance(p, str | int) for p in e["loc"])):
            return False
        if len(json.dumps(e)) > 2000:  # bounded echo
            return False
    return True


# ---------------------------------------------------------------------------------------------- schemathesis

def fuzz_schema(url: str, examples: int, seed: int = 0) -> FuzzStats:
    """schemathesis over ``url``'s OpenAPI schema: ``examples`` valid and as many invalid cases per
    operation (derandomized by ``seed``), each response checked against the schema and by :func:`problems`."""
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hseed
    from hypothesis.errors import Unsatisfiable
    from schemathesis import GenerationMode
    from schemathesis import checks as sc

    checks = [sc.not_a_server_error, sc.status_code_conformance, sc.content_type_conformance,
              sc.response_schema_conformance, sc.negative_data_rejection]
    stats = FuzzStats()
    schema = schemathesis.openapi.from_url(url + "/openapi.json")
    for result in schema.get_all_operations():
        op = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @hseed(seed)
            @settings(max_examples=examples, derandomize=True, database=None, deadline=None, phases=[Phase.generate],
                      suppress_health_check=list(HealthCheck))
            @given(case=op.as_strategy(generation_mode=mode))
            def one(case: Any) -> None:
                t = time.perf_counter()
                try:
                    r = case.call(base_url=url, timeout=2 * MAX_LATENCY_S)
                except Exception as e:  # noqa: BLE001 - any transport failure is a finding
                    stats.add(f"{case.method} {case.path}", None, str(e).encode(), time.perf_counter() - t, case.path)
                    return
                stats.add(f"{case.method} {case.formatted_path} {str(case.body)[:200]}", r.status_code, r.content,
                          time.perf_counter() - t, case.formatted_path)
                try:
                    case.validate_response(r, checks=checks)
                except BaseException as e:  # noqa: BLE001 - schemathesis raises a group of failures
                    stats._fail(f"{case.method} {case.formatted_path}: {str(e).splitlines()[:4]}")

            try:
                one()
            except Unsatisfiable:  # an operation with no inputs has no invalid cases
                pass
    return stats


# ---------------------------------------------------------------------------------------------- hostile cases

_BASES: dict[str, dict[str, Any]] = {
    "/api/design": {"accelerator": "h100", "gpus": 1024},
    "/api/fabric": {"gpus": 4096},
    "/api/train": {"model": "llama3.1-8b", "accelerator": "h100", "gpus": 64, "seq_len": 4096, "global_batch": 256},
    "/api/dashboard": {"sizing": "gpus", "value": 4096, "model": "llama3.1-8b"},
    "/api/infer": {"model": "llama3.1-8b", "accelerator": "h100", "gpus": 8, "input_tokens": 1024, "output_tokens": 256},
}
_FIELDS = ["accelerator", "gpus", "budget", "power", "fabric", "system", "energy", "systems_per_rack", "cooling",
           "topology", "oversubscription", "planes", "switch", "compare", "model", "seq_len", "global_batch",
           "precision", "tp", "pp", "dp", "cp", "ep", "vp", "mbs", "recompute", "sharding", "sizing", "value", "year",
           "wacc", "scale_out", "accelerator_price", "system_price", "sites", "site_distance", "training_days", "tokens",
           "top_k", "framework", "fp8_recipe", "moe_load_imbalance", "input_tokens", "output_tokens", "ttft", "tpot",
           "tokens_per_user", "kv_dtype", "disaggregated"]
_NUMBERS = ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1e-400", str(2**63), str(2**64), "1" + "0" * 400,
            "-" + "9" * 30, "0", "-1", "0.5", "1e308", "4.9e-324", "9" * 5000, "1E+2", "-0.0", "10000000", "10000001"]
_STRINGS = [json.dumps(s) for s in [
    "", " ", "x" * 10_000, "\x00", "a\x00b", "\u202e\u200b", "10**10**8 W", "9**9**9 W", "2**1000 GW", "1e400 W",
    "nan W", "inf GW", "-5 GW", "5 GW", "1 TW", "$1e-9", "$10B", "1e-9", "1e999 USD", "9" * 60 + " W", "secret.json",
    "../../../etc/passwd", "/etc/passwd", "llama3.1-8b", "LLAMA3.1-8B", "h100", "gb200", "infiniband", "fat-tree",
    "[/]", "\x1b[31mred", "{{7*7}}", "<script>alert(1)</script>", "%s%n", "x" * 65, "\U0001f680" * 40,
    "gpus", "budget", "power", "sizing"]]
_OTHERS = ["true", "false", "null", "[]", "{}", "[1,2,3]", '{"a":1}', "[NaN,Infinity]", "[1.5,2,1e400]",
           "[" + ",".join(["1.5"] * 7) + "]", "[1,2,3,4,5,6]", "[" * 3000 + "]" * 3000, '{"$ref":"#"}', '"\\ud800"']
_WHOLE_BODIES = [b"", b"NaN", b"[]", b"null", b"{", b'{"a":', b"[" * 8000, b"\xff\xfe\x00", b'{"gpus":1}' * 3,
                 b'"' + b"x" * 15_000 + b'"', b"{" + b" " * 17_000 + b"}",
                 json.dumps({"x": list(range(3000))}).encode()]
_CONTENT_TYPES = ["application/json", "text/plain", "application/x-www-form-urlencoded",
                  "application/json; charset=latin-1"]
_HOSTS = ["evil.example", "localhost.evil.example", "127.0.0.1.nip.io", "attacker:80", "[::2]", "localhost:8000",
          "[::1]:9", "127.0.0.1"]
_PATHS = ["/scenario/x%00", "/scenario/..%2f..%2fetc%2fpasswd", "/scenario/" + "a" * 3000, "/scenario/stargate",
          "/api/plan?x=NaN", "/nope", "/api/plan/../../etc/passwd", "/pareto", "/%ff", "/api/%00",
          "/static/app/..%2f..%2fapp.py", "/static/app/%2e%2e/tasks.py", "/static/docs/..%2fcore.py", "/static/app/"]


@dataclass
class Request:
    """One hostile request."""

    method: str
    path: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    chunks: int = 0
    """When over 0: the body is sent chunked, this many 64 KiB chunks (a stream over the cap)."""


def _value(rng: random.Random) -> str:
    pool = rng.choice([_NUMBERS, _STRINGS, _OTHERS, _NUMBERS, _STRINGS])
    return rng.choice(pool)


def _body(rng: random.Random, route: str) -> bytes:
    raw = {k: json.dumps(v) for k, v in _BASES[route].items()}
    pairs = list(raw.items())
    for _ in range(rng.randint(1, 3)):
        op = rng.random()
        if op < 0.6:
            key = rng.choice(_FIELDS + list(raw))
            pairs = [(k, v) for k, v in pairs if k != key] + [(key, _value(rng))]
        elif op < 0.75 and pairs:
            pairs.pop(rng.randrange(len(pairs)))
        elif op < 0.9:
            pairs.append((rng.choice(["colour", "", "__proto__", "x" * 300, "gpus", "\x00"]), _value(rng)))
        else:
            pairs.append(rng.choice(pairs) if pairs else ("gpus", "1"))  # a duplicate key
    return ("{" + ",".join(f"{json.dumps(k)}:{v}" for k, v in pairs) + "}").encode()


def hostile_requests(n: int, seed: int = 0, oversize_streams: int = 2) -> Iterator[Request]:
    """``n`` hostile requests, the same for the same ``seed``; ``oversize_streams`` of them chunked 64 MiB bodies."""
    rng = random.Random(seed)
    streams = set(rng.sample(range(n), min(oversize_streams, n)))
    json_type = {"content-type": "application/json"}
    for i in range(n):
        route = rng.choice(list(_BASES))
        r = rng.random()
        if i in streams:
            yield Request("POST", route, b"", dict(json_type), chunks=1024)
        elif r < 0.75:
            yield Request("POST", route, _body(rng, route), dict(json_type))
        elif r < 0.83:
            yield Request("POST", route, rng.choice(_WHOLE_BODIES), {"content-type": rng.choice(_CONTENT_TYPES)})
        elif r < 0.90:
            yield Request("POST", route, _body(rng, route), {**json_type, "host": rng.choice(_HOSTS)})
        elif r < 0.95:
            yield Request(rng.choice(["GET", "HEAD", "DELETE", "PUT", "OPTIONS"]), route, None, {})
        else:
            yield Request("GET", rng.choice(_PATHS), None, {})


def _stream(chunks: int) -> Iterator[bytes]:
    yield b'{"accelerator":"h100","gpus":8,"x":"'
    block = b"a" * 65536
    for _ in range(chunks):
        yield block
    yield b'"}'


def send(client: Any, req: Request) -> tuple[int | None, bytes, float]:
    """Send one request with ``client`` (an ``httpx.Client``): status (``None`` if no response), body, seconds."""
    import httpx

    t = time.perf_counter()
    content: Any = _stream(req.chunks) if req.chunks else req.body
    try:
        r = client.request(req.method, req.path, content=content, headers=req.headers)
        return r.status_code, r.content, time.perf_counter() - t
    except httpx.HTTPError as e:
        return None, f"{type(e).__name__}: {e}".encode(), time.perf_counter() - t


def fuzz_hostile(url: str, n: int, seed: int = 0, oversize_streams: int = 2) -> FuzzStats:
    """Send :func:`hostile_requests` to ``url`` on one keep-alive connection (so that a request that
    breaks its connection shows up in the next one) and check every response."""
    import httpx

    stats = FuzzStats()
    with httpx.Client(base_url=url, timeout=2 * MAX_LATENCY_S) as client:
        for req in hostile_requests(n, seed, oversize_streams):
            status, content, seconds = send(client, req)
            path = req.path
            if req.method == "HEAD" and status is not None:
                content = b"{}"  # a HEAD answer has no body to check
            stats.add(f"{req.method} {path} {req.headers} {(req.body or b'')[:200]!r}", status, content, seconds, path)
    return stats
