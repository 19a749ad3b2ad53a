"""The ``stargate`` command line: a thin shell over the core.

The typer app, its entry point and the options every command shares are in
:mod:`stargate.cli.shell`; the commands are grouped by what they answer: one question each
(:mod:`~stargate.cli.answers`), a scenario's plan (:mod:`~stargate.cli.plans`), design-space sweeps
(:mod:`~stargate.cli.sweeps`), the project's data and services (:mod:`~stargate.cli.data`). They are
registered here, in the order ``stargate --help`` lists them.
"""

from __future__ import annotations

from stargate.cli import answers, data, plans, sweeps
from stargate.cli.shell import app, catalog_app, main

__all__ = ["app", "main"]

for _name, _command in (
    ("design", answers.design), ("plan", plans.plan), ("sensitivity", plans.sensitivity), ("report", plans.report),
    ("fabric", answers.fabric), ("train", answers.train_cmd), ("infer", answers.infer_cmd),
    ("validate", data.validate_cmd), ("sweep", sweeps.sweep), ("query", sweeps.query), ("pareto", sweeps.pareto),
    ("compare", plans.compare_cmd), ("serve", data.serve), ("schema", data.schema),
):
    app.command(name=_name)(_command)
catalog_app.command("list")(data.catalog_list)
catalog_app.command("show")(data.catalog_show)
