"""Readable terminal summaries (rich) of designs, plans and catalog entries, gathered in one place.

Each summary lives with its concept: the one-question answers (:mod:`stargate.report.answers`: design,
fabric, train), the plan (:mod:`~stargate.report.plan_summary`), the catalog (:mod:`~stargate.report.catalog`),
validation (:mod:`~stargate.report.validation`), sweep results (:mod:`~stargate.report.sweeps`), ranges
(:mod:`~stargate.report.ranges`), and the tables and cells they share (:mod:`~stargate.report.tables`).
The shells import them from here.
"""

from __future__ import annotations

from stargate.report.answers import render_design, render_fabric, render_train
from stargate.report.catalog import render_catalog_list, render_entry
from stargate.report.plan_summary import fabric_summary, render_plan
from stargate.report.ranges import print_ranges, ranges_table
from stargate.report.sweeps import render_front, render_rows
from stargate.report.tables import MIN_CELL_WIDTH, one_line_table, print_labelled, result_cell, result_title
from stargate.report.validation import render_clusters, render_validation

__all__ = ["MIN_CELL_WIDTH", "fabric_summary", "one_line_table", "print_labelled", "print_ranges", "ranges_table",
           "render_catalog_list", "render_clusters", "render_design", "render_entry", "render_fabric", "render_front",
           "render_plan", "render_rows", "render_train", "render_validation", "result_cell", "result_title"]
