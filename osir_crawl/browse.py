"""``python -m osir_crawl.browse``: the command's name; the code is osir_crawl/ops/browse.py."""

import sys

from osir_crawl.ops.browse import main

if __name__ == "__main__":
    sys.exit(main())
