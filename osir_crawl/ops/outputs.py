"""Where a store's outputs go, and which store wrote them.

A store's outputs live beside it: ``data/osir.db`` has ``data/rankings/<snapshot>/``,
``data/reports/``, ``data/logs/``, ``data/jobs/`` and ``data/charts/``; a store
``/tmp/try/osir.db`` has ``/tmp/try/rankings/<snapshot>/`` and so on. So the commands of one
store (``scrapy crawlall``, ``python -m scoring build|chart|evidence``, the crawl report) find
each other's outputs, and two stores in two folders never share one.

Each output folder of a snapshot names the store that wrote it (``STORE_FILE``, JSON: its
absolute path, and its path from the folder, so a store copied or moved with its outputs is
still theirs). A command writing it from another store (two stores in one folder, or an
``--out`` that another store's build used) is refused with :class:`OutputClash`, whose message
says the way out, rather than overwriting the other store's rankings, report or logs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

STORE_FILE = "built-from.json"  # in each output folder: {"store": ABSOLUTE, "relative": PATH}
DEFAULT_STORE = "data/osir.db"  # OSIR_DB's default


def store_path(given: str | None = None) -> str:
    """The store a command uses: ``given`` (its ``--db``), else ``$OSIR_DB``, else
    ``data/osir.db``."""
    return given or os.environ.get("OSIR_DB") or DEFAULT_STORE


class OutputClash(Exception):
    """An output folder holds another store's outputs; ``str()`` says what to do."""


def root_of(db: str | os.PathLike) -> Path:
    """The folder of ``db``'s outputs: the store's own folder."""
    return Path(db).resolve().parent


def folder(db: str | os.PathLike, kind: str, snapshot: str) -> Path:
    """``kind`` (rankings, reports, logs, jobs, charts) of ``snapshot`` beside ``db``."""
    return root_of(db) / kind / snapshot


def store_of(out: str | os.PathLike) -> dict | None:
    """What ``out``'s file says of the store that wrote it (None: no file, or not readable)."""
    try:
        said = json.loads((Path(out) / STORE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return said if isinstance(said, dict) and said.get("store") else None


def _is_store(said: dict, out: Path, db: Path) -> bool:
    """Whether ``said`` (a folder's file) names ``db``: by its absolute path, or by its path
    from the folder (the store and its outputs copied or moved together)."""
    relative = said.get("relative")
    return said["store"] == str(db) or bool(
        relative and (out.resolve() / relative).resolve() == db)


def claim(out: str | os.PathLike, db: str | os.PathLike, option: str = "--out") -> Path:
    """Make ``out`` the folder of ``db``'s outputs (created if need be), or raise
    :class:`OutputClash` when another store's outputs are there. ``option``: the command's
    option that chooses another folder."""
    out, db = Path(out), Path(db).resolve()
    said = store_of(out)
    if said is not None and not _is_store(said, out, db):
        raise OutputClash(
            f"{out} holds the outputs of the store {said['store']}, not of {db}: choose another "
            f"folder ({option} DIR, or keep each store in a folder of its own: outputs go "
            f"beside it), or remove {out} to replace them")
    out.mkdir(parents=True, exist_ok=True)
    if said is None or said["store"] != str(db):
        relative = os.path.relpath(db, out.resolve())
        (out / STORE_FILE).write_text(json.dumps({"store": str(db), "relative": relative})
                                      + "\n", encoding="utf-8")
    return out
