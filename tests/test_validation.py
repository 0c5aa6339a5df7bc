from osir_crawl.items import DatasetItem, LeaderboardEntryItem, ModelItem, RepoItem
from osir_crawl.pipelines.validation import problems


def model(**kw):
    base = dict(platform="huggingface", repo_id="BAAI/bge-m3", org="BAAI", owner="BAAI",
                name="bge-m3", url="https://huggingface.co/BAAI/bge-m3", downloads=10,
                likes=2, tags=["a"], created_at="2024-01-27T07:25:39.000Z")
    return ModelItem(**{**base, **kw})


def test_a_good_item_has_no_problems():
    assert problems(model()) == []
    assert problems(LeaderboardEntryItem(board="b", model="m", url="u", score=1.5)) == []


def test_counts_must_be_non_negative_whole_numbers():
    assert problems(model(downloads=-1)) == ["downloads is -1: counts cannot be negative"]
    assert problems(model(likes="7")) == ["likes is '7': expected a whole number"]
    assert problems(model(likes=True)) == ["likes is True: expected a whole number"]
    assert problems(model(likes=1.5)) == ["likes is 1.5: expected a whole number"]
    assert problems(model(downloads=None)) == []  # unknown is allowed, zero is not implied


def test_identity_fields():
    assert problems(model(repo_id=None)) == ["repo_id is missing (got None)"]
    assert problems(model(org="")) == ["org is missing (got '')"]
    assert problems(model(repo_id="BAAI/other")) == [
        "repo_id 'BAAI/other' is not owner/name (BAAI/bge-m3)"]


def test_dates_tags_and_hostile_strings():
    assert problems(model(created_at="yesterday")) == [
        "created_at is 'yesterday': expected an ISO-8601 date"]
    assert problems(model(tags="a,b")) == ["tags is 'a,b': expected a list of strings"]
    assert problems(model(name="x" * 3000, repo_id="BAAI/" + "x" * 3000))[0].endswith(
        "characters long (limit 2000)")
    assert problems(model(pipeline_tag="a\x00b")) == ["pipeline_tag contains a NUL character"]
    # SQL and HTML are data, not problems: they are stored verbatim.
    assert problems(model(pipeline_tag="'); DROP TABLE models; --<script>")) == []


def test_other_item_types():
    repo = RepoItem(platform="github", repo_id="a/b", org="A", owner="a", name="b", url="u",
                    stars=3, archived="no")
    assert problems(repo) == ["archived is 'no': expected true or false"]
    data = DatasetItem(platform="huggingface", repo_id="a/b", org="A", owner="a", name="b",
                       url="u", dataset_usage=-2)
    assert problems(data) == ["dataset_usage is -2: counts cannot be negative"]
    entry = LeaderboardEntryItem(board="b", model="", url="u", score="high")
    assert problems(entry) == ["model is missing (got '')", "score is 'high': expected a number"]
