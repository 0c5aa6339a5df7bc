"""Subcommands of ``python -m scoring``: one module each, defining ``add_parser(subparsers)``.

See :mod:`scoring.cli` for the contract. Optional module attribute ``ORDER``
(default 50) sorts the commands in ``--help``.
"""


def add_store_option(parser) -> None:
    """``--db PATH``: every command that reads the store takes it the same way."""
    parser.add_argument("--db", metavar="PATH",
                        help="the store (default: $OSIR_DB or data/osir.db)")


def store_of(args):
    """The store a command reads: its ``--db``, else ``$OSIR_DB``, else data/osir.db."""
    from pathlib import Path

    from ..store import default_store  # imported on use: --help stays fast
    return Path(args.db or default_store())

