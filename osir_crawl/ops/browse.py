"""``python -m osir_crawl.browse [STORE | --db STORE] [DATASETTE OPTION …]``: Datasette on a store,
with the titles, facets and saved queries of ``data/metadata.yml`` whatever the store file is
called.

Datasette names a database after its file's stem and applies metadata by that name, so
``datasette /tmp/crawl.db -m data/metadata.yml`` would silently show none of them (the file
keys them under ``osir``, for ``data/osir.db``). This writes the metadata re-keyed to the
store's name into a temporary file and runs ``datasette serve STORE -m THAT …``. STORE
defaults to ``OSIR_DB`` (else ``data/osir.db``); other options go to ``datasette serve``
(``-p 8001``, ``-h 0.0.0.0``, ``--get /osir/orgs.json`` …). When the ranking site is beside
the store (``site/``, ``python -m scoring site``), it is served at ``/site/`` and organisation
names link to their pages there (``datasette_plugins/org_links.py``).

The store's name reaches the index page's HTML escaped; ``/-/databases.json`` leaves out its
path (``datasette_plugins/hide_paths.py``); SIGTERM or SIGINT to this process stops Datasette
too.
"""

from __future__ import annotations

import html
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from datasette.utils import tilde_encode

from osir_crawl.inputs import load_yaml
from osir_crawl.ops.outputs import store_path

METADATA = Path(__file__).resolve().parents[2] / "data" / "metadata.yml"
KEY = "osir"  # the database name data/metadata.yml is written for
PLUGINS = Path(__file__).resolve().parent / "datasette_plugins"


def metadata_for(store: str | os.PathLike, source: Path = METADATA) -> dict:
    """``source`` with its database entry (and the index page's links to it) under the name
    Datasette gives ``store``."""
    meta = load_yaml(source, ValueError, "Datasette metadata")
    name = Path(store).stem
    if name != KEY:
        meta["databases"] = {name: meta["databases"][KEY]}
        if "description_html" in meta:  # the name as Datasette routes it, escaped for HTML
            meta["description_html"] = meta["description_html"].replace(
                f'href="/{KEY}', f'href="/{html.escape(tilde_encode(name))}').replace(
                f">{KEY}</a>", f">{html.escape(name)}</a>")
    return meta


def site_options(store, meta: dict) -> list[str]:
    """The ranking site beside the store (``python -m scoring site``), served at ``/site/``,
    and its organisation pages linked from every ``org`` cell; [] when there is no site."""
    site = Path(store).resolve().parent / "site"
    if not (site / "orgs.json").is_file():
        return []
    pages = json.loads((site / "orgs.json").read_text(encoding="utf-8"))
    meta.setdefault("plugins", {})["org_links"] = {"base": "/site/en/", "pages": pages}
    return ["--static", f"site:{site}"]  # (the plugins are always loaded)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] in (["-h"], ["--help"]):
        print(__doc__)
        return 0
    store = args.pop(0) if args and not args[0].startswith("-") else None
    if store is None and args[:1] == ["--db"] and len(args) > 1:  # as the other commands
        store = args[1]
        del args[:2]
    store = store_path(store)
    if not Path(store).is_file():
        print(f"osir-crawl: no store at {store}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="osir-browse-") as tmp:
        metadata = Path(tmp) / "metadata.json"
        meta = metadata_for(store)
        site = site_options(store, meta)
        metadata.write_text(json.dumps(meta), encoding="utf-8")
        cmd = [sys.executable, "-m", "datasette", "serve", store, "-m", str(metadata),
               "--plugins-dir", str(PLUGINS), *site, *args]
        return serve(cmd)


def serve(cmd: list[str]) -> int:
    """Run Datasette until it exits; SIGTERM or SIGINT here stops it first (it would
    otherwise outlive this process, still listening), and the exit status says which."""
    child = subprocess.Popen(cmd)

    def stop(signum, frame):
        raise _Stopped(signum)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        return child.wait()
    except (_Stopped, KeyboardInterrupt) as exc:
        signum = exc.args[0] if isinstance(exc, _Stopped) else signal.SIGINT
        child.terminate()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        return 128 + signum
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


class _Stopped(Exception):
    """SIGTERM or SIGINT arrived (the signal number is its argument)."""


if __name__ == "__main__":
    raise SystemExit(main())
