"""``python -m scoring site --db STORE --out FOLDER``: a static ranking site of every month in
the store, in English and Chinese, with no server (open ``FOLDER/index.html``).

    write_site(read_site(db_path), out_dir) -> [page paths]

:mod:`.data` reads the store (rankings, provenance; explain's breakdown recomputed from the
stored summaries; the biggest movers and why), :mod:`.tables` the tables shown and downloaded,
:mod:`.svg` the charts, :mod:`.pages` the pages (Jinja2 templates in ``templates/``,
autoescaped), :mod:`.i18n` the words in both languages.
"""

from .data import read_site
from .pages import write_site

__all__ = ["read_site", "write_site", "build_site"]


def build_site(db_path, out_dir, method_path=None) -> list[str]:
    return write_site(read_site(db_path, method_path), out_dir)
