"""Discovery: the unregistered authors that would rank among the top N of the model or data
dimension, from an ecosystem build (``python -m scoring build --universe all``), so that a
maintainer can add them to ``data/orgs.yaml`` with sources.

    frame = discovered(result, top=32)       # result: build(..., universe="all")
    write_report(frame, result, top, "data/reports/2025-10-07")  # discovery.md and .csv

An unregistered author is an org named ``platform:author`` (a ``-a universe=all`` crawl stores
the repositories of authors outside the registry so). Its numbers are the ones the method
ranks with: the model summary (monthly downloads of kept large models, their count, likes,
descendants) and the data summary (monthly downloads and count of valid datasets, usage).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from osir_crawl.inputs.registry import UNREGISTERED_SEPARATOR
from osir_crawl.ops.text_tables import table_lines

from .vocabulary import DATASET_COLUMN_MODALITIES, MODEL_COLUMN_MODALITIES, column

ACCOUNT_PAGES = {"huggingface": "https://huggingface.co/{}",
                 "modelscope": "https://modelscope.cn/organization/{}"}
COLUMNS = ("org", "platform", "account", "best_rank", "model_rank", "data_rank", "overall_rank",
           "model_downloads", "models", "likes", "descendants", "dataset_downloads", "datasets",
           "dataset_usage", "account_page")


def _sum(table: pd.DataFrame, prefix: str, labels) -> pd.Series:
    return table[[f"{prefix}{column(label)}" for label in labels]].sum(axis=1)


def discovered(result, top: int) -> pd.DataFrame:
    """One row per unregistered author ranked within ``top`` in the model or data dimension,
    best placed first (see :data:`COLUMNS`)."""
    rankings, tables = result.ranking.rankings, result.tables
    ranks = pd.DataFrame({"model_rank": rankings["model-rank"]["rank"],
                          "data_rank": rankings["data-rank"]["rank"]})
    ranks["overall_rank"] = rankings["overall-rank"]["rank"].reindex(ranks.index)
    unregistered = ranks.index.str.contains(UNREGISTERED_SEPARATOR, regex=False)
    best = ranks[["model_rank", "data_rank"]].min(axis=1)
    chosen = ranks[unregistered & (best <= top)].assign(best_rank=best)
    model, data = tables["model"].reindex(chosen.index), tables["data"].reindex(chosen.index)
    platform, _, account = chosen.index.to_series().str.partition(UNREGISTERED_SEPARATOR).T.values
    out = chosen.assign(
        org=chosen.index, platform=platform, account=account,
        model_downloads=_sum(model, "downloads_", MODEL_COLUMN_MODALITIES),
        models=_sum(model, "num_", MODEL_COLUMN_MODALITIES), likes=model["likes"],
        descendants=model["descendants"],
        dataset_downloads=_sum(data, "downloads_", DATASET_COLUMN_MODALITIES),
        datasets=_sum(data, "num_", DATASET_COLUMN_MODALITIES),
        dataset_usage=data["dataset_usage"],
        account_page=[ACCOUNT_PAGES.get(p, "{}").format(a) for p, a in zip(platform, account)])
    out = out.reset_index(drop=True)
    out = out.sort_values(["best_rank", "model_rank", "data_rank", "org"], kind="stable")
    return out[list(COLUMNS)].reset_index(drop=True)


def last_registered(result, top: int) -> dict:
    """For comparison: per dimension, the registry organisation at rank ``top`` or the last
    one above it, and its monthly downloads."""
    out = {}
    for dim, labels in (("model", MODEL_COLUMN_MODALITIES), ("data", DATASET_COLUMN_MODALITIES)):
        frame = result.ranking.rankings[f"{dim}-rank"]
        registered = frame[~frame.index.str.contains(UNREGISTERED_SEPARATOR, regex=False)]
        within = registered[registered["rank"] <= top].sort_values("rank", kind="stable")
        if len(within):
            org = within.index[-1]
            downloads = _sum(result.tables[dim].loc[[org]], "downloads_", labels).iloc[0]
            out[dim] = (org, int(within["rank"].iloc[-1]), int(downloads))
    return out


def write_report(frame: pd.DataFrame, result, top: int, out_dir) -> list[Path]:
    """``discovery.md`` (for people) and ``discovery.csv`` (the same rows) in ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = out / "discovery.csv", out / "discovery.md"
    frame.to_csv(csv_path, index=False, lineterminator="\n")
    md_path.write_text(_markdown(frame, result, top), encoding="utf-8")
    return [md_path, csv_path]


def _markdown(frame, result, top) -> str:
    ranked = len(result.ranking.rankings["overall-rank"])
    authors = int(result.ranking.rankings["overall-rank"].index.str.contains(
        UNREGISTERED_SEPARATOR, regex=False).sum())
    lines = [
        f"# Discovery: unregistered authors in the top {top}, snapshot {result.snapshot}",
        "",
        f"The ecosystem ranking (`python -m scoring build --snapshot {result.snapshot} "
        f"--universe all`, profile {result.profile}) ranks {ranked:,} organisations, "
        f"{authors:,} of them authors outside `data/orgs.yaml`. These {len(frame):,} would rank "
        f"within the top {top} of the model or the data dimension. Monthly downloads and counts "
        "are those the method ranks with (kept large models; valid datasets).",
        "",
    ]
    for dim, (org, rank, downloads) in last_registered(result, top).items():
        lines.append(f"For comparison, {dim}: the registry's last organisation within the top "
                     f"{top} is {org} (rank {rank}, {downloads:,} monthly downloads).")
    rows = [[i, f"[{r.org}]({r.account_page})", _rank(r.model_rank), _rank(r.data_rank),
             _rank(r.overall_rank), f"{r.model_downloads:,}", f"{r.models:,}", f"{r.likes:,}",
             f"{r.descendants:,}", f"{r.dataset_downloads:,}", f"{r.datasets:,}",
             f"{r.dataset_usage:,}"] for i, r in enumerate(frame.itertuples(index=False), start=1)]
    lines += ["", *table_lines(("#", "author", "model rank", "data rank", "overall",
                                "model downloads", "models", "likes", "descendants",
                                "dataset downloads", "datasets", "usage"),
                               rows or [["", "none", *[""] * 10]])]
    lines += ["", "## Adding one to the registry", "",
              "Check who the account belongs to (its page, the organisation's own site), then add "
              "it to `data/orgs.yaml` with the evidence, under an existing organisation or a new "
              "one:", ""]
    for r in frame.head(1).itertuples(index=False):
        lines += ["```yaml", f"# {r.org}: which organisation publishes as {r.account}? "
                  "Name it (or use an existing one):",
                  "OrganisationName:", f"  {r.platform}:",
                  f"    - {{account: {r.account}, source: \"{r.account_page}\"}}", "```"]
    lines += ["", "The next crawl then credits its repositories to that organisation; the "
              "registry ranking ranks it once `data/curated/infra.csv` and `eval.csv` list it.",
              ""]
    return "\n".join(lines)


def _rank(value) -> str:
    return "" if value != value else str(int(value))
