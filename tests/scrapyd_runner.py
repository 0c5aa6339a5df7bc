"""scrapyd's job runner in the tests (``runner = tests.scrapyd_runner`` in scrapyd.conf): runs
``scrapyd.runner`` itself, unchanged, forked from the pre-warmed interpreter (tests/prewarmed.py)
instead of a cold one, about a second of CPU less a job (scrapyd starts one per job and one per
``listspiders``).

scrapyd still starts this process and sees it as the job: its pid, output, signals (passed on
to the runner: a cancelled job stops as it would) and exit status (the runner's).
"""

from __future__ import annotations

import os
import signal
import sys

from tests import prewarmed


def main() -> None:
    runner = prewarmed.WarmChild([sys.executable, "-m", "scrapyd.runner", *sys.argv[1:]])
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, lambda signum, frame: runner.send_signal(signum))
    code = runner.wait()
    if code < 0:  # killed by a signal: end the same way
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    sys.exit(code)


if __name__ == "__main__":
    main()
