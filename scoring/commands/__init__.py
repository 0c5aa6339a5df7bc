"""Subcommands of ``python -m scoring``: one module each, defining ``add_parser(subparsers)``.

See :mod:`scoring.cli` for the contract. Optional module attribute ``ORDER``
(default 50) sorts the commands in ``--help``.
"""
