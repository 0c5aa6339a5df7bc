"""End to end: the real Hugging Face spiders, pipelines and SQLite store against the fake."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from tests.conftest import async_test, rows
from tests.fakes.huggingface import FakeHuggingFace, HubData


ACCOUNTS = {"BAAI": 23, "FlagRelease": 4, "deepseek-ai": 9, "Qwen": 6}  # BAAI, Deepseek, Ali
INVALID = [
    {"_id": "x1", "id": "BAAI/negative", "downloads": -5, "likes": 1},
    {"_id": "x2", "author": "BAAI", "downloads": 7},  # no id
    {"_id": "x3", "id": "BAAI/wordy", "downloads": 3, "likes": "many"},
]


def hub_data() -> HubData:
    data = HubData.synthetic(ACCOUNTS, datasets_per_account=3)
    data.models.extend(INVALID)
    return data


def valid_models(data: HubData, accounts) -> list[dict]:
    return [m for m in data.models if m not in INVALID and m["id"].split("/")[0] in accounts]


@pytest.fixture
def fake():
    with FakeHuggingFace(hub_data(), repeat_across_pages=True) as server:
        yield server


@pytest.fixture
def crawl(crawl):
    """The in-process crawl (tests/conftest.py) with this module's settings."""
    async def run(spider, fake, db, **kw):
        settings = {"HF_ENDPOINT": fake.url, "HF_PAGE_SIZE": 5, "OSIR_SNAPSHOT": "2025-09-07",
                    **kw.pop("settings", {})}
        return await crawl(spider, db, settings, **kw)
    return run


@pytest.mark.slow  # a 3-second 429 window
@async_test
async def test_models_every_valid_repo_once_with_details(crawl, fake, tmp_path):
    db = tmp_path / "osir.db"
    # A multi-second 429 window carrying only the RateLimit header, and a transient 503.
    fake.add_fault(match="cursor=10", window=3, status=429,
                   headers={"RateLimit": '"api";r=0;t=2'}, body={"error": "rate limited"})
    fake.add_fault(match="cursor=5", status=503, skip=1, times=2)
    # One popular model's answer leaves childrenModelCount out: NULL, with the reason counted.
    unsent = next(m["id"] for m in valid_models(fake.data, ACCOUNTS) if m["downloads"] >= 50)
    fake.data.children_unsent.add(unsent)
    proc = await crawl("huggingface_models", fake, db, settings={"RETRY_TIMES": 2},
                       args={"orgs": "BAAI,Deepseek,Ali"})

    stored = rows(db, "SELECT * FROM models ORDER BY repo_id")
    expected = valid_models(fake.data, ACCOUNTS)
    assert [r["repo_id"] for r in stored] == sorted(m["id"] for m in expected)
    by_id = {r["repo_id"]: r for r in stored}
    orgs = {"BAAI": "BAAI", "FlagRelease": "BAAI", "deepseek-ai": "Deepseek", "Qwen": "Ali"}
    for model in expected:
        row = by_id[model["id"]]
        assert row["org"] == orgs[model["id"].split("/")[0]]
        assert (row["downloads"], row["likes"]) == (model["downloads"], model["likes"])
        assert row["downloads_total"] == model["downloadsAllTime"]
        assert json.loads(row["tags"]) == model["tags"]
        assert row["params"] == (model["safetensors"] or {}).get("total")
        config = model.get("config") or {}
        assert row["model_type"] == config.get("model_type")
        assert json.loads(row["architectures"]) == config.get("architectures", [])
        assert row["snapshot"] == "2025-09-07"
        if model["downloads"] >= 50:  # details only at or above OSIR_MIN_DOWNLOADS
            count, closed = fake.data.discussions[model["id"]]
            assert row["descendants"] == (None if model["id"] == unsent
                                          else fake.data.children[model["id"]])
            assert (row["discussions"], row["discussions_open"]) == (count, count - closed)
        else:
            assert row["descendants"] is None and row["discussions"] is None

    # No detail request for repos under the threshold.
    details = [s.path for s in fake.log if "childrenModelCount" in s.path]
    assert len(details) == sum(1 for m in expected if m["downloads"] >= 50)

    rejects = rows(db, "SELECT * FROM rejects")
    # BAAI's 26 rows come 5 a page and each page repeats the row before it: the id-less row
    # (row 25) is served twice and, having no key to dedup on, is rejected twice.
    assert sorted((r["repo_id"] or "", r["reason"]) for r in rejects) == [
        ("", "repo_id is missing (got None)"),
        ("", "repo_id is missing (got None)"),
        ("BAAI/negative", "downloads is -5: counts cannot be negative"),
        ("BAAI/wordy", "likes is 'many': expected a whole number"),
    ]
    assert json.loads(rejects[0]["payload"])["platform"] == "huggingface"

    [crawl_row] = rows(db, "SELECT * FROM crawls")
    assert crawl_row["outcome"] == "finished"
    assert json.loads(crawl_row["stats"])["osir/null/descendants/no_childrenModelCount"] == 1
    assert crawl_row["items"] == len(expected)
    assert crawl_row["rejected"] == 4
    assert crawl_row["duplicates"] >= 1  # the fake repeats a row across pages
    assert crawl_row["failed_requests"] == 0
    assert crawl_row["rate_limited"] >= 1
    assert crawl_row["retries"] >= 1  # the 503s went through RetryMiddleware
    stats = json.loads(crawl_row["stats"])
    assert stats["osir/rate_limit/retries"] >= 1
    assert "rate limit (429)" in proc.log

    # Crawling the same snapshot again replaces its rows: no row count changes.
    before = {t: rows(db, f"SELECT count(*) n FROM {t}")[0]["n"]
              for t in ("models", "rejects", "failures")}
    await crawl("huggingface_models", fake, db, args={"orgs": "BAAI,Deepseek,Ali"})
    after = {t: rows(db, f"SELECT count(*) n FROM {t}")[0]["n"]
             for t in ("models", "rejects", "failures")}
    assert after == before
    finished = rows(db, "SELECT * FROM crawls WHERE outcome = 'finished' ORDER BY started_at")
    assert len(finished) == 2 and finished[1]["stale_removed"] == 0
    again = rows(db, "SELECT repo_id, crawl_id FROM models ORDER BY repo_id")
    assert [r["repo_id"] for r in again] == [r["repo_id"] for r in stored]  # the same repos,
    assert {r["crawl_id"] for r in again} == {finished[1]["crawl_id"]}  # each one rewritten


@async_test
async def test_datasets_usage_discussions_and_history(crawl, fake, tmp_path):
    db = tmp_path / "osir.db"
    await crawl("huggingface_datasets", fake, db, settings={"HF_PAGE_SIZE": 2},
                args={"orgs": "Deepseek,Ali"})
    stored = rows(db, "SELECT * FROM datasets ORDER BY repo_id")
    expected = sorted((d for d in fake.data.datasets
                       if d["id"].split("/")[0] in ("deepseek-ai", "Qwen")),
                      key=lambda d: d["id"])
    assert [r["repo_id"] for r in stored] == [d["id"] for d in expected]
    for row, dataset in zip(stored, expected):
        assert row["org"] == ("Ali" if dataset["id"].startswith("Qwen/") else "Deepseek")
        assert row["url"].endswith(f"/datasets/{dataset['id']}")
        assert json.loads(row["tags"]) == dataset["tags"]  # modality:*, task_categories:* …
        # Every dataset, also those under OSIR_MIN_DOWNLOADS, as the published records have
        # them: the data dimension counts all datasets.
        assert row["dataset_usage"] == len(fake.data.usage.get(dataset["id"], []))
        assert row["discussions"] == fake.data.discussions.get(dataset["id"], (0, 0))[0]
    assert any(d["downloads"] < 50 and fake.data.discussions[d["id"]][0] for d in expected)

    # Another snapshot adds history and leaves the first one alone.
    await crawl("huggingface_datasets", fake, db, settings={"OSIR_SNAPSHOT": "2025-10-07"},
                args={"orgs": "Deepseek,Ali"})
    counts = rows(db, "SELECT snapshot, count(*) n FROM datasets GROUP BY snapshot")
    assert counts == [{"snapshot": "2025-09-07", "n": len(expected)},
                      {"snapshot": "2025-10-07", "n": len(expected)}]


def test_the_fake_refuses_an_unknown_expand_as_the_hub_does(fake):
    def get(path):
        try:
            with urllib.request.urlopen(fake.url + path) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as err:
            return err.code, json.load(err)

    status, body = get("/api/models?author=BAAI&expand[]=downloads&expand[]=does_not_exist")
    assert status == 400 and body["error"].startswith('"expand" must be one of [')
    # Only the single-model endpoint knows childrenModelCount (huggingface_hub PR #3182).
    assert get("/api/models?author=BAAI&expand[]=childrenModelCount")[0] == 400
    assert get("/api/models/BAAI/model-00000?expand[]=childrenModelCount")[0] == 200
    assert get("/api/datasets?author=BAAI&expand[]=config")[0] == 400
    status, rows_ = get("/api/models?author=Qwen&expand[]=config")
    assert status == 200 and all(set(r) <= {"_id", "id", "config"} for r in rows_)


@async_test
async def test_failed_detail_is_recorded_and_the_item_kept(crawl, fake, tmp_path):
    db = tmp_path / "osir.db"
    popular = next(m for m in valid_models(fake.data, ["deepseek-ai"]) if m["downloads"] >= 50)
    fake.add_fault(match=f"/api/models/{popular['id']}/discussions", status=500, times=99)
    fake.add_fault(match="author=Qwen", status=502, times=99)  # a whole listing fails
    unfinished = await crawl("huggingface_models", fake, db, settings={"RETRY_TIMES": 1},
                             args={"orgs": "Deepseek,Ali"}, check=False)
    assert unfinished.status == 1 and "osir-crawl:" in unfinished.line  # not finished: exit 1
    row = rows(db, "SELECT * FROM models WHERE repo_id = ?", [popular["id"]])[0]
    assert row["discussions"] is None  # unknown, not zero
    assert row["descendants"] == fake.data.children[popular["id"]]
    failures = rows(db, "SELECT * FROM failures ORDER BY url")
    assert {(f["status"], f["reason"]) for f in failures} == {(500, "HTTP 500"),
                                                             (502, "HTTP 502")}
    assert any(f["repo_id"] == popular["id"] and f["item_type"] == "models" for f in failures)
    [crawl_row] = rows(db, "SELECT * FROM crawls")
    assert crawl_row["outcome"] == "incomplete"
    assert crawl_row["failed_requests"] == 2


@async_test
async def test_token_sent_as_bearer_and_never_logged(crawl, fake, tmp_path):
    db = tmp_path / "osir.db"
    token = "hf_secretTOKEN123"
    proc = await crawl("huggingface_datasets", fake, db, args={"orgs": "Ali"},
                       env={"HF_TOKEN": token}, settings={"LOG_LEVEL": "DEBUG"})
    assert fake.log and all(s.headers.get("Authorization") == f"Bearer {token}"
                            for s in fake.log)
    assert token not in proc.log + proc.out
    assert token.encode() not in db.read_bytes()


@async_test
async def test_bad_registry_stops_with_a_clear_error(crawl, fake, tmp_path):
    orgs = tmp_path / "orgs.yaml"
    orgs.write_text("BAAI:\n  huggingface: [BAAI]\nOther:\n  huggingface: [baai]\n")
    proc = await crawl("huggingface_models", fake, tmp_path / "osir.db",
                       settings={"OSIR_ORGS": orgs}, check=False)
    assert proc.status != 0
    assert "org Other: huggingface account 'baai' is already claimed by org BAAI" in proc.log
    assert not fake.log
    proc = await crawl("huggingface_models", fake, tmp_path / "osir.db", args={"orgs": "Nobody"},
                       check=False)
    assert proc.status != 0 and "unknown org(s) Nobody" in proc.log
