"""``scrapy merge --into TARGET.db SHARD.db [SHARD.db …] [--snapshot YYYY-MM-DD]``: combine the
shard stores of one snapshot (``-a shard=I/N`` crawls, one store per node) into one store, or
refuse with one ``osir-crawl:`` line and exit 1 when a shard is missing or incomplete or the
merge would lose or double rows. See :mod:`osir_crawl.store.merge`."""

from __future__ import annotations

import sys
import time

from scrapy.exceptions import UsageError

from osir_crawl import store
from osir_crawl.inputs.registry import RegistryError, load_registry
from osir_crawl.project_command import ProjectCommand
from osir_crawl.store.merge import MergeRefused, merge


class Command(ProjectCommand):
    usage = "--into TARGET.db SHARD.db [SHARD.db ...] [--snapshot YYYY-MM-DD]"
    summary = "Merge the shard stores of one snapshot into one store"

    def add_options(self, parser):
        super().add_options(parser)
        parser.add_argument("--into", metavar="TARGET.db", required=True,
                            help="the store to merge into (created if missing)")
        parser.add_argument("--snapshot", metavar="YYYY-MM-DD",
                            help="the snapshot to merge (default: the shard stores' only one)")

    def run(self, args, opts):
        if not args:
            raise UsageError("name the shard stores to merge", print_help=True)
        started = time.monotonic()
        try:  # the registry the rows are validated against, as the crawls validated them
            registry = load_registry(self.settings.get("OSIR_ORGS"))
            report = merge(opts.into, args, opts.snapshot, registry=registry)
        except (MergeRefused, ValueError, store.StoreError, RegistryError) as exc:
            print(f"osir-crawl: merge refused: {exc}", file=sys.stderr, flush=True)
            self.exitcode = 1
            return
        for line in report.lines():
            print(line)
        print(f"  into {opts.into} in {time.monotonic() - started:.1f}s")
