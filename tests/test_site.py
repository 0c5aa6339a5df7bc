"""``python -m scoring site``: the static ranking site's pages, built in milliseconds from a store
holding two published months as ``scoring build`` writes them (the published summaries ranked by
``scoring.rank``, stored by ``scoring.store.write_build``). The browser test (a real replay, a real
build, Chromium following every link) is tests/test_site_browser.py."""

from __future__ import annotations

import html.parser
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd
import pytest

from osir_crawl import store as crawl_store
from scoring.build import ranking_rows
from scoring.cli import main
from scoring.explain import explain_org
from scoring.io import read_month
from scoring.method import load_indicator_labels, load_method
from scoring.rank import rank_month
from scoring.site import build_site
from scoring.site.data import read_site
from scoring.site.i18n import dimension_name
from scoring.site.svg import rank_lines, score_bars
from scoring.store import open_store, write_build
from tests.conftest import ANCHORS, rows

# The module's site is built once, on one worker (not once per worker that runs a test of it).
pytestmark = pytest.mark.xdist_group("site")

MONTHS = ("2025-08-07", "2025-09-07")
HOSTILE = '<img src=x onerror=alert(1)>"Falcon & Co'  # an organisation named to break pages
ORGS = ("BAAI", "ShanghaiAILab", "Ali", "Deepseek", "Meta", "Google", "Falcon", "Zhipu",
        "Tencent", "Microsoft", "MistralAI", "OpenAI")  # MistralAI: new in September


def published_tables(month, orgs=ORGS, rename=None) -> dict:
    """A published month's summaries of ``orgs`` (renamed by ``rename``)."""
    tables = read_month(ANCHORS / "months" / month, load_method())
    tables = {k: t[t.index.isin(orgs)] for k, t in tables.items()}
    return {k: t.rename(index=rename or {}) for k, t in tables.items()}


def published_store(db: Path, months=MONTHS, orgs=ORGS, rename=None, zero=()) -> Path:
    """A store holding ``months`` as a build writes them: the published summaries of ``orgs``,
    ranked month after month (delta ranks against the month before), with their provenance;
    ``zero``: (dimension, indicator) columns that no organisation has a value for."""
    method = load_method()
    crawl_store.open_store(db).close()  # the crawlers' tables, as a crawl leaves them
    conn = open_store(db, write=True)
    previous = None
    for month in months:
        tables = published_tables(month, orgs, rename)
        for dim, indicator in zero:
            tables[dim][indicator] = 0
        ranking = rank_month(tables, method, previous)
        url = f"https://github.com/brucecui0120/OSIR-LMTS/blob/main/oslm-crawler/data/{month}"
        cells = pd.concat([t.reset_index().melt(id_vars="org", var_name="indicator")
                           .assign(dimension=name, source=f"published {name}-summary.csv "
                                                          f"({url}/{name}-summary.csv)")
                           for name, t in tables.items()], ignore_index=True)
        stamp = {"snapshot": month, "profile": "published", "built_at": "2026-01-01T00:00:00"}
        write_build(conn, month, cells.assign(kind="published", as_of=month, flags="[]",
                                              **stamp),
                    ranking_rows(ranking).assign(**stamp),
                    pd.DataFrame(columns=["kind", "platform", "repo_id"]))
        previous = ranking
    conn.close()
    return db


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("site")
    db = published_store(tmp / "osir.db", rename={"Falcon": HOSTILE})
    out = tmp / "site"
    pages = build_site(db, out)
    return {"db": db, "out": out, "pages": pages}


class Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.lang = [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.lang = attrs.get("lang")
        for name in ("href", "src"):
            if attrs.get(name):
                self.links.append(attrs[name])


def links_of(path: Path) -> Links:
    parser = Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_every_link_is_relative_and_every_target_exists(built):
    out = built["out"]
    pages = sorted(out.rglob("*.html"))
    assert len(pages) == len(set(built["pages"])) >= 80
    for page in pages:
        parsed = links_of(page)
        assert parsed.lang in ("en", "zh-Hans"), page
        for link in parsed.links:
            parts = urlsplit(link)
            if parts.scheme:  # only to the web, from a source's evidence
                assert parts.scheme == "https" and parts.netloc, (page, link)
                continue
            assert not link.startswith("/"), (page, link)  # opens from disk or any server path
            target = (page.parent / parts.path).resolve()
            assert target.is_file(), f"{page.relative_to(out)} links {link}: no such file"
            assert out.resolve() in target.parents, (page, link)


def overall_rows(page: Path) -> list[list[str]]:
    """The cells of the first table of a page, as text."""
    text = page.read_text(encoding="utf-8")
    body = text[text.index("<tbody>"):text.index("</tbody>")]
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r)]
            for r in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def test_index_is_the_latest_overall_ranking_of_the_store(built):
    stored = rows(built["db"], "SELECT org, rank, score, delta_rank FROM rankings WHERE "
                               "snapshot = ? AND dimension = 'overall' ORDER BY rank, org",
                  [MONTHS[-1]])
    for index in (built["out"] / "index.html", built["out"] / "zh" / "index.html"):
        shown = overall_rows(index)
        assert len(shown) == len(stored) == len(ORGS)
        for cells, row in zip(shown, stored):
            rank, change, org, score = cells[:4]
            assert (int(rank), html.unescape(org), score) == (
                row["rank"], row["org"], f"{row['score']:.3f}")
            delta = row["delta_rank"]
            new = "新" if "zh" in str(index) else "new"
            assert change == (new if delta is None else "=" if delta == 0
                              else f"▲{delta:g}" if delta > 0 else f"▼{-delta:g}")
    assert "▲" in (built["out"] / "index.html").read_text()  # rank changes against August


def test_both_languages_use_the_original_dashboards_headers(built):
    en = (built["out"] / "en" / MONTHS[-1] / "model.html").read_text(encoding="utf-8")
    zh = (built["out"] / "zh" / MONTHS[-1] / "model.html").read_text(encoding="utf-8")
    assert "Downloads of language models" in en and "Model Usage Volume" in en
    assert "语言模型下载量" in zh and "模型使用量" in zh and "排名变化" in zh
    assert 'href="../../en/2025-09-07/model.html"' in zh  # the same page in the other language


def test_org_page_shows_explains_breakdown_and_every_values_provenance(built):
    method = load_method()
    ranking = rank_month(published_tables(MONTHS[-1]), method,
                         rank_month(published_tables(MONTHS[0]), method))
    report = explain_org(ranking, "BAAI", labels=load_indicator_labels())
    page = (built["out"] / "en" / "orgs" / "BAAI" / "index.html").read_text(encoding="utf-8")
    for dim in report["dimensions"]:
        assert f"{100 * dim['share']:.1f}%" in page
        assert f"Rank {dim['rank']} / {dim['of']}" in page
        for item in dim["indicators"]:
            assert f"{item['contribution']:.3f}" in page
    assert "published file" in page  # the kind of each value
    assert ('<a href="https://github.com/brucecui0120/OSIR-LMTS/blob/main/oslm-crawler/data/'
            '2025-09-07/model-summary.csv">') in page  # its source, a link
    assert f'href="{MONTHS[0]}.html"' in page  # its history: each earlier month's own page
    zh = (built["out"] / "zh" / "orgs" / "BAAI" / "index.html").read_text(encoding="utf-8")
    assert "排名构成" in zh and "数据来源" in zh and "已发布数据" in zh


def test_movers_say_why_they_moved(built):
    site = read_site(built["db"])
    month = site.latest
    page = (built["out"] / "en" / MONTHS[-1] / "overall.html").read_text(encoding="utf-8")
    moved = rows(built["db"], "SELECT org, delta_rank FROM rankings WHERE snapshot = ? AND "
                              "dimension = 'overall' AND delta_rank != 0", [MONTHS[-1]])
    assert moved
    movers = pd.read_csv(built["out"] / "downloads" / MONTHS[-1] / "overall-movers.csv")
    assert set(movers.org) == {r["org"] for r in moved}
    for row in movers.itertuples():  # every dimension rank that changed, before -> after
        for dim in ("data", "model", "infra", "eval"):
            this = month.ranked(dim).set_index("org").loc[row.org]
            if pd.notna(this.delta_rank) and this.delta_rank != 0:
                before, now = int(this["rank"] + this.delta_rank), int(this["rank"])
                assert f"{dimension_name(dim, 'en')} {before} → {now}" in row.reason_en, row
        assert row.reason_en in page.replace("&amp;", "&")
    model = pd.read_csv(built["out"] / "downloads" / MONTHS[-1] / "model-movers.csv")
    assert model.reason_zh.str.contains("→").all()  # the indicators that changed most


def test_names_are_escaped_and_files_named_safely(built):
    out = built["out"]
    slugs = json.loads((out / "orgs.json").read_text(encoding="utf-8"))
    page = out / "en" / slugs[HOSTILE]
    assert page.is_file() and re.fullmatch(r"orgs/[A-Za-z0-9._-]+/index\.html", slugs[HOSTILE])
    for path in (page, out / "index.html"):
        text = path.read_text(encoding="utf-8")
        assert "<img src=x" not in text
        assert "&lt;img src=x onerror=alert(1)&gt;&#34;Falcon &amp; Co" in text


def test_downloads_hold_every_table_as_csv_and_parquet(built):
    out = built["out"]
    listed = links_of(out / "en" / "downloads.html").links
    csvs = [link for link in listed if link.endswith(".csv")]
    assert len(csvs) == len([link for link in listed if link.endswith(".parquet")]) > 50
    store = pd.read_csv(out / "downloads" / "store" / "rankings.csv")
    assert len(store) == rows(built["db"], "SELECT count(*) AS n FROM rankings")[0]["n"]
    overall = pd.read_parquet(out / "downloads" / MONTHS[-1] / "overall.parquet")
    assert list(overall.columns[:4]) == ["rank", "delta_rank", "org", "score"]
    assert {"rank_data", "rank_model", "rank_infra", "rank_eval"} <= set(overall.columns)
    for page in out.rglob("*.html"):  # every table shown offers both files
        text = page.read_text(encoding="utf-8")
        assert text.count("<table") <= text.count(">CSV</a>"), page


def test_the_first_month_says_why_nothing_moved(tmp_path):
    db = published_store(tmp_path / "one.db", months=MONTHS[-1:], orgs=ORGS[:3])
    assert main(["site", "--db", str(db), "--out", str(tmp_path / "site")]) == 0
    page = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert "no earlier month to compare ranks with" in page
    assert {cells[1] for cells in overall_rows(tmp_path / "site" / "index.html")} == {"–"}
    history = tmp_path / "site" / "en" / "orgs" / "BAAI" / "index.html"
    assert overall_rows(history)[0][2] == "–"  # not "new": nothing came before
    assert "_compared" not in (tmp_path / "site" / "downloads" / MONTHS[-1] / "overall.csv"
                               ).read_text()
    assert "history" not in "".join(links_of(tmp_path / "site" / "index.html").links)
    assert not (tmp_path / "site" / "charts" / "history").exists()


def test_a_rebuild_replaces_the_site_but_never_a_foreign_folder(built, tmp_path, capsys):
    out = tmp_path / "site"
    db = published_store(tmp_path / "osir.db", months=MONTHS[-1:], orgs=ORGS[:2])
    assert main(["site", "--db", str(db), "--out", str(out)]) == 0
    (out / "en" / "stale.html").write_text("from an earlier build")
    assert main(["site", "--db", str(db), "--out", str(out)]) == 0
    assert not (out / "en" / "stale.html").exists()
    assert json.loads((out / "site.json").read_text())["store"] == str(db.resolve())
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    assert main(["site", "--db", str(db), "--out", str(foreign)]) == 2
    assert "is not a site written by python -m scoring site" in capsys.readouterr().err
    assert (foreign / "notes.txt").read_text() == "keep me"
    assert main(["site", "--db", str(tmp_path / "none.db"), "--out", str(out)]) == 2
    crawled = tmp_path / "crawled.db"
    crawl_store.open_store(crawled).close()  # crawled, never built
    capsys.readouterr()
    assert main(["site", "--db", str(crawled), "--out", str(tmp_path / "s2")]) == 2
    assert "run python -m scoring build --snapshot YYYY-MM-DD first" in capsys.readouterr().err


def test_charts_are_svg_with_escaped_labels():
    bars = score_bars([("1. A&B", 0.5, "▲1"), ("2. <C>", 0.25, "")])
    assert bars.startswith("<svg") and "A&amp;B" in bars and "&lt;C&gt;" in bars
    lines = rank_lines(["2025-08-07", "2025-09-07"], {"A": [1, 2], "B": [2, 1], "C": [None, 3]})
    assert lines.count("<polyline") == 3 and "2025-09-07" in lines


@pytest.mark.slow  # two Datasette processes
def test_datasette_links_organisation_names_to_their_pages(tmp_path, capfd):
    from osir_crawl.ops import browse

    db = published_store(tmp_path / "osir.db", months=MONTHS[-1:], orgs=ORGS[:3])
    assert main(["site", "--db", str(db)]) == 0  # beside the store: tmp_path/site
    assert (tmp_path / "site" / "index.html").is_file()
    capfd.readouterr()
    assert browse.main([str(db), "--get", "/osir/rankings?dimension=overall"]) == 0
    table = capfd.readouterr().out
    for org in ORGS[:3]:
        assert f'<a href="/site/en/orgs/{org}/index.html">{org}</a>' in table
    assert browse.main([str(db), "--get", "/site/en/orgs/BAAI/index.html"]) == 0
    assert "<h1>BAAI</h1>" in capfd.readouterr().out  # the page itself, served by Datasette


def test_dimension_pages_show_each_values_change_as_published(built):
    """The delta view of the original dashboard: the build's model-summary-delta."""
    shown = pd.read_csv(built["out"] / "downloads" / MONTHS[-1] / "model-changes.csv",
                        index_col="org")
    published = pd.read_csv(ANCHORS / "months" / MONTHS[-1] / "model-summary-delta.csv",
                            index_col="org")
    both = shown.index.intersection(published.index)
    assert len(both) >= 8
    pd.testing.assert_frame_equal(shown.loc[both, published.columns], published.loc[both],
                                  check_dtype=False)
    page = (built["out"] / "zh" / MONTHS[-1] / "model.html").read_text(encoding="utf-8")
    assert "各指标自 2025-08-07 以来的变化" in page and 'class="num up"' in page


def test_indicators_no_organisation_has_are_said_not_measured(tmp_path):
    db = published_store(tmp_path / "osir.db", months=MONTHS[-1:], orgs=ORGS[:3],
                         zero=[("data", "num_embodied")])
    assert main(["site", "--db", str(db), "--out", str(tmp_path / "site")]) == 0
    for page in ("en/2025-09-07/data.html", "en/index.html", "en/orgs/BAAI/index.html"):
        text = (tmp_path / "site" / page).read_text(encoding="utf-8")
        assert "Not measured in 2025-09-07" in text and "Data: Number of embodied datasets" in text
    zh = (tmp_path / "site" / "zh" / "2025-09-07" / "data.html").read_text(encoding="utf-8")
    assert "2025-09-07 未测量" in zh and "数据：具身数据集个数" in zh
    model = (tmp_path / "site" / "en" / "2025-09-07" / "model.html").read_text(encoding="utf-8")
    assert "Not measured" not in model
