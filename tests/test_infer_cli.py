"""`stargate infer`: the contract of DESIGN.md, the economics recomputed by hand, the frontier, and bad input."""

import csv
import io
import itertools

import pytest

INFER = ["infer", "--model", "llama3.1-70b", "--accelerator", "h200", "--gpus", "8", "--input-tokens", "1024",
         "--output-tokens", "1024"]
CONTRACT = ("tokens_per_s_per_gpu", "tokens_per_s", "ttft_s", "tpot_s", "max_concurrency", "kv_cache_bytes_per_gpu",
            "deployment", "frontier", "tokens_per_mw", "usd_per_million_tokens")


def _infer(cli, *extra):
    r = cli(*INFER, *extra, "--json")
    assert r.code == 0, r.stderr
    return r.json()


@pytest.mark.parametrize("accelerator", ["h200", "gb200", "mi355x"])
def test_infer_json_contract_and_consistency(cli, catalog, accelerator):
    args = list(INFER)
    args[args.index("h200")] = accelerator
    r = cli(*args, "--json")
    assert r.code == 0, r.stderr
    d = r.json()
    for key in CONTRACT:
        assert key in d, key
    assert d["tokens_per_s"] == pytest.approx(d["tokens_per_s_per_gpu"] * 8, rel=1e-12)
    dep = d["deployment"]
    for key in ("tp", "pp", "ep", "batch", "replicas", "replica_gpus", "prefill_decode_split"):
        assert key in dep
    assert dep["replicas"] * dep["replica_gpus"] <= 8
    # dollars per million tokens, by hand: TCO per GPU-hour x GPUs over the tokens of an hour
    hourly = d["tco_usd_per_gpu_hour"] * 8
    assert d["usd_per_million_tokens"] == pytest.approx(hourly / (d["tokens_per_s"] * 3600) * 1e6, rel=1e-12)
    # the input and output prices split that hour by prefill's share of the GPU time
    input_tokens_per_hour = d["tokens_per_s"] * 3600 * 1024 / 1024
    share = d["prefill_time_share"]
    assert d["usd_per_million_input_tokens"] == pytest.approx(hourly * share / input_tokens_per_hour * 1e6)
    assert d["usd_per_million_output_tokens"] == pytest.approx(hourly * (1 - share) / (d["tokens_per_s"] * 3600) * 1e6)
    # tokens per MW of facility power: the design's facility power per GPU, for the 8 GPUs serving
    design = cli("design", "--accelerator", accelerator, "--gpus", "8", "--json").json()
    facility_w = design["facility_power_w"] / design["gpus"] * 8
    assert d["facility_power_w"] == pytest.approx(facility_w)
    assert d["tokens_per_mw"] == pytest.approx(d["tokens_per_s"] / (facility_w / 1e6))
    assert d["tco_usd_per_gpu_hour"] == pytest.approx(design["tco_usd_per_gpu_hour"])
    assert d["tokens_per_s_per_user"] == pytest.approx(1 / d["tpot_s"])
    assert d["requests_per_s"] == pytest.approx(d["tokens_per_s"] / 1024)
    assert d["accelerator"] == catalog.accelerator(accelerator).id


def test_infer_frontier_is_monotone_and_holds_the_best_point(cli):
    d = _infer(cli)
    f = d["frontier"]
    assert len(f) >= 3
    users = [p["tokens_per_s_per_user"] for p in f]
    per_gpu = [p["tokens_per_s_per_gpu"] for p in f]
    assert users == sorted(users, reverse=True)  # fastest user first ...
    assert all(b > a for a, b in itertools.pairwise(per_gpu))  # ... and more throughput as users slow
    # with no limit the best point is the most throughput per GPU: the frontier's last point
    assert d["tokens_per_s_per_gpu"] == pytest.approx(per_gpu[-1])


def test_infer_limits_hold_at_p99(cli):
    loose = _infer(cli)
    tight = _infer(cli, "--tpot", "40 ms", "--ttft", "0.5")
    assert tight["meets_limits"] and tight["tpot_p99_s"] <= 0.040 and tight["ttft_p99_s"] <= 0.5
    assert tight["tokens_per_s_per_gpu"] < loose["tokens_per_s_per_gpu"]  # interactivity costs throughput
    same = _infer(cli, "--tokens-per-user", "25")  # 25 tokens/s per user is a 40 ms TPOT
    assert same["request"]["tpot_limit_s"] == pytest.approx(0.040)
    assert same["tpot_p99_s"] <= 0.040
    assert _infer(cli, "--tpot", "0.04")["request"]["tpot_limit_s"] == pytest.approx(0.040)


def test_infer_sized_by_budget_serves_the_designed_gpus(cli):
    d = _infer(cli, "--gpus", "8")
    args = [a for a in INFER if a not in ("--gpus", "8")]
    r = cli(*args, "--budget", "$100M", "--json")
    assert r.code == 0, r.stderr
    b = r.json()
    design = cli("design", "--accelerator", "h200", "--budget", "$100M", "--json").json()
    assert b["gpus"] == design["gpus"] > 8
    assert b["facility_power_w"] == pytest.approx(design["facility_power_w"])
    assert b["tokens_per_s"] == pytest.approx(b["tokens_per_s_per_gpu"] * b["gpus"])
    assert d["gpus"] == 8


def test_infer_text_summary_fits_80_columns(cli):
    r = cli(*INFER, "--tokens-per-user", "20")
    assert r.code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 80
    d = _infer(cli, "--tokens-per-user", "20")
    assert f"{d['tokens_per_s_per_gpu']:,.0f} per GPU" in r.stdout
    assert "frontier" in r.stdout and "TTFT" in r.stdout
    # the frontier table is thinned to a few rows, but the chosen point it promises in bold is always one of them
    row = f"{d['tokens_per_s_per_user']:,.1f}" if "tokens_per_s_per_user" in d else f"{1 / d['tpot_s']:,.1f}"
    assert any(line.split()[:2] == [row, f"{d['tokens_per_s_per_gpu']:,.0f}"] for line in lines if line.strip())


def test_infer_csv_parses_with_units(cli):
    r = cli(*INFER, "--csv")
    assert r.code == 0, r.stderr
    rows = list(csv.reader(io.StringIO(r.stdout)))
    assert rows[0] == ["table", "name", "unit", "value"]
    by_name = {(t, n): (u, v) for t, n, u, v in rows[1:]}
    d = _infer(cli)
    assert float(by_name[("", "tokens_per_s")][1]) == pytest.approx(d["tokens_per_s"])
    assert by_name[("", "tokens_per_s")][0] == "token/s"
    assert by_name[("", "usd_per_million_tokens")][0] == "USD/Mtoken"
    assert by_name[("", "ttft_s")][0] == "s"
    assert ("frontier[0]", "tokens_per_s_per_user") in by_name
    assert cli(*INFER, "--csv", "--json").code == 2


@pytest.mark.parametrize(
    ("extra", "option", "typed"),
    [
        (["--tpot", "50 ms", "--tokens-per-user", "20"], "--tokens-per-user", "20"),
        (["--model", "llama-9000"], "--model", "llama-9000"),
        (["--accelerator", "h1000"], "--accelerator", "h1000"),
        (["--accelerator", "a100", "--precision", "fp8"], "--precision", "fp8"),  # the A100 has no fp8 matrix units
        (["--precision", "fp7"], "--precision", "fp7"),
        (["--model", "llama3.1-405b", "--gpus", "1"], "--gpus", "1"),  # 405B parameters do not fit on one GPU
        (["--input-tokens", "1e400"], "--input-tokens", "1e400"),
        (["--output-tokens", "0"], "--output-tokens", "0"),
        (["--ttft", "nan"], "--ttft", "nan"),
        (["--ttft", "5 GW"], "--ttft", "5 GW"),
        (["--tpot", "1e9"], "--tpot", "1e9"),
        (["--tokens-per-user", "inf"], "--tokens-per-user", "inf"),
        (["--gpus", "9" * 30], "--gpus", "9" * 30),
        (["--kv-dtype", "fp4"], "--kv-dtype", "fp4"),
        (["--disaggregated", "maybe"], "--disaggregated", "maybe"),
        (["--framework", "tgi"], "--framework", "tgi"),
        (["--scale-out", "1 bit/s"], "--scale-out", "1 bit/s"),
        (["--budget", "$1B"], "sizing", "--gpus, --budget"),
    ],
)
def test_infer_bad_input_one_line_exit_2(cli, extra, option, typed):
    args = list(INFER)
    for flag, value in zip(extra[::2], extra[1::2], strict=True):
        if flag in args and flag != "--budget":
            args[args.index(flag) + 1] = value
        else:
            args += [flag, value]
    r = cli(*args)
    assert r.code == 2, (r.code, r.stderr)
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"stargate: error: {option}: ")
    assert repr(typed)[1:-1] in lines[0] and "Traceback" not in r.stderr


def test_infer_sized_by_power_that_buys_nothing_names_power(cli):
    args = [a for a in INFER if a not in ("--gpus", "8")]
    r = cli(*args, "--power", "1 W")
    assert r.code == 2 and r.stderr.startswith("stargate: error: --power: '1 W'")


def test_infer_reads_a_hugging_face_config_like_the_preset(cli):
    from pathlib import Path

    fixture = str(Path(__file__).parent / "fixtures" / "hf" / "llama-3.1-8b.json")
    args = ["infer", "--accelerator", "h100", "--gpus", "1", "--input-tokens", "512", "--output-tokens", "128", "--json"]
    from_file = cli(*args, "--model", fixture).json()
    from_preset = cli(*args, "--model", "llama3.1-8b").json()
    assert from_file["kv_bytes_per_token"] == from_preset["kv_bytes_per_token"] == 2 * 32 * 8 * 128 * 1  # K, V; fp8
    assert from_file["tokens_per_s_per_gpu"] == pytest.approx(from_preset["tokens_per_s_per_gpu"], rel=0.05)


def test_infer_says_when_a_chip_borrows_its_kernel_times(cli):
    args = [a if a != "h200" else "mi355x" for a in INFER]
    d = cli(*args, "--json").json()
    assert d["calibrated"] is False and any("borrows" in n for n in d["notes"])
    assert _infer(cli)["calibrated"] is True
