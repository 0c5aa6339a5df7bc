"""``python -m scoring <command>``: the command line.

Extension point: every module in :mod:`scoring.commands` that defines
``add_parser(subparsers)`` is a subcommand. ``add_parser`` adds its parser
with ``subparsers.add_parser(NAME, help=...)`` and sets ``func=run`` through
``set_defaults``; ``run(args)`` returns the exit code. Adding ``build`` or
``chart`` means dropping ``scoring/commands/build.py`` in place; nothing here
changes. Errors: :class:`scoring.errors.ScoringError` is printed as one line
``error: ...`` with exit code 2 (no traceback); so are a bad ``--snapshot``
(checked here for every command, as it becomes a path) and a bad registry; an
unreadable or unwritable file or store is one line with exit code 1.
"""

import argparse
import importlib
import pkgutil
import sqlite3
import sys

from osir_crawl.inputs.registry import RegistryError
from osir_crawl.ops.outputs import OutputClash, store_path
from osir_crawl.snapshots import check_snapshot
from osir_crawl.store import StoreError

from . import commands
from .errors import ScoringError, reader_went_away


def command_modules():
    """The subcommand modules, in name order (``rank``, ``explain`` and any added later)."""
    found = []
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        if hasattr(module, "add_parser"):
            found.append(module)
    return sorted(found, key=lambda m: (getattr(m, "ORDER", 50), m.__name__))


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m scoring",
        description="Rank organisations by open-source influence (the OSIR-LMTS method).")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in command_modules():
        module.add_parser(sub)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        if getattr(args, "snapshot", None) is not None:
            try:
                args.snapshot = check_snapshot(args.snapshot, "--snapshot")
            except ValueError as err:
                raise ScoringError(str(err)) from None
        return args.func(args) or 0
    except BrokenPipeError:  # output piped into head & co.
        return reader_went_away()
    except (ScoringError, RegistryError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except (StoreError, OutputClash) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except sqlite3.Error as err:  # a store that is damaged, or read-only for a build
        db = store_path(getattr(args, "db", None))
        print(f"error: the store {db} cannot be used: {err}", file=sys.stderr)
        return 1
    except OSError as err:
        name = f"{err.filename}: " if err.filename else ""
        print(f"error: {name}{err.strerror or err}", file=sys.stderr)
        return 1
