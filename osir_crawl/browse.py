"""``python -m osir_crawl.browse [STORE] [DATASETTE OPTION …]``: Datasette on a store, with the
titles, facets and saved queries of ``data/metadata.yml`` whatever the store file is called.

Datasette names a database after its file's stem and applies metadata by that name, so
``datasette /tmp/crawl.db -m data/metadata.yml`` would silently show none of them (the file
keys them under ``osir``, for ``data/osir.db``). This writes the metadata re-keyed to the
store's name into a temporary file and runs ``datasette serve STORE -m THAT …``. STORE
defaults to ``OSIR_DB`` (else ``data/osir.db``); other options go to ``datasette serve``
(``-p 8001``, ``-h 0.0.0.0``, ``--get /osir/orgs.json`` …). When the ranking site is beside
the store (``site/``, ``python -m scoring site``), it is served at ``/site/`` and organisation
names link to their pages there (``datasette_plugins/org_links.py``).
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
PLUGINS = Path(__file__).resolve().parent / "datasette_plugins"


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


def site_options(store, meta: dict) -> list[str]:
    """The ranking site beside the store (``python -m scoring site``), served at ``/site/``,
    and its organisation pages linked from every ``org`` cell; [] when there is no site."""
    site = Path(store).resolve().parent / "site"
    if not (site / "orgs.json").is_file():
        return []
    pages = json.loads((site / "orgs.json").read_text(encoding="utf-8"))
    meta.setdefault("plugins", {})["org_links"] = {"base": "/site/en/", "pages": pages}
    return ["--static", f"site:{site}", "--plugins-dir", str(PLUGINS)]


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
        meta = metadata_for(store)
        site = site_options(store, meta)
        metadata.write_text(json.dumps(meta), encoding="utf-8")
        cmd = [sys.executable, "-m", "datasette", "serve", store, "-m", str(metadata), *site,
               *args]
        try:
            return subprocess.run(cmd).returncode
        except KeyboardInterrupt:
            return 130


if __name__ == "__main__":
    raise SystemExit(main())
