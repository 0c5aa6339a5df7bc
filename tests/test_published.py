"""The project stands alone: the published OSIR-LMTS data is in the repository, with its licence,
read gzip'd or not through one module, and nothing refers to a folder outside the repository."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys

from osir_crawl.inputs import published
from tests.conftest import ROOT

# The development workspace's folder beside the checkout, which a user's clone does not have
# (spelt in pieces so that this file does not match itself).
OUTSIDE = ("../" + "shared", "shared/" + "anchors")


def test_published_data_is_in_the_repository_with_its_licence():
    folder = ROOT / "data" / "published"
    assert published.PUBLISHED_DIR == folder  # OSIR_ANCHORS unset in the test run
    assert (folder / "LICENSE").read_text().startswith("MIT License")
    readme = (folder / "README.md").read_text()
    assert "brucecui0120/OSIR-LMTS" in readme and "MIT" in readme
    months = sorted(p.name for p in (folder / "months").iterdir()
                    if (p / "overall-rank.csv").is_file())
    assert len(months) == 10 and months[-1] == "2025-09-07"
    for month in ("2025-07-07", "2025-08-07", "2025-09-07"):
        for platform in ("HuggingFace", "ModelScope"):
            path = folder / "months" / month / platform / "raw-models-info.jsonl"
            assert published.exists(path) and not path.exists()  # stored gzip'd
    assert len(published.read_json(folder / "config" / "org-links.json")) == 32


def test_every_gzipped_file_is_whole_json():
    for path in sorted(published.PUBLISHED_DIR.rglob("*.gz")):
        text = gzip.decompress(path.read_bytes()).decode("utf-8")  # a truncated file raises
        if path.name.endswith(".jsonl.gz"):
            assert all(json.loads(line) for line in text.splitlines() if line.strip()), path
        else:
            json.loads(text)


def test_a_plain_file_and_its_gzipped_twin_read_alike(tmp_path):
    (tmp_path / "plain.jsonl").write_text('{"a": 1}\n\n{"a": 2}\n')
    (tmp_path / "packed.jsonl.gz").write_bytes(gzip.compress(b'{"a": 1}\n{"a": 2}\n'))
    assert list(published.jsonl(tmp_path / "plain.jsonl")) == [{"a": 1}, {"a": 2}]
    assert list(published.jsonl(tmp_path / "packed.jsonl")) == [{"a": 1}, {"a": 2}]
    assert published.locate(tmp_path / "packed.jsonl") == tmp_path / "packed.jsonl.gz"
    assert published.locate(tmp_path / "missing.csv") is None
    try:
        published.open_text(tmp_path / "missing.csv")
    except FileNotFoundError as err:
        assert "missing.csv" in str(err)
    else:
        raise AssertionError("no error for a missing file")


def test_nothing_refers_to_a_folder_outside_the_repository():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    if tracked.returncode == 0:
        files = [ROOT / name for name in tracked.stdout.splitlines()]
    else:  # a copy without git
        files = [p for p in ROOT.rglob("*") if p.is_file() and ".git" not in p.parts]
    text_files = [p for p in files if p.suffix in (".py", ".md", ".yml", ".yaml", ".cfg", ".ini",
                                                   ".txt", ".toml") or p.name == "run"]
    assert any(p.name == "run" for p in text_files)  # .ci/run is looked at
    found = [f"{p.relative_to(ROOT)}: {needle}" for p in text_files if p.is_file()
             for needle in OUTSIDE if needle in p.read_text(encoding="utf-8", errors="replace")]
    assert found == []


def test_the_offline_world_says_in_full_what_it_serves():
    """``python -m tests.fakes.all --help``: the whole description (it used to stop mid-sentence),
    naming the shipped published records it serves."""
    proc = subprocess.run([sys.executable, "-m", "tests.fakes.all", "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    text = " ".join(proc.stdout.split())
    assert "a world in which ``scrapy crawlall`` runs end to end without the internet." in text
    assert "serve the published 2025-09-07 records" in text and "data/published" in text
    assert "python -m tests.fakes.all --env /tmp/fakes.env &" in proc.stdout
