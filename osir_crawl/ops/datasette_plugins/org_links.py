"""Datasette plugin (loaded by ``python -m osir_crawl.browse`` with ``--plugins-dir``): an
``org`` cell naming an organisation of the ranking site links to its page there. The pages come
from the metadata's ``plugins: {org_links: {base: "/site/en/", pages: {org: path}}}``, which
browse writes from the site's ``orgs.json`` (``python -m scoring site``)."""

from datasette import hookimpl
from markupsafe import Markup, escape


@hookimpl
def render_cell(value, column, datasette):
    if column != "org" or not isinstance(value, str):
        return None
    config = datasette.plugin_config("org_links") or {}
    page = (config.get("pages") or {}).get(value)
    if not page:
        return None
    return Markup(f'<a href="{escape(config["base"] + page)}">{escape(value)}</a>')
