"""Datasette plugin (loaded by ``python -m osir_crawl.browse`` with ``--plugins-dir``):
``/-/databases.json`` without the store's file path (where the store lives on the machine is
no visitor's business); every other field as Datasette gives it. Plugin routes come before
Datasette's own, so this one answers."""

from datasette import hookimpl
from datasette.utils.asgi import Response


async def databases(datasette):
    return Response.json([{k: v for k, v in db.items() if k != "path"}
                          for db in datasette._connected_databases()])


@hookimpl
def register_routes():
    return [(r"^/-/databases(\.json)?$", databases)]
