"""Charts of the rankings in the store (tables ``rankings``), as PNGs, with matplotlib's Agg
backend (no display needed):

* ``overall.png`` — the overall ranking of a snapshot: score bars, rank and rank change;
* ``dimension-<name>.png`` — each dimension's scores (data, model, infra, eval, and the
  accumulated variants when built);
* ``rank-history.png`` — every organisation's overall rank over all stored snapshots.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from .errors import ScoringError  # noqa: E402
from .store import open_store  # noqa: E402

DIMENSION_ORDER = ("data", "model", "infra", "eval", "data-accumulated", "model-accumulated")
DPI = 120


def read_rankings(db_path: str | Path) -> list[dict]:
    path = Path(db_path)
    conn = open_store(path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(
            "SELECT snapshot, dimension, org, score, rank, delta_rank FROM rankings "
            "ORDER BY snapshot, dimension, rank, org")]
    except sqlite3.OperationalError as err:
        raise ScoringError(f"{path}: no rankings table ({err}); run `python -m scoring build "
                           f"--snapshot YYYY-MM-DD --db {path}`") from None
    finally:
        conn.close()


def _delta(value) -> str:
    if value is None:  # an organisation new this snapshot
        return "new"
    return f"▲{value}" if value > 0 else f"▼{-value}" if value < 0 else "="


def bar_chart(rows: list[dict], title: str, path: Path, colour: str) -> Path:
    """Horizontal bars of ``score``, best at the top, each labelled with rank and change."""
    rows = sorted(rows, key=lambda r: (r["rank"], r["org"]))
    height = max(3.0, 0.28 * len(rows) + 1.2)
    fig, ax = plt.subplots(figsize=(8, height))
    labels = [f"{r['rank']}. {r['org']}" for r in rows]
    scores = [r["score"] or 0.0 for r in rows]
    ax.barh(range(len(rows)), scores, color=colour)
    ax.set_yticks(range(len(rows)), labels, fontsize=8)
    ax.invert_yaxis()
    top = max(scores + [1e-9])
    compared = any(r["delta_rank"] is not None for r in rows)  # else no earlier snapshot
    for i, row in enumerate(rows):
        change = f"  {_delta(row['delta_rank'])}" if compared else ""
        ax.text(scores[i] + top * 0.01, i, f"{scores[i]:.3f}{change}", va="center", fontsize=7)
    ax.set_xlim(0, top * 1.18)
    ax.set_xlabel("score")
    ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def rank_history(rows: list[dict], path: Path, dimension: str = "overall") -> Path:
    """One line per organisation: its rank in each stored snapshot (1 at the top)."""
    rows = [r for r in rows if r["dimension"] == dimension]
    snapshots = sorted({r["snapshot"] for r in rows})
    orgs = sorted({r["org"] for r in rows},
                  key=lambda o: next((r["rank"] for r in reversed(rows) if r["org"] == o), 0))
    x = {s: i for i, s in enumerate(snapshots)}
    worst = max((r["rank"] for r in rows), default=1)
    fig, ax = plt.subplots(figsize=(1.3 * len(snapshots) + 5, max(4.0, 0.26 * worst + 1.5)))
    colours = plt.get_cmap("tab10").colors
    styles = ("-", "--", ":", "-.")
    ends: dict[tuple, list[str]] = {}  # (x, rank) -> orgs ending there (ties share a label)
    for i, org in enumerate(orgs):
        points = sorted((x[r["snapshot"]], r["rank"]) for r in rows if r["org"] == org)
        xs, ys = zip(*points)
        colour = colours[i % len(colours)]
        ax.plot(xs, ys, marker="o", markersize=3, linewidth=1.4, color=colour,
                linestyle=styles[i // len(colours) % len(styles)])
        ends.setdefault((xs[-1], ys[-1]), []).append(org)
    for (x_end, y_end), names in ends.items():
        ax.annotate(", ".join(names), (x_end, y_end), xytext=(6, 0), textcoords="offset points",
                    va="center", fontsize=7)
    ax.set_xticks(range(len(snapshots)), snapshots, rotation=30, ha="right", fontsize=8)
    ax.set_xlim(-0.3, (len(snapshots) - 1) * 1.1 + 1.1)  # room for the labels on the right
    ax.set_ylim(worst + 0.5, 0.5)
    ax.set_ylabel(f"{dimension} rank")
    ax.set_title(f"{dimension.capitalize()} rank per snapshot")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def write_charts(db_path: str | Path, snapshot: str, out_dir: str | Path) -> list[Path]:
    """All charts of ``snapshot``; raises ScoringError when it has no rankings."""
    rows = read_rankings(db_path)
    current = [r for r in rows if r["snapshot"] == snapshot]
    if not current:
        known = sorted({r["snapshot"] for r in rows})
        raise ScoringError(f"{db_path}: no rankings for snapshot {snapshot} (stored: "
                           f"{', '.join(known) or 'none'}); run `python -m scoring build "
                           f"--snapshot {snapshot} --db {db_path}` first")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    by_dim: dict[str, list[dict]] = {}
    for row in current:
        by_dim.setdefault(row["dimension"], []).append(row)
    written = []
    if "overall" in by_dim:
        written.append(bar_chart(by_dim["overall"], f"Overall ranking, {snapshot}",
                                 out / "overall.png", "#3b6ea5"))
    dims = [d for d in DIMENSION_ORDER if d in by_dim]
    dims += sorted(d for d in by_dim if d not in dims and not d.startswith("overall"))
    for dim in dims:
        written.append(bar_chart(by_dim[dim], f"{dim.capitalize()} scores, {snapshot}",
                                 out / f"dimension-{dim}.png", "#5a9e6f"))
    history = [r for r in rows if r["snapshot"] <= snapshot]
    written.append(rank_history(history, out / "rank-history.png"))
    return written
