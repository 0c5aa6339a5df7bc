"""Writing the site: one page per month and ranking, per organisation and month, the downloads
page, in each language; the charts and the downloads they link. Every link is relative, so the
folder opens from disk (``index.html``) or from any web server path.

    FOLDER/index.html                      the latest overall ranking (English), = en/index.html
    FOLDER/{en,zh}/index.html              the latest overall ranking
    FOLDER/{en,zh}/MONTH/RANKING.html      overall, overall-accumulated, data, data-accumulated …
    FOLDER/{en,zh}/orgs/SLUG/index.html    an organisation: history, breakdown and provenance of
                                           the last month it is ranked in
    FOLDER/{en,zh}/orgs/SLUG/MONTH.html    the same for an earlier month
    FOLDER/{en,zh}/downloads.html          every table as CSV and Parquet
    FOLDER/charts/…svg, FOLDER/downloads/…{csv,parquet}, FOLDER/style.css
    FOLDER/orgs.json (organisation -> its page, for Datasette), FOLDER/site.json (the store)
"""

from __future__ import annotations

import datetime as dt
import json
import posixpath
import shutil
from fractions import Fraction
from pathlib import Path

import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from ..errors import ScoringError
from ..explain import not_measured
from ..io import publishing
from . import svg
from .data import OVERALL, SiteData, explain, movers, new_orgs
from .i18n import LANGUAGE_NAMES, LANGUAGES, dimension_name, indicator_label, word
from .tables import Column, Table, delta_text, for_download, headings, number, view

TEMPLATES = Path(__file__).resolve().parent / "templates"
BASES = (OVERALL, "data", "model", "infra", "eval")  # the ranking tabs, in order
MARKER = "site.json"  # the store and months a site was built from


class Links:
    """hrefs from one page (``here``, a path inside the site) to the rest of the site."""

    def __init__(self, site: SiteData, here: str, lang: str, month_target=None):
        self.site, self.here, self.lang, self.labels = site, here, lang, site.labels
        self.month_target = month_target  # snapshot -> site path, for ``month`` cells

    def to(self, target: str) -> str:
        return posixpath.relpath(target, posixpath.dirname(self.here) or ".")

    def org(self, name) -> str | None:
        slug = self.site.slugs.get(name)
        return slug and self.to(f"{self.lang}/orgs/{slug}/index.html")

    def month(self, snapshot, record=None) -> str | None:
        return self.month_target and self.to(self.month_target(snapshot))


class SiteWriter:
    def __init__(self, site: SiteData, out: Path):
        self.site, self.out = site, Path(out)
        self.env = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                               autoescape=select_autoescape(["html"], default=True),
                               trim_blocks=True, lstrip_blocks=True)
        self.env.globals.update(word=word, dimension_name=dimension_name, number=number,
                                delta_text=delta_text, LANGUAGES=LANGUAGES,
                                LANGUAGE_NAMES=LANGUAGE_NAMES, indicator_label=indicator_label)
        self.tables: dict[str, Table] = {}  # stem -> table, each downloadable once
        self.pages: list[str] = []
        self._not_measured: dict[str, list] = {}

    # -- the whole site ------------------------------------------------------------------------
    def write(self) -> list[str]:
        site = self.site
        self.out.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(TEMPLATES / "style.css", self.out / "style.css")
        self._store_tables()
        for month in site.months:
            for dim in month.dimensions:
                self.ranking_pages(month, dim, [(lang, f"{lang}/{month.snapshot}/{dim}.html")
                                                for lang in LANGUAGES])
        self.ranking_pages(site.latest, OVERALL, [(lang, f"{lang}/index.html")
                                                  for lang in LANGUAGES] + [("en", "index.html")])
        for org in site.slugs:
            history = self.table(self.history_table(org))
            for month in site.months:
                if org in month.orgs:
                    self.org_pages(org, month, history, [
                        (lang, self.org_path(org, month.snapshot, lang)) for lang in LANGUAGES])
        for lang in LANGUAGES:  # last: it lists every table the pages showed
            self.downloads_page(lang, f"{lang}/downloads.html")
        self._write_downloads()
        (self.out / "orgs.json").write_text(json.dumps(
            {org: f"orgs/{slug}/index.html" for org, slug in site.slugs.items()},
            ensure_ascii=False, indent=1), encoding="utf-8")
        return self.pages

    def _store_tables(self):
        """The store's two tables, every month, as the build wrote them."""
        self.table(Table("store/rankings", self.site.rankings, [],
                         headings("", {"en": "rankings (the store table, every month)",
                                       "zh": "rankings（数据库表，全部月份）"})))
        self.table(Table("store/summaries", self.site.cells, [],
                         headings("", {"en": "summaries: every value and its provenance, "
                                             "every month",
                                       "zh": "summaries：所有数值及其来源，全部月份"})))

    def table(self, table: Table) -> Table:
        self.tables.setdefault(table.stem, table)
        return table

    def render(self, template: str, path: str, lang: str, links: Links, **context):
        rest = path.split("/", 1)[1] if path.startswith(f"{lang}/") else "index.html"
        twin = {other: links.to(f"{other}/{rest}") for other in LANGUAGES}
        html = self.env.get_template(template).render(
            lang=lang, links=links, twin=twin, site=self.site,
            view=lambda t, **where: view(t, lang, links, where),
            download=lambda t: {k: links.to(f"downloads/{t.stem}.{k}")
                                for k in ("csv", "parquet")},
            home=links.to(f"{lang}/index.html"), css=links.to("style.css"),
            downloads_page=links.to(f"{lang}/downloads.html"), **context)
        target = self.out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(html, encoding="utf-8")
        self.pages.append(path)

    # -- ranking pages -------------------------------------------------------------------------
    def ranking_pages(self, month, dim, paths):
        """The page of one ranking of one month, at each (language, path) of ``paths``."""
        site = self.site
        base = dim.removesuffix("-accumulated")
        moves = movers(site, month, dim)
        ranking = self.table(self.ranking_table(month, dim))
        moved = self.table(self.movers_table(month, dim, moves))
        scores = {lang: self.score_chart(month, dim, lang) for lang in LANGUAGES}
        history = self.history_chart(dim) if len(site.months) > 1 else None
        new = new_orgs(month, dim)
        changes = self.change_table(month, dim)
        changes = changes and self.table(changes)
        for lang, path in paths:
            links = Links(site, path, lang)
            variants = [(v, links.to(f"{lang}/{month.snapshot}/{d}.html"), d == dim)
                        for v, d in (("monthly", base), ("accumulated", base + "-accumulated"))]
            self.render(
                "ranking.html", path, lang, links, month=month, dim=dim, base=base,
                tabs=[(b, links.to(f"{lang}/{month.snapshot}/{b}.html"), b == base)
                      for b in BASES if b in month.dimensions],
                variants=variants if base + "-accumulated" in month.dimensions else [],
                months=[(m.snapshot, links.to(f"{lang}/{m.snapshot}/"
                                              f"{dim if dim in m.dimensions else OVERALL}.html"),
                         m is month) for m in reversed(site.months)],
                ranking=ranking, movers=moved, moves=moves, new=new, changes=changes,
                unmeasured=[(i["dimension"], i["indicator"]) for i in self.not_measured(month)
                            if dim in (OVERALL, i["dimension"])],
                scores_chart=links.to(scores[lang]),
                history_chart=history and links.to(history),
                intro=path.endswith("index.html") and word("intro", lang, weights=", ".join(
                    f"{dimension_name(d, lang)} {Fraction(w).limit_denominator(100)}"
                    for d, w in site.method.overall_weights)))

    def not_measured(self, month) -> list:
        """explain's indicators no organisation has a value for in the month (once a month)."""
        if month.snapshot not in self._not_measured:
            self._not_measured[month.snapshot] = (not_measured(month.ranking) if month.ranking
                                                  else [])
        return self._not_measured[month.snapshot]

    def ranking_table(self, month, dim) -> Table:
        rows = month.ranked(dim)
        frame = rows[["rank", "delta_rank", "org", "score"]].assign(
            _compared=month.previous is not None)
        columns = [Column("rank", "rank"), Column("delta_rank", "delta"), Column("org", "org"),
                   Column("score", "score")]
        parts = self.site.parts(dim)
        for part in parts:  # an overall ranking: each dimension's rank
            ranks = month.ranked(part).set_index("org")["rank"]
            frame[f"rank_{part}"] = frame.org.map(ranks)
            columns.append(Column(f"rank_{part}", "rank",
                                  {lang: dimension_name(part, lang) for lang in LANGUAGES},
                                  headings("", key="rank")))
        if not parts:  # a dimension: its indicators' values, under the original's headers
            cells = month.cells[month.cells.dimension == dim]
            values = cells.pivot(index="org", columns="indicator", values="value")
            for ind in cells.indicator.unique():
                frame[ind] = frame.org.map(values[ind])
                group = {lang: indicator_label(self.site.labels, dim, ind, lang)[0]
                         for lang in LANGUAGES}
                columns.append(Column(ind, "number", {
                    lang: indicator_label(self.site.labels, dim, ind, lang)[1]
                    for lang in LANGUAGES}, group))
        caption = {lang: f"{month.snapshot} · {dimension_name(dim, lang)}" for lang in LANGUAGES}
        return Table(f"{month.snapshot}/{dim}", frame, columns, caption, dim)

    def change_table(self, month, dim) -> Table | None:
        """Each indicator's change since the month before (the build's ``*-summary-delta``:
        the original dashboard's delta view), for the dimensions the method gives one."""
        deltas = month.ranking.summary_deltas if month.ranking else {}
        frame = deltas.get(f"{dim}-summary-delta")
        if frame is None:
            return None
        order = month.ranked(dim).org
        frame = frame.reindex(order[order.isin(frame.index)]).reset_index()
        columns = [Column("org", "org")]
        for ind in frame.columns[1:]:
            group, label = ({lang: indicator_label(self.site.labels, dim, ind, lang)[i]
                             for lang in LANGUAGES} for i in (0, 1))
            columns.append(Column(ind, "change", label, group))
        caption = {lang: f"{month.snapshot} · {dimension_name(dim, lang)} · "
                         f"{word('changes', lang, previous=month.previous)}"
                   for lang in LANGUAGES}
        return Table(f"{month.snapshot}/{dim}-changes", frame, columns, caption, dim)

    def movers_table(self, month, dim, moves) -> Table:
        frame = pd.DataFrame(
            [{"org": m.org, "rank": m.rank, "previous_rank": m.previous_rank,
              "delta_rank": m.delta_rank,
              **{f"reason_{lang}": self.reason(m, dim, lang) for lang in LANGUAGES}}
             for m in moves],
            columns=["org", "rank", "previous_rank", "delta_rank",
                     *(f"reason_{lang}" for lang in LANGUAGES)])
        columns = [Column("org", "org"), Column("delta_rank", "delta"),
                   Column("previous_rank", "rank"), Column("rank", "rank")]
        columns += [Column(f"reason_{lang}", "text", headings("", key="reason"), only=lang)
                    for lang in LANGUAGES]
        caption = {lang: f"{month.snapshot} · {dimension_name(dim, lang)} · "
                         f"{word('movers', lang)}" for lang in LANGUAGES}
        return Table(f"{month.snapshot}/{dim}-movers", frame, columns, caption, dim)

    def reason(self, move, dim, lang) -> str:
        """Why an organisation moved, in words: the dimension ranks that changed (an overall
        ranking), or the indicators whose normalised values changed most (a dimension)."""
        if not move.because:
            return word("others_moved", lang) if self.site.parts(dim) else ""
        out = []
        for what, key, before, after in move.because:
            if what == "rank":
                out.append(f"{dimension_name(key, lang)} {before} → {after}")
            else:
                label = indicator_label(self.site.labels, dim, key, lang)[1]
                out.append(f"{label} {_value(before)} → {_value(after)}")
        return ("; " if lang == "en" else "；").join(out)

    # -- organisation pages --------------------------------------------------------------------
    def org_path(self, org, snapshot, lang) -> str:
        """The page of an organisation in a month: ``index.html`` for the last it is ranked."""
        last = [m.snapshot for m in self.site.months if org in m.orgs][-1]
        name = "index" if snapshot == last else snapshot
        return f"{lang}/orgs/{self.site.slugs[org]}/{name}.html"

    def org_pages(self, org, month, history, paths):
        """An organisation's page for one month, at each (language, path) of ``paths``."""
        site = self.site
        report = explain(site, month, org)
        breakdown = self.table(self.breakdown_table(org, month, report)) if report else None
        indicators = self.table(self.indicator_table(org, month, report)) if report else None
        accumulated = self.table(self.accumulated_table(org, month))
        for lang, path in paths:
            links = Links(site, path, lang,
                          month_target=lambda snap, lang=lang: self.org_path(org, snap, lang))
            chart = self.org_chart(org, lang) if len(site.months) > 1 else None
            self.render(
                "org.html", path, lang, links, org=org, month=month, report=report,
                months=[(m.snapshot, links.to(self.org_path(org, m.snapshot, lang)), m is month)
                        for m in reversed(site.months) if org in m.orgs],
                history=history, history_chart=chart and links.to(chart),
                breakdown=breakdown, indicators=indicators, accumulated=accumulated,
                unmeasured=[(i["dimension"], i["indicator"])
                            for i in (report or {}).get("not_measured", [])],
                ranking_page=links.to(f"{lang}/{month.snapshot}/{OVERALL}.html"))

    def history_table(self, org) -> Table:
        rows = self.site.rankings[self.site.rankings.org == org]
        wide = rows.pivot(index="snapshot", columns="dimension", values="rank")
        overall = rows[rows.dimension == OVERALL].set_index("snapshot")
        frame = pd.DataFrame({"month": wide.index}).sort_values("month", ascending=False)
        frame["rank"] = frame.month.map(overall["rank"])
        frame["delta_rank"] = frame.month.map(overall["delta_rank"])
        frame["score"] = frame.month.map(overall["score"])
        frame["_compared"] = frame.month.map(
            {m.snapshot: m.previous is not None for m in self.site.months})
        columns = [Column("month", "month"), Column("rank", "rank", {
                       lang: word("overall_rank", lang) for lang in LANGUAGES}),
                   Column("delta_rank", "delta"), Column("score", "score")]
        for dim in [d for d in self.site.latest.dimensions if d != OVERALL]:
            if dim in wide:
                frame[f"rank_{dim}"] = frame.month.map(wide[dim])
                columns.append(Column(f"rank_{dim}", "rank",
                                      {lang: dimension_name(dim, lang) for lang in LANGUAGES},
                                      headings("", key="rank")))
        slug = self.site.slugs[org]
        return Table(f"orgs/{slug}/history", frame.reset_index(drop=True), columns,
                     {lang: f"{org} · {word('history', lang)}" for lang in LANGUAGES})

    def breakdown_table(self, org, month, report) -> Table:
        rows = [{"dimension": d["dimension"], "rank": d.get("rank"), "of": d.get("of"),
                 "delta_rank": d.get("delta_rank"), "score": d.get("score"),
                 "discount": d.get("discount"), "overall_weight": d.get("overall_weight"),
                 "overall_term": d.get("overall_term"), "share": d.get("share"),
                 "_compared": month.previous is not None}
                for d in report["dimensions"]]
        frame = pd.DataFrame(rows)
        columns = [Column("dimension", "dimension"), Column("rank", "rank"),
                   Column("delta_rank", "delta"), Column("score", "score"),
                   Column("discount", "score"), Column("overall_weight", "score"),
                   Column("overall_term", "score"), Column("share", "share")]
        return Table(f"orgs/{self.site.slugs[org]}/{month.snapshot}-breakdown", frame, columns,
                     {lang: f"{org} · {month.snapshot} · {word('breakdown', lang)}"
                      for lang in LANGUAGES})

    def indicator_table(self, org, month, report) -> Table:
        """Every indicator of every dimension: explain's numbers beside the value's provenance."""
        cells = month.cells[month.cells.org == org].set_index(["dimension", "indicator"])
        rows = []
        for d in report["dimensions"]:
            for item in d.get("indicators", []):
                key = (d["dimension"], item["indicator"])
                origin = cells.loc[key] if key in cells.index else None
                rows.append({"dimension": d["dimension"], "indicator": item["indicator"],
                             "raw": item["raw"], "max": item["max"],
                             "normalised": item["normalised"],
                             "contribution": item["contribution"],
                             **{k: (None if origin is None else origin[k])
                                for k in ("kind", "source", "as_of", "flags")}})
        frame = pd.DataFrame(rows, columns=["dimension", "indicator", "raw", "max", "normalised",
                                            "contribution", "kind", "source", "as_of", "flags"])
        columns = [Column("indicator", "indicator"), Column("raw", "number"),
                   Column("max", "number"), Column("normalised", "score"),
                   Column("contribution", "score"), Column("kind", "kind"),
                   Column("as_of", "date"), Column("source", "source"),
                   Column("flags", "flags")]
        return Table(f"orgs/{self.site.slugs[org]}/{month.snapshot}-indicators", frame, columns,
                     {lang: f"{org} · {month.snapshot} · {word('provenance', lang)}"
                      for lang in LANGUAGES})

    def accumulated_table(self, org, month) -> Table:
        cells = month.cells[(month.cells.org == org)
                            & month.cells.dimension.str.endswith("-accumulated")]
        frame = cells[["dimension", "indicator", "value", "kind", "as_of", "source", "flags"]]
        columns = [Column("dimension", "dimension"), Column("indicator", "indicator"),
                   Column("value", "number"), Column("kind", "kind"), Column("as_of", "date"),
                   Column("source", "source"), Column("flags", "flags")]
        return Table(f"orgs/{self.site.slugs[org]}/{month.snapshot}-accumulated",
                     frame.reset_index(drop=True), columns,
                     {lang: f"{org} · {month.snapshot} · {word('accumulated_values', lang)}"
                      for lang in LANGUAGES})

    # -- downloads -----------------------------------------------------------------------------
    def downloads_page(self, lang, path):
        links = Links(self.site, path, lang)
        self.render("downloads.html", path, lang, links, tables=list(self.tables.values()))

    def _write_downloads(self):
        for stem, table in self.tables.items():
            target = self.out / "downloads" / f"{stem}.csv"
            target.parent.mkdir(parents=True, exist_ok=True)
            frame = for_download(table.frame)
            frame.to_csv(target, index=False, lineterminator="\n")
            frame.to_parquet(target.with_suffix(".parquet"), index=False)

    # -- charts --------------------------------------------------------------------------------
    def _chart(self, name: str, text: str) -> str:
        target = self.out / "charts" / name
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        return f"charts/{name}"

    def score_chart(self, month, dim, lang) -> str:
        rows = month.ranked(dim)
        bars = [(f"{'–' if pd.isna(r['rank']) else int(r['rank'])}. {r['org']}",
                 None if pd.isna(r["score"]) else r["score"],
                 delta_text(r["delta_rank"], lang) if month.previous else "")
                for r in rows.to_dict("records")]
        return self._chart(f"{month.snapshot}/{dim}-{lang}.svg",
                           svg.score_bars(bars, f"{dim} scores"))

    def history_chart(self, dim) -> str:
        months = [m.snapshot for m in self.site.months]
        ranked = self.site.rankings[self.site.rankings.dimension == dim].org
        latest = self.site.latest.ranked(dim).org.tolist()
        orgs = latest + sorted(set(ranked) - set(latest))
        series = {org: [self.site.rank(dim, org, m) for m in months] for org in orgs}
        return self._chart(f"history/{dim}.svg", svg.rank_lines(months, series, f"{dim} ranks"))

    def org_chart(self, org, lang) -> str:
        months = [m.snapshot for m in self.site.months]
        dims = [d for d in self.site.latest.dimensions if not d.endswith("-accumulated")]
        series = {dimension_name(d, lang): [self.site.rank(d, org, m) for m in months]
                  for d in dims}
        return self._chart(f"orgs/{self.site.slugs[org]}-{lang}.svg",
                           svg.rank_lines(months, series, f"{org} ranks"))


def _value(value) -> str:
    return "–" if value is None else number(value)


def write_site(site: SiteData, out) -> list[str]:
    """Write the whole site into ``out``, all or nothing: into a hidden sibling folder first,
    which then takes the place of an earlier site there (``MARKER`` says which store built
    it). A folder at ``out`` that is neither empty nor a site is never replaced."""
    out = Path(out)
    if out.exists() and not (out / MARKER).is_file() and any(out.iterdir()):
        raise ScoringError(f"{out} exists and is not a site written by python -m scoring site "
                           f"(no {MARKER}): give --out an empty or new folder")
    with publishing(out, carry=False) as tmp:
        pages = SiteWriter(site, tmp).write()
        (tmp / MARKER).write_text(json.dumps(
            {"store": str(site.store.resolve()), "months": [m.snapshot for m in site.months],
             "built_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")},
            indent=1) + "\n", encoding="utf-8")
    return pages
