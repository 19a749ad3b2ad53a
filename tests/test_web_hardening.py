"""Regression tests for the web failures of issue 10: each failed on the old server and passes now.

In-process (TestClient) where the app is enough; a real ``stargate serve`` where the network is the
point (connections, chunked bodies, Host headers, load).
"""

import asyncio
import itertools
import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi.testclient import TestClient
from web_server import running_server

from stargate.web.app import MAX_BODY_BYTES, create_app
from stargate.web.safety import BodyLimit
from stargate.web.work import WorkerPool, WorkFailed, WorkTimeout


@pytest.fixture(scope="module")
def server():
    with running_server() as url:
        yield url


def _nan_body(text: str) -> dict:
    return {"content": text.encode(), "headers": {"content-type": "application/json"}}


def _is_validation_error(body: dict) -> bool:
    return isinstance(body["detail"], list) and all(
        isinstance(e["loc"], list) and all(isinstance(p, str | int) for p in e["loc"])
        and isinstance(e["msg"], str) and isinstance(e["type"], str) for e in body["detail"])


# -- no request names a file ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("route", ["/api/dashboard", "/api/train"])
def test_no_request_reads_a_file_nor_tells_whether_it_exists(tmp_path, monkeypatch, route):
    # Old: POST /api/dashboard {"model": "secret.json"} read ./secret.json, and the error told whether it existed.
    (tmp_path / "secret.json").write_text(json.dumps({"n_layer": 2, "api_key": "hunter2"}))
    (tmp_path / "llama3.1-8b").write_text("not a model")  # a file named like a preset is not read either
    monkeypatch.chdir(tmp_path)
    app = create_app()
    try:
        c = TestClient(app)
        base = {"accelerator": "h100", "gpus": 64} if route == "/api/train" else {"sizing": "gpus", "value": 1024}
        answers = [c.post(route, json={**base, "model": name}) for name in ("secret.json", "nosuch.json", "secret")]
        assert [r.status_code for r in answers] == [422, 422, 422]
        details = [r.json()["detail"][0] for r in answers]
        assert all(d["loc"] == ["body", "model"] for d in details)
        assert len({d["msg"] for d in details}) == 1  # the same answer whether the file exists or not
        assert all("hunter2" not in r.text and "file" not in r.text for r in answers)
        ok = c.post(route, json={**base, "model": "llama3.1-8b"})
        assert ok.status_code == 200 and ok.json()
    finally:
        app.state.pool.close()


# -- the compute cap holds, and expensive requests do not starve cheap ones ----------------------------------------


def test_compute_cap_holds_for_work_that_holds_the_gil():
    # Old: a thread pool + asyncio.wait_for, which cannot stop work holding the GIL (sum over a huge range
    # never releases it): the cap never fired and the event loop froze. Now the worker is killed.
    pool = WorkerPool(1, max_seconds=1.0)
    ticks = []

    async def main():
        async def ticker():
            while True:
                ticks.append(time.perf_counter())
                await asyncio.sleep(0.05)

        tick = asyncio.create_task(ticker())
        t = time.perf_counter()
        with pytest.raises(WorkTimeout):
            await pool.run(sum, range(10**13))
        took = time.perf_counter() - t
        tick.cancel()
        assert await pool.run(divmod, 7, 2) == b"[3,1]"  # the worker was replaced and answers again
        return took

    try:
        took = asyncio.run(main())
    finally:
        pool.close()
    assert took < 10  # the cap (plus a worker's start) and not hours
    assert max(b - a for a, b in itertools.pairwise(ticks)) < 0.5  # the event loop never stalled


def test_a_non_finite_answer_is_never_sent():
    # Old: a NaN in an answer raised while rendering it (HTTP 500 with a text body, connection reset).
    # Now the worker encodes strictly; the request gets a JSON 500 naming the bug, and no NaN is sent.
    pool = WorkerPool(1)
    try:
        with pytest.raises(WorkFailed, match="not finite"):
            asyncio.run(pool.run(float, "nan"))
    finally:
        pool.close()
    app = create_app()

    @app.get("/boom")
    async def boom():
        raise WorkFailed("the answer holds a number that is not finite")

    r = TestClient(app).get("/boom")
    assert r.status_code == 500
    assert r.json() == {"detail": "internal error: the answer holds a number that is not finite"}
    app.state.pool.close()


def test_plan_answers_fast_while_another_client_sends_expensive_requests(server):
    expensive = [
        ("/api/train", {"model": "deepseek-v3", "accelerator": "gb200", "gpus": 9_979_200, "seq_len": 1024,
                        "global_batch": 9_979_200}),
        ("/api/train", {"model": "qwen3-30b-a3b", "accelerator": "h100", "gpus": 9_979_200, "global_batch": 9_979_200}),
        ("/api/dashboard", {"sizing": "gpus", "value": 9_979_200, "model": "deepseek-v3"}),
        ("/api/dashboard", {"sizing": "power", "value": 1e12}),
        ("/api/fabric", {"gpus": 10_000_000, "compare": True, "oversubscription": [1, 1.5, 2, 3, 4, 8], "planes": 8,
                         "topology": "fat-tree"}),
        ("/api/design", {"accelerator": "gb200", "power": "10**10**8 W"}),
    ]
    stop = time.perf_counter() + 8
    sent = []

    def flood(i: int) -> None:
        with httpx.Client(base_url=server, timeout=60) as c:
            k = i
            while time.perf_counter() < stop:
                path, body = expensive[k % len(expensive)]
                sent.append(c.post(path, json=body).status_code)
                k += 1

    latencies = []
    with ThreadPoolExecutor(8) as pool, httpx.Client(base_url=server, timeout=30) as c:
        floods = [pool.submit(flood, i) for i in range(8)]
        time.sleep(0.5)
        while time.perf_counter() < stop - 0.5:
            t = time.perf_counter()
            r = c.get("/api/plan")
            latencies.append(time.perf_counter() - t)
            assert r.status_code == 200 and r.json()["phases"]
            time.sleep(0.2)
        for f in floods:
            f.result()
    print(f"GET /api/plan under load: {len(latencies)} requests, max {max(latencies):.3f} s, "
          f"median {sorted(latencies)[len(latencies) // 2]:.3f} s; {len(sent)} expensive requests answered")
    assert len(sent) > 8 and all(code < 500 or code == 503 for code in sent)
    assert max(latencies) < 2.0, f"GET /api/plan took {max(latencies):.2f} s under load"


def test_pareto_is_computed_once_per_sweep_state(tmp_path, cli):
    # Old: recomputed on every GET (15 s for a 30,000-design front), in the event loop. Now computed once
    # per state of the sweep's files, in a worker: a file changed behind the store's back (same size and
    # time) does not reach the page until the sweep changes.
    import os
    from pathlib import Path

    spec = Path(__file__).resolve().parents[1] / "examples" / "sweep-small.yaml"
    cli("sweep", str(spec), "--out", str(tmp_path / "r"))
    app = create_app(tmp_path / "r")
    try:
        c = TestClient(app)
        first = c.get("/pareto")
        assert first.status_code == 200 and "Pareto front" in first.text
        for f in (tmp_path / "r").rglob("*.parquet"):
            st = f.stat()
            f.write_bytes(b"\0" * st.st_size)  # what a recomputation would now fail on
            os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
        t = time.perf_counter()
        again = [c.get("/pareto") for _ in range(20)]
        assert time.perf_counter() - t < 2.0
        assert all(r.status_code == 200 and r.text == first.text for r in again)
        for f in (tmp_path / "r").rglob("*.parquet"):
            os.utime(f)  # now the sweep has changed: recomputed, and the damage is reported, not shown
        damaged = c.get("/pareto")
        assert damaged.status_code == 503 and "cannot be shown" in damaged.json()["detail"]
    finally:
        app.state.pool.close()


# -- bodies: capped on the stream, never echoed back ---------------------------------------------------------------


def test_chunked_body_over_the_cap_is_413_and_not_echoed(server):
    # Old: the cap read Content-Length only; a 64 MB chunked body was parsed and echoed back in the 422.
    def stream():
        yield b'{"accelerator": "h100", "gpus": 8, "x": "'
        for _ in range(1024):
            yield b"a" * 65536
        yield b'"}'

    with httpx.Client(base_url=server, timeout=30) as c:
        t = time.perf_counter()
        r = c.post("/api/design", content=stream(), headers={"content-type": "application/json"})
        assert r.status_code == 413 and len(r.content) < 200
        assert time.perf_counter() - t < 5
        assert c.get("/api/plan").status_code == 200  # the server is fine afterwards


def test_body_over_the_cap_in_process(client):
    r = client.post("/api/design", content=b"{" + b" " * (MAX_BODY_BYTES + 1) + b"}",
                    headers={"content-type": "application/json", "content-length": "20"})
    assert r.status_code == 413
    long_value = {"accelerator": "x" * 10_000, "gpus": 8}
    r = client.post("/api/design", json=long_value)
    assert r.status_code == 422 and len(r.content) < 2_000  # a long value is echoed bounded


def test_slow_body_is_408():
    async def slow_receive():
        await asyncio.sleep(5)
        return {"type": "http.request", "body": b"{}", "more_body": False}

    sent = []

    async def send(message):
        sent.append(message)

    async def app(scope, receive, send):  # pragma: no cover - never reached
        raise AssertionError

    t = time.perf_counter()
    asyncio.run(BodyLimit(app, max_bytes=100, max_seconds=0.2)({"type": "http", "headers": []}, slow_receive, send))
    assert sent[0]["status"] == 408 and time.perf_counter() - t < 2


# -- Host allow-list on loopback -----------------------------------------------------------------------------------


def test_loopback_server_answers_only_to_loopback_host_names():
    # Old: no Host check, so a DNS-rebinding page could drive a server on 127.0.0.1.
    app = create_app(host="127.0.0.1")
    for host, status in [("localhost:8000", 404), ("127.0.0.1", 404), ("[::1]:8000", 404),
                         ("evil.example", 400), ("localhost.evil.example:8000", 400),
                         ("127.0.0.1.nip.io", 400)]:  # the Host header as a browser sends it
        r = TestClient(app).get("/nowhere", headers={"host": host})
        assert r.status_code == status, host
        assert "detail" in r.json()
    anywhere = create_app(host="0.0.0.0")
    assert TestClient(anywhere, base_url="http://stargate.example").get("/nowhere").status_code == 404


def test_real_server_refuses_a_foreign_host(server):
    r = httpx.get(server + "/api/plan", headers={"host": "rebind.evil.example"})
    assert r.status_code == 400 and "Host" in r.json()["detail"]
    port = server.rsplit(":", 1)[1]
    assert httpx.get(server + "/api/plan", headers={"host": f"localhost:{port}"}).status_code == 200


# -- 422 bodies: the OpenAPI shape, valid JSON, the field as written -----------------------------------------------


@pytest.mark.parametrize(
    ("route", "raw", "field"),
    [
        # Old: NaN/Infinity anywhere -> HTTP 500 (the echo of NaN is not JSON).
        ("/api/design", '{"accelerator": "h100", "budget": NaN}', "budget"),
        ("/api/design", '{"accelerator": "h100", "gpus": Infinity}', "gpus"),
        ("/api/design", '{"accelerator": NaN, "gpus": 8}', "accelerator"),
        ("/api/design", '{"accelerator": "h100", "gpus": 8, "colour": -Infinity}', "colour"),
        ("/api/fabric", '{"gpus": 64, "oversubscription": [1, NaN]}', "oversubscription"),
        ("/api/train", '{"model": "llama3.1-8b", "accelerator": "h100", "gpus": 1e400}', "gpus"),
        ("/api/dashboard", '{"value": NaN}', "value"),
        ("/api/dashboard", '{"year": 1e400}', "year"),
    ],
)
def test_non_finite_numbers_are_422_naming_the_field(client, route, raw, field):
    r = client.post(route, **_nan_body(raw))
    assert r.status_code == 422
    body = json.loads(r.content, parse_constant=lambda name: pytest.fail(f"{name} in a response"))
    assert _is_validation_error(body) and body["detail"][0]["loc"][1] == field


def test_nan_does_not_break_the_connection(server):
    # Old: after the 500 for a NaN body, the next request on the same connection was reset.
    with httpx.Client(base_url=server, timeout=30) as c:
        for _ in range(3):
            assert c.post("/api/design", **_nan_body('{"accelerator": "h100", "budget": NaN}')).status_code == 422
            assert c.post("/api/design", json={"accelerator": "h100", "gpus": 8}).status_code == 200


@pytest.mark.parametrize(
    ("route", "body", "field", "echo"),
    [
        # Old: these 422s named "phases.0.budget_usd", "link" or "budget_usd": fields not in the body.
        ("/api/dashboard", {"sizing": "power", "value": 1e12}, "value", 1e12),
        ("/api/dashboard", {"sizing": "gpus", "value": 1.5}, "value", 1.5),
        ("/api/design", {"accelerator": "h100", "budget": "$1e-9"}, "budget", "$1e-9"),
        ("/api/design", {"accelerator": "h100", "power": "1 TW"}, "power", "1 TW"),
        ("/api/design", {"accelerator": "h100", "power": "10**10**8 W"}, "power", "10**10**8 W"),
        ("/api/design", {"accelerator": "h100", "gpus": 8, "energy": "coal-fired"}, "energy", "coal-fired"),
        ("/api/train", {"model": "llama3.1-8b", "accelerator": "h100", "gpus": 40_000_000}, "gpus", 40_000_000),
        ("/api/train", {"model": "llama3.1-8b", "accelerator": "h100", "gpus": 64, "tp": 3}, "tp", 3),
        ("/api/fabric", {"gpus": 64, "switch": "nonesuch"}, "switch", "nonesuch"),
    ],
)
def test_422_names_the_body_field_and_echoes_the_value_as_sent(client, route, body, field, echo):
    r = client.post(route, json=body)
    assert r.status_code == 422
    body_out = r.json()
    assert _is_validation_error(body_out)
    detail = body_out["detail"][0]
    assert detail["loc"] == ["body", field] and detail["input"] == echo and detail["type"]


def test_422_for_pydantic_errors_is_bounded_and_typed(client):
    # Old: the default handler echoed any input whole (a 1,500-item list, a 5,000-char key, a 400-digit integer).
    r = client.post("/api/design", json={"accelerator": "h100", "gpus": 10**400, "x" * 5000: list(range(1500))})
    assert r.status_code == 422 and len(r.content) < 3_000
    body = r.json()
    assert _is_validation_error(body)
    locs = sorted(d["loc"] for d in body["detail"])
    assert locs[0] == ["body", "gpus"] and locs[1][1].startswith("xxx") and " ... " in locs[1][1]
    assert len(locs[1][1]) <= 120
    union = client.post("/api/design", json={"accelerator": "h100", "budget": [1]}).json()["detail"]
    assert [d["loc"] for d in union] == [["body", "budget"]]  # no union-member tags such as "float" or "str"


def test_published_422_schema_is_the_one_served(client):
    schema = client.get("/openapi.json").json()["components"]["schemas"]
    assert schema["ValidationError"]["required"] == ["loc", "msg", "type"]
    for body in ({"accelerator": "h1000", "gpus": 8}, {"accelerator": "h100", "budget": "5 GB"}, {"gpus": "x"}):
        detail = client.post("/api/design", json=body).json()["detail"]
        for entry in detail:  # old: the core's 422s had no "type"
            shape = schema["ValidationError"]
            assert set(shape["required"]) <= set(entry) <= set(shape["properties"])


def test_scenario_with_a_nul_is_404(client):
    # Old: /scenario/x%00 -> 500 (a NUL byte reached the file system).
    for name in ("x%00", "..%2f..%2fetc%2fpasswd", "a" * 2000):
        r = client.get(f"/scenario/{name}")
        assert r.status_code == 404 and len(r.content) < 1_000


# -- connections: half-open and slow clients are closed ------------------------------------------------------------


def _in_process_server(header_seconds: float):
    import uvicorn

    from stargate.web.server import server_config

    async def app(scope, receive, send):
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})

    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    server = uvicorn.Server(server_config(app, header_seconds=header_seconds))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    return server, thread, sock.getsockname()[1]


def _closed_after(port: int, trickle: bytes, limit: float) -> float:
    """Seconds until the server closes a connection that sends ``trickle`` a byte every 0.2 s."""
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.settimeout(0.2)
        t = time.perf_counter()
        i = 0
        while time.perf_counter() - t < limit:
            try:
                if i < len(trickle):
                    s.sendall(trickle[i:i + 1])
                    i += 1
                if s.recv(1024) == b"":
                    return time.perf_counter() - t
            except TimeoutError:
                continue
            except OSError:
                return time.perf_counter() - t
    return float("inf")


def test_half_open_and_slowloris_connections_are_closed():
    # Old: uvicorn's keep-alive timer starts only after a response and stops at the first byte, so a
    # connection that sends nothing, or a byte at a time, was held open for ever.
    server, thread, port = _in_process_server(header_seconds=1.0)
    try:
        assert _closed_after(port, b"", 6) < 3
        assert _closed_after(port, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 100, 6) < 3
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as c:  # a normal client is unaffected
            assert c.get("/").text == "ok" and c.get("/").text == "ok"
    finally:
        server.should_exit = True
        thread.join(10)


# -- serve: bad options are one line and exit 2 --------------------------------------------------------------------


def test_serve_bad_port_and_host_are_one_line(cli):
    # Old: --port 70000 printed a traceback; a busy port exited 3.
    r = cli("serve", "--port", "70000")
    assert r.code == 2 and r.stderr == (
        "stargate: error: --port: 70000 is not allowed; expected a TCP port from 1 to 65535\n")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = cli("serve", "--port", str(port))
    assert r.code == 2 and r.stderr.startswith(f"stargate: error: --port: {port} is not allowed; expected a free port")
    assert r.stderr.count("\n") == 1
    r = cli("serve", "--host", "no such host!")
    assert r.code == 2 and r.stderr.startswith("stargate: error: --host: 'no such host!' is not allowed")
    r = cli("serve", "--host", "0.0.0.0", "--port", "0")
    assert r.code == 2 and "--port" in r.stderr
