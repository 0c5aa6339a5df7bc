"""``python -m osir_crawl.browse [STORE] [DATASETTE OPTION …]``: Datasette on a store, with the
titles, facets and saved queries of ``data/metadata.yml`` whatever the store file is called.

Datasette names a database after its file's stem and applies metadata by that name, so
``datasette /tmp/crawl.db -m data/metadata.yml`` would silently show none of them (the file
keys them under ``osir``, for ``data/osir.db``). This writes the metadata re-keyed to the
store's name into a temporary file and runs ``datasette serve STORE -m THAT …``. STORE
defaults to ``OSIR_DB`` (else ``data/osir.db``); other options go to ``datasette serve``
(``-p 8001``, ``-h 0.0.0.0``, ``--get /osir/orgs.json`` …).

The store's name reaches the index page's HTML escaped; ``/-/databases.json`` leaves out its
path (osir_crawl/datasette_paths.py); SIGTERM or SIGINT to this process stops Datasette too.
"""

from __future__ import annotations

import html
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from datasette.utils import tilde_encode

from osir_crawl.inputs import load_yaml

METADATA = Path(__file__).resolve().parents[1] / "data" / "metadata.yml"
KEY = "osir"  # the database name data/metadata.yml is written for
PATHS_PLUGIN = Path(__file__).with_name("datasette_paths.py")


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
        plugins = Path(tmp) / "plugins"
        plugins.mkdir()
        shutil.copy(PATHS_PLUGIN, plugins)
        cmd = [sys.executable, "-m", "datasette", "serve", store, "-m", str(metadata),
               "--plugins-dir", str(plugins), *args]
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
