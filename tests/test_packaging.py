"""The package as it says: licence and notice shipped, extras with a one-line error when missing,
the core running without any extra, the version from the installed metadata, the lower bounds
stated for every direct dependency, and py.typed."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]
OPTIONAL = {"fastapi", "uvicorn", "starlette", "duckdb", "pyarrow", "dask", "distributed", "networkx", "salib"}
"""Libraries only the web server, sweeps, Dask, the graph checks or the Sobol indices use (scipy is core: every
``--uncertainty`` samples with it)."""


def _names(requirements: list[str]) -> set[str]:
    return {canonicalize_name(Requirement(r).name) for r in requirements}


def _extra(name: str) -> set[str]:
    """Distributions an extra installs, following this project's own extras it names."""
    out: set[str] = set()
    for text in PROJECT["optional-dependencies"][name]:
        req = Requirement(text)
        if canonicalize_name(req.name) == "stargate":
            for sub in req.extras:
                out |= _extra(sub)
        else:
            out.add(canonicalize_name(req.name))
    return out


# -- extras ----------------------------------------------------------------------------------------------------------


def test_the_core_installs_no_optional_library():
    # Old: fastapi, uvicorn, dask, duckdb, pyarrow and networkx were all mandatory.
    assert not _names(PROJECT["dependencies"]) & OPTIONAL
    assert {"fastapi", "uvicorn", "starlette"} <= _extra("web")
    assert {"duckdb", "pyarrow"} <= _extra("sweep")
    assert {"dask", "duckdb", "pyarrow"} <= _extra("dask")
    assert "scipy" in _extra("calibrate")
    assert "salib" in _extra("uncertainty")


def test_the_test_extra_installs_every_extra_and_networkx():
    test = _extra("test")
    for name in ("web", "sweep", "dask", "calibrate", "uncertainty"):
        assert _extra(name) <= test, name
    assert "networkx" in test


def test_each_extra_provides_the_modules_its_commands_import():
    from stargate.extras import EXTRAS

    providers = importlib.metadata.packages_distributions()
    for extra, modules in EXTRAS.items():
        for module in modules:
            dists = {canonicalize_name(d) for d in providers[module.split(".")[0]]}
            assert dists & _extra(extra), (extra, module)


def _sweep_dir(tmp_path: Path) -> Path:
    spec = tmp_path / "spec.yaml"
    spec.write_text("name: t\naxes:\n  accelerator: [h100]\n  gpus: [8]\n", encoding="utf-8")
    return spec


@pytest.mark.parametrize(
    ("args", "blocked", "what", "extra"),
    [
        (["serve"], "fastapi", "'stargate serve'", "web"),
        (["serve"], "uvicorn", "'stargate serve'", "web"),
        (["serve", "--sweep", "DIR"], "duckdb", "--sweep", "sweep"),
        (["sweep", "SPEC", "--out", "DIR"], "pyarrow", "'stargate sweep'", "sweep"),
        (["sweep", "SPEC", "--out", "DIR", "--dask-local", "2"], "dask.distributed", "--dask-local", "dask"),
        (["sweep", "SPEC", "--out", "DIR", "--scheduler", "tcp://127.0.0.1:1"], "dask.distributed", "--scheduler", "dask"),
        (["plan", "--uncertainty", "10", "--dask-local", "2", "-o", "DIR"], "dask.distributed", "--dask-local", "dask"),
        (["report", "--scheduler", "tcp://127.0.0.1:1", "-o", "DIR"], "dask.distributed", "--scheduler", "dask"),
        (["query", "DIR", "SELECT 1"], "duckdb", "'stargate query'", "sweep"),
        (["pareto", "DIR"], "duckdb", "'stargate pareto'", "sweep"),
    ],
)
def test_a_missing_extra_is_one_line_naming_it(cli, monkeypatch, tmp_path, args, blocked, what, extra):
    # Old: a traceback-free but cryptic "internal error: ModuleNotFoundError" (exit 1), or a crash mid-way.
    spec = _sweep_dir(tmp_path)
    args = [str(spec) if a == "SPEC" else str(tmp_path / "out") if a == "DIR" else a for a in args]
    monkeypatch.setitem(sys.modules, blocked, None)  # as if it were not installed
    r = cli(*args)
    package = blocked.split(".")[0]
    assert r.code == 2 and r.stdout == ""
    assert r.stderr == (f"stargate: error: {what} needs the {extra} extra ({package} is not installed): "
                        f"pip install 'stargate[{extra}]'\n")
    assert not (tmp_path / "out").exists()  # refused before any work


_BLOCKER = """
import sys, importlib.abc
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {blocked!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}")
        return None
sys.meta_path.insert(0, Block())
for name in list(sys.modules):
    if name.split(".")[0] in {blocked!r}:
        del sys.modules[name]
sys.argv = ["stargate", *{args!r}]
from stargate.cli import main
main()
"""


def _without_extras(*args: str) -> subprocess.CompletedProcess[str]:
    code = _BLOCKER.format(blocked=sorted(OPTIONAL), args=list(args))
    return subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120,
                          cwd=ROOT)


def test_the_main_job_runs_without_any_extra(tmp_path):
    """`stargate plan` (and its HTML report) on the core alone, every optional library unimportable."""
    report = tmp_path / "report.html"
    r = _without_extras("plan", "--json", "-o", str(report))
    assert r.returncode == 0, r.stderr
    phases = json.loads(r.stdout)["phases"]
    assert len(phases) == 5 and all(p["design"]["gpus"] > 0 for p in phases)
    assert report.stat().st_size > 100_000  # the offline report, plotly inlined
    r = _without_extras("design", "--accelerator", "h100", "--gpus", "1024", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["gpus"] == 1024, r.stderr
    r = _without_extras("serve")
    assert r.returncode == 2 and r.stderr.startswith("stargate: error: 'stargate serve' needs the web extra")


# -- version, lower bounds --------------------------------------------------------------------------------------------


def test_version_is_the_installed_metadata():
    # Old: a second copy of the version in stargate/__init__.py, printed whatever was installed.
    import stargate

    assert stargate.__version__ == importlib.metadata.version("stargate") == PROJECT["version"]
    code = ("import importlib.metadata as m, sys\n"
            "real = m.version\n"
            "m.version = lambda name: '9.8.7' if name == 'stargate' else real(name)\n"
            "sys.argv = ['stargate', '--version']\n"
            "from stargate.cli import main\n"
            "main()\n")
    r = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=60)
    assert (r.returncode, r.stdout, r.stderr) == (0, "stargate 9.8.7\n", "")


def test_every_direct_dependency_states_a_lower_bound_that_is_installed():
    """The lowest-versions CI run pins each of these to its bound; here, each installed version
    meets it (so the suite never passes on a version the bounds exclude)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from lowest_versions import lower_bound, requirements
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    reqs = requirements(PROJECT, ["test"])
    assert len(reqs) >= 20
    for req in reqs:
        bound = Version(lower_bound(req))
        assert Version(importlib.metadata.version(req.name)) >= bound, req


def test_build_system_can_write_the_licence_expression():
    # PEP 639: setuptools before 77 cannot build the `license = "Apache-2.0"` expression.
    req = Requirement(PYPROJECT["build-system"]["requires"][0])
    assert req.name == "setuptools" and not req.specifier.contains("76.9") and req.specifier.contains("77.0.3")
    assert PROJECT["license"] == "Apache-2.0"


# -- what the distribution ships ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    """The sdist, and the wheel built from it, by the project's own build backend."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    (sdist,) = out.glob("stargate-*.tar.gz")
    assert sdist.stat().st_size > 1_000_000  # the kernel tables travel in the sdist too
    (whl,) = out.glob("stargate-*.whl")
    return zipfile.ZipFile(whl)


def test_the_wheel_ships_licence_notice_and_the_data_licence(wheel):
    # Old: no LICENSE file; the NOTICE for the AIConfigurator-derived tables only inside kernels.yaml.
    names = set(wheel.namelist())
    info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
    licence = wheel.read(f"{info}/licenses/LICENSE").decode()
    assert "Apache License" in licence and "Version 2.0, January 2004" in licence
    assert licence == (ROOT / "src/stargate/kernels/data/LICENSE-Apache-2.0.txt").read_text(encoding="utf-8")
    notice = wheel.read(f"{info}/licenses/NOTICE").decode()
    assert "NVIDIA AIConfigurator" in notice and "095f58a51c4ca8e61b66ec108d86f223f8d559ce" in notice
    assert {"stargate/kernels/data/LICENSE-Apache-2.0.txt", "stargate/kernels/data/kernels.yaml"} <= names
    assert "NVIDIA AIConfigurator" in wheel.read("stargate/kernels/data/kernels.yaml").decode()
    metadata = wheel.read(f"{info}/METADATA").decode()
    assert "License-Expression: Apache-2.0" in metadata
    for extra in ("web", "sweep", "dask", "calibrate", "uncertainty", "test"):
        assert f"Provides-Extra: {extra}" in metadata


def test_the_wheel_ships_py_typed_and_every_data_file(wheel):
    # Old: no py.typed, so type checkers ignored the package's annotations.
    names = set(wheel.namelist())
    assert "stargate/py.typed" in names
    for folder, pattern in [("catalog/data", "*.yaml"), ("scenarios", "*.yaml"), ("kernels/data", "*.npz"),
                            ("report/templates", "*.html"), ("training", "*.yaml")]:
        files = sorted((ROOT / "src/stargate" / folder).glob(pattern))
        assert files and all(f"stargate/{folder}/{f.name}" in names for f in files), folder
