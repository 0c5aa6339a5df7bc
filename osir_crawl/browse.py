"""``python -m osir_crawl.browse [STORE] [DATASETTE OPTION …]``: Datasette on a store, with the
titles, facets and saved queries of ``data/metadata.yml`` whatever the store file is called.

Datasette names a database after its file's stem and applies metadata by that name, so
``datasette /tmp/crawl.db -m data/metadata.yml`` would silently show none of them (the file
keys them under ``osir``, for ``data/osir.db``). This writes the metadata re-keyed to the
store's name into a temporary file and runs ``datasette serve STORE -m THAT …``. STORE
defaults to ``OSIR_DB`` (else ``data/osir.db``); other options go to ``datasette serve``
(``-p 8001``, ``-h 0.0.0.0``, ``--get /osir/orgs.json`` …).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from osir_crawl.inputs import load_yaml

METADATA = Path(__file__).resolve().parents[1] / "data" / "metadata.yml"
KEY = "osir"  # the database name data/metadata.yml is written for


def metadata_for(store: str | os.PathLike, source: Path = METADATA) -> dict:
    """``source`` with its database entry (and the index page's links to it) under the name
    Datasette gives ``store``."""
    meta = load_yaml(source, ValueError, "Datasette metadata")
    name = Path(store).stem
    if name != KEY:
        meta["databases"] = {name: meta["databases"][KEY]}
        if "description_html" in meta:
            meta["description_html"] = meta["description_html"].replace(
                f'href="/{KEY}', f'href="/{name}')
    return meta


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] in (["-h"], ["--help"]):
        print(__doc__)
        return 0
    store = args.pop(0) if args and not args[0].startswith("-") else (
        os.environ.get("OSIR_DB") or "data/osir.db")
    if not Path(store).is_file():
        print(f"osir-crawl: no store at {store}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="osir-browse-") as tmp:
        metadata = Path(tmp) / "metadata.json"
        metadata.write_text(json.dumps(metadata_for(store)), encoding="utf-8")
        cmd = [sys.executable, "-m", "datasette", "serve", store, "-m", str(metadata), *args]
        try:
            return subprocess.run(cmd).returncode
        except KeyboardInterrupt:
            return 130


if __name__ == "__main__":
    raise SystemExit(main())
