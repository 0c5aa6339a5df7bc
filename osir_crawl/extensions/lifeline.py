"""A spider started by ``scrapy crawlall`` stops cleanly when crawlall dies, however it dies.

crawlall hands each ``scrapy crawl`` child the read end of a pipe (its number in
``OSIR_PARENT_FD``) and keeps the write end. When crawlall ends, even by SIGKILL, the kernel
closes the write end and the child reads end-of-file; :class:`ParentWatch` then sends its own
process one SIGTERM, so Scrapy stops gracefully (reason ``shutdown``) and saves the JOBDIR, and
the same crawlall command resumes it.

Not ``prctl(PR_SET_PDEATHSIG)``: there the "parent" is the thread that forked the child, and
when it dies the child is handed to another live thread of the same process and signalled
again (Linux ``forget_original_parent``). crawlall has more than one thread (importing
sqlite_utils imports pandas and pyarrow, whose jemalloc starts a thread), so a SIGKILLed
crawlall sometimes sent two SIGTERMs, which Scrapy takes as "force an unclean shutdown": no
JOBDIR saved, the crawl left ``running``. End-of-file comes once, when the last holder is gone.
"""

from __future__ import annotations

import logging
import os
import signal
import stat
import threading

from scrapy import signals
from scrapy.exceptions import NotConfigured

logger = logging.getLogger(__name__)


class ParentWatch:
    def __init__(self, crawler, fd: int):
        self.crawler, self.fd = crawler, fd
        crawler.signals.connect(self.spider_opened, signals.spider_opened)

    @classmethod
    def from_crawler(cls, crawler):
        value = crawler.settings.get("OSIR_PARENT_FD")
        if value in (None, ""):
            raise NotConfigured  # not started by crawlall: silent (a reason would warn)
        try:
            fd = int(value)
            if not stat.S_ISFIFO(os.fstat(fd).st_mode):
                raise ValueError("not a pipe")
        except (ValueError, OSError) as exc:
            logger.warning("OSIR_PARENT_FD=%s is not an open pipe (%s): the crawl will not "
                           "stop when its parent does", value, exc)
            raise NotConfigured("OSIR_PARENT_FD is not an open pipe") from None
        return cls(crawler, fd)

    def spider_opened(self, spider):
        # From here on a graceful stop saves the JOBDIR; a parent that died earlier is seen now.
        threading.Thread(target=self._watch, name="osir-parent-watch", daemon=True).start()

    def _watch(self):
        try:
            while os.read(self.fd, 512):  # crawlall never writes: only end-of-file comes
                pass
        except OSError as exc:
            logger.warning("stopped watching the parent process: %s", exc)
            return
        from twisted.internet import reactor

        reactor.callFromThread(self._parent_gone)

    def _parent_gone(self):
        # In the reactor thread, where Scrapy's shutdown handlers are already installed.
        if not self.crawler.crawling:  # already stopping (finished, or a SIGTERM came first)
            return
        logger.warning("the crawlall that started this crawl has ended: stopping as on SIGTERM")
        self.crawler.stats.set_value("osir/parent_gone", True)
        os.kill(os.getpid(), signal.SIGTERM)
