"""Rankings of organisations by open-source influence, the OSIR-LMTS way.

Per-organisation summary tables (one per dimension: data, model, infra, eval,
plus accumulated data/model) go in; the published rank files come out,
reproduced exactly from the published summaries. The method is configuration:
``data/method.yaml`` (see :mod:`scoring.method`).

Python API::

    from scoring import rank_month, load_method, read_month, read_previous, write_outputs

    method = load_method()                      # data/method.yaml
    ranking = rank_month({"data": [{"org": "BAAI", "num_language": 79, ...}, ...],
                          "model": ..., "infra": ..., "eval": ...},
                         method, previous=last_month_ranking)   # MonthRanking / Previous / None
    ranking.rankings["overall-rank"].rank_of("BAAI")
    write_outputs(ranking, "data/rankings/2025-09-07")          # all files, or none

Modules: :mod:`scoring.table` (input tables), :mod:`scoring.method` (the
method file), :mod:`scoring.rank` (the algorithm), :mod:`scoring.io` (CSV in
and out), :mod:`scoring.explain` (one organisation's breakdown),
:mod:`scoring.cli` (``python -m scoring``; subcommands in :mod:`scoring.commands`).
"""

from .errors import ScoringError
from .explain import explain_org, format_explanation
from .io import read_month, read_previous, read_table, write_outputs
from .method import Dimension, Method, default_method, load_indicator_labels, load_method
from .rank import DeltaTable, MonthRanking, Previous, RankTable, rank_month
from .table import Table, as_table

__all__ = [
    "ScoringError", "Table", "as_table", "Method", "Dimension", "default_method", "load_method",
    "load_indicator_labels", "rank_month", "MonthRanking", "RankTable", "DeltaTable", "Previous",
    "read_table", "read_month", "read_previous", "write_outputs", "explain_org",
    "format_explanation",
]
