"""Rankings of organisations by open-source influence, the OSIR-LMTS way, on pandas DataFrames.

Per-organisation summary tables (one per dimension: data, model, infra, eval, plus accumulated
data/model) go in; the published rank files come out, reproduced exactly from the published
summaries. The method is configuration: ``data/method.yaml`` (see :mod:`scoring.method`).

Python API::

    from scoring import rank_month, load_method, read_month, read_previous, write_outputs

    method = load_method()                      # data/method.yaml
    ranking = rank_month({"data": data_frame_or_records, "model": ..., "infra": ...,
                          "eval": ...}, method, previous=last_month_ranking)
    ranking.rankings["overall-rank"].loc["BAAI", "rank"]
    write_outputs(ranking, "data/rankings/2025-09-07")          # all files, or none

A build from the store (:mod:`scoring.build`) is a chain of steps, each a module:
load (:mod:`scoring.store`) -> classify (:mod:`scoring.classify`, rules in
:mod:`scoring.rules`) -> summarise (:mod:`scoring.summaries`, curated values in
:mod:`scoring.curated`, quirks in :mod:`scoring.profile`) -> rank (:mod:`scoring.rank`) ->
write (:mod:`scoring.io`, :mod:`scoring.store`). Constants: :mod:`scoring.vocabulary`.
Also :mod:`scoring.explain` (one organisation's breakdown) and :mod:`scoring.cli`
(``python -m scoring``; subcommands in :mod:`scoring.commands`).
"""

from .errors import ScoringError
from .explain import explain_org, format_explanation
from .io import read_month, read_previous, read_table, write_outputs
from .method import Dimension, Method, default_method, load_indicator_labels, load_method
from .rank import MonthRanking, Previous, rank_month
from .summary_frames import as_summary

__all__ = [
    "ScoringError", "as_summary", "Method", "Dimension", "default_method", "load_method",
    "load_indicator_labels", "rank_month", "MonthRanking", "Previous", "read_table",
    "read_month", "read_previous", "write_outputs", "explain_org", "format_explanation",
]
