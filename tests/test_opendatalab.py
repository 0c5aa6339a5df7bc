"""End to end in a real headless Chromium (Debian's): opendatalab_datasets against the local
single-page-app fake, reading the page's own JSON, then (``ssr``) only its rendered cards."""

from __future__ import annotations

import json
import math

import pytest

from osir_crawl.parsing import parse_count
from tests.conftest import async_test, rows
from tests.fakes.opendatalab import FakeOpenDataLab, OpenDataLabData

pytestmark = pytest.mark.slow  # Chromium renders every page


REGISTRY = ('ShanghaiAILab:\n  opendatalab: ["12157", "1678533"]\n'
            "OtherLab:\n  opendatalab: [12589]\n")
ORG_OF = {"12157": "ShanghaiAILab", "1678533": "ShanghaiAILab", "12589": "OtherLab"}
BAD = {"id": 9, "name": "Broken", "orgName": "OpenXDLab", "downloadCount": -1, "likeCount": 0}


def shown(n: int) -> str:
    """What the page displays for a count (the fake's JavaScript): 10300 -> "10.3k"."""
    for scale, suffix in ((10**6, "m"), (10**3, "k")):
        if n >= scale:
            return f"{math.floor(n / (scale / 10) + 0.5) / 10:g}{suffix}"
    return str(n)


@pytest.fixture
def data():
    data = OpenDataLabData.load(per_creator=30)  # 1678533 keeps 30: three pages of 12
    data.creators["12157"].append(dict(BAD, creatorId=12157))
    return data


@pytest.fixture
def crawl(crawl):
    """The in-process crawl (tests/conftest.py) with this module's settings."""
    async def run(fake, tmp_path, **kw):
        orgs = tmp_path / "orgs.yaml"
        orgs.write_text(REGISTRY)
        settings = {"OPENDATALAB_URL": fake.url, "OSIR_ORGS": orgs,
                    "OSIR_SNAPSHOT": "2025-09-07", **kw.pop("settings", {})}
        return await crawl("opendatalab_datasets", tmp_path / "osir.db", settings, **kw)
    return run


def expected(data, value=lambda n: n) -> dict[str, tuple]:
    return {f"{d['orgName']}/{d['name']}": (ORG_OF[uid], value(d["downloadCount"]),
                                           value(d["likeCount"]))
            for uid, sets in data.creators.items() if uid in ORG_OF
            for d in sets if d is not BAD and d["downloadCount"] >= 0}


@async_test
async def test_listing_json_captured_in_chromium(crawl, data, tmp_path):
    db = tmp_path / "osir.db"
    with FakeOpenDataLab(data, mode="xhr") as fake:
        await crawl(fake, tmp_path)
        stored = rows(db, "SELECT * FROM datasets")
        assert {r["repo_id"]: (r["org"], r["downloads_total"], r["likes"]) for r in stored} \
            == expected(data)
        assert len(stored) == len(expected(data))  # every dataset once
        row = stored[0]
        assert row["platform"] == "opendatalab" and row["downloads"] is None
        assert row["url"] == f"{fake.url}/{row['repo_id']}"
        [reject] = rows(db, "SELECT * FROM rejects")
        assert (reject["repo_id"], reject["reason"]) == (
            "OpenXDLab/Broken", "downloads_total is -1: counts cannot be negative")
        [crawl_row] = rows(db, "SELECT * FROM crawls")
        assert crawl_row["outcome"] == "finished"
        stats = json.loads(crawl_row["stats"])
        assert stats["osir/opendatalab/pages_from_json"] == 1 + 3 + 1  # 1678533 has 3 pages
        assert stats["playwright/request_count/aborted"] >= len(stored)  # cover images
        assert not [s for s in fake.log if s.path.startswith("/static/cover")]
        pages = sorted(s.path for s in fake.log if s.path.startswith("/?"))
        assert "/?createdBy=1678533&pageNo=2&pageSize=12&sort=downloadCount" in pages

        before = {t: rows(db, f"SELECT count(*) n FROM {t}")[0]["n"]
                  for t in ("datasets", "rejects", "failures")}
        await crawl(fake, tmp_path)
        after = {t: rows(db, f"SELECT count(*) n FROM {t}")[0]["n"]
                 for t in ("datasets", "rejects", "failures")}
        assert after == before


@async_test
async def test_rendered_cards_and_failures(crawl, data, tmp_path):
    db = tmp_path / "osir.db"
    del data.creators["12157"][-1]  # BAD: the page would show "-1"
    with FakeOpenDataLab(data, mode="ssr") as fake:
        fake.add_fault(match="createdBy=12589", status=502, times=99)
        unfinished = await crawl(fake, tmp_path, settings={"RETRY_TIMES": 1}, check=False)
        assert unfinished.status == 1 and "osir-crawl:" in unfinished.line  # not finished: exit 1
    stored = rows(db, "SELECT * FROM datasets")
    want = {k: v for k, v in expected(data, lambda n: parse_count(shown(n))).items()
            if v[0] == "ShanghaiAILab"}
    assert {r["repo_id"]: (r["org"], r["downloads_total"], r["likes"]) for r in stored} == want
    [failure] = rows(db, "SELECT * FROM failures")
    assert failure["status"] == 502 and "createdBy=12589" in failure["url"]
    [crawl_row] = rows(db, "SELECT * FROM crawls")
    assert crawl_row["outcome"] == "incomplete"
    assert json.loads(crawl_row["stats"])["osir/opendatalab/pages_from_dom"] == 1 + 3


@async_test
async def test_fewer_datasets_than_announced_is_a_failure(crawl, data, tmp_path):
    db = tmp_path / "osir.db"
    with FakeOpenDataLab(data, mode="xhr") as fake:
        # The second page of 1678533 repeats the first: 12 + 6 distinct of 30 announced.
        fake.add_fault(match=["/api/datasets", "createdBy=1678533", "pageNo=1"], status=200,
                       times=99, body=fake.listing([("createdBy", "1678533"), ("pageNo", "0")]))
        unfinished = await crawl(fake, tmp_path, args={"orgs": "ShanghaiAILab"}, check=False)
        assert unfinished.status == 1 and "osir-crawl:" in unfinished.line  # not finished: exit 1
    reasons = [f["reason"] for f in rows(db, "SELECT * FROM failures")]
    assert reasons == ["creator 1678533: 18 distinct datasets on its pages, the site announces 30"]
