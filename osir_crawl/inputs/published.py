"""Where the published OSIR-LMTS data lives, and how to read its files.

``data/published/`` (see its README) is named here and nowhere else; the environment variable
``OSIR_ANCHORS`` points at another copy of the same layout. Its JSON and JSON Lines files are
stored gzip'd: :func:`locate` and :func:`open_text` take ``NAME.gz`` for ``NAME``, so callers
name files as published. No Scrapy here: ``scoring`` and the test fakes use it too.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from pathlib import Path

PUBLISHED_DIR = Path(os.environ.get("OSIR_ANCHORS")
                     or Path(__file__).resolve().parents[2] / "data" / "published")


def locate(path: str | Path) -> Path | None:
    """``path`` if it exists, else ``path.gz`` if that does, else None."""
    path = Path(path)
    if path.exists():
        return path
    packed = path.with_name(path.name + ".gz")
    return packed if packed.exists() else None


def exists(path: str | Path) -> bool:
    return locate(path) is not None


def open_text(path: str | Path, encoding: str = "utf-8", newline: str | None = None):
    """A text file object for ``path`` or its gzip'd ``path.gz``."""
    found = locate(path)
    if found is None:
        raise FileNotFoundError(f"{path} (nor {Path(path).name}.gz beside it)")
    if found.suffix == ".gz":
        return gzip.open(found, "rt", encoding=encoding, newline=newline)
    return open(found, encoding=encoding, newline=newline)


def read_text(path: str | Path, encoding: str = "utf-8") -> str:
    with open_text(path, encoding=encoding) as fh:
        return fh.read()


def read_json(path: str | Path):
    return json.loads(read_text(path))


def jsonl(path: str | Path) -> Iterator[dict]:
    """The records of a JSON Lines file (blank lines skipped)."""
    with open_text(path) as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)
