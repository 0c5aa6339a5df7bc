"""Scrapy settings for osir-crawl.

Every OSIR/platform setting takes its default from the environment variable of the same name,
then from the public default, and can be overridden with ``-s NAME=value``.
"""

import datetime as _dt
import os

from osir_crawl import __version__
from osir_crawl.inputs import registry as _registry
from osir_crawl.ops import outputs as _outputs
from osir_crawl.rules import eval_rules as _eval_rules  # lower case: not settings themselves


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


BOT_NAME = "osir_crawl"
SPIDER_MODULES = ["osir_crawl.spiders"]
NEWSPIDER_MODULE = "osir_crawl.spiders"
COMMANDS_MODULE = "osir_crawl.commands"
USER_AGENT = f"osir-crawl/{__version__} (+https://github.com/osir-crawl/osir-crawl)"

# --- the store, the registry, the snapshot -------------------------------------------------
OSIR_DB = _env("OSIR_DB", _outputs.DEFAULT_STORE)
OSIR_ORGS = _env("OSIR_ORGS", _registry.DEFAULT_REGISTRY)
OSIR_SNAPSHOT = _env("OSIR_SNAPSHOT", _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d"))
OSIR_MIN_DOWNLOADS = int(_env("OSIR_MIN_DOWNLOADS", "50"))
# -a universe=all: list the whole platform, most downloaded first, down to this many downloads
# (what the platform sorts by: Hugging Face 30-day downloads, ModelScope cumulative ones).
OSIR_UNIVERSE_MIN_DOWNLOADS = int(_env("OSIR_UNIVERSE_MIN_DOWNLOADS", "1000"))
OSIR_STORE_BATCH_SIZE = 500
# Pages of one listing (or of one paged detail step) before it is cut, recorded as a failure:
# a listing that never ends (a new next link every time) stops.
OSIR_MAX_PAGES_PER_LISTING = int(_env("OSIR_MAX_PAGES_PER_LISTING", "10000"))
OSIR_MIN_STARS = int(_env("OSIR_MIN_STARS", "10"))  # forge repos below get no contributors request
# ModelScope's 交流反馈 counts are read from each popular repo's page, rendered in Chromium
# (docs/platforms.md); 0 leaves the pages out (``discussions`` NULL): minutes instead of hours.
MODELSCOPE_COMMUNITY = _env("MODELSCOPE_COMMUNITY", "1")
# The crawl lock of a spider and snapshot (osir_crawl/store/, CrawlLock): a running crawl's
# heartbeat, and how long a lock held from another machine may go without one.
OSIR_LOCK_HEARTBEAT = 30.0
OSIR_LOCK_STALE_AFTER = 300.0

# --- platform endpoints (public defaults; tests point them at loopback fakes) --------------
HF_ENDPOINT = _env("HF_ENDPOINT", "https://huggingface.co")
MODELSCOPE_ENDPOINT = _env("MODELSCOPE_ENDPOINT", "https://modelscope.cn")
GITHUB_API_URL = _env("GITHUB_API_URL", "https://api.github.com")
GITEE_API_URL = _env("GITEE_API_URL", "https://gitee.com/api/v5")
GITCODE_API_URL = _env("GITCODE_API_URL", "https://api.gitcode.com/api/v5")
OPENI_ENDPOINT = _env("OPENI_ENDPOINT", "https://openi.pcl.ac.cn")
OPENDATALAB_URL = _env("OPENDATALAB_URL", "https://opendatalab.com")
BAAI_DATA_URL = _env("BAAI_DATA_URL", "https://data.baai.ac.cn")
OPENCOMPASS_URL = _env("OPENCOMPASS_URL", "https://rank.opencompass.org.cn")
# The static file the CompassRank page loads its LLM board from (see docs/platforms.md).
OPENCOMPASS_LLM_URL = _env(
    "OPENCOMPASS_LLM_URL",
    "https://opencompass.oss-cn-shanghai.aliyuncs.com/assets/llm/data-llm-ability_official.json",
)
OPENCOMPASS_VLM_URL = _env(
    "OPENCOMPASS_VLM_URL", "http://opencompass.openxlab.space/assets/OpenVLM.json"
)
HF_DATASETS_SERVER_URL = _env("HF_DATASETS_SERVER_URL", "https://datasets-server.huggingface.co")
HELM_URL = _env("HELM_URL", "https://crfm.stanford.edu/helm")  # project_metadata.json
HELM_STORAGE_URL = _env("HELM_STORAGE_URL", "https://storage.googleapis.com/crfm-helm-public")

# --- the catalogue and the seed's evaluation rules (docs/catalogue.md) ---------------------
OSIR_CATALOGUE = _env("OSIR_CATALOGUE", "data/catalogue")
# models evaluated before this date are not counted
OSIR_EVAL_SINCE = _env("OSIR_EVAL_SINCE", _eval_rules.EVAL_SINCE.isoformat())
# A board whose data is older than this on the snapshot date counts as not maintained.
OSIR_BOARD_MAX_AGE_DAYS = _eval_rules.board_max_age()

# --- tokens: sent only to their own platform's host, never logged, stored or put in stats --
HF_TOKEN = _env("HF_TOKEN", _env("HUGGING_FACE_HUB_TOKEN"))
MODELSCOPE_API_TOKEN = _env("MODELSCOPE_API_TOKEN")
GITHUB_TOKEN = _env("GITHUB_TOKEN")
GITEE_TOKEN = _env("GITEE_TOKEN")
GITCODE_TOKEN = _env("GITCODE_TOKEN")
OPENI_TOKEN = _env("OPENI_TOKEN")

# --- politeness, retries, rate limits -------------------------------------------------------
# JSON APIs need no cookies; Scrapy's cookie middleware would also fetch the public-suffix
# list from the internet on the first Set-Cookie. Browser spiders keep the browser's cookies.
COOKIES_ENABLED = False
ROBOTSTXT_OBEY = False  # JSON APIs, not pages; robots.txt of API hosts disallows nothing we use
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_TIMEOUT = 30
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_MAX_DELAY = 30
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
RETRY_ENABLED = True
RETRY_TIMES = 5
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408]  # 429 belongs to RateLimitMiddleware
# Exponential backoff before each retry: base * 2**(attempt-1), capped.
OSIR_RETRY_BACKOFF_BASE = float(_env("OSIR_RETRY_BACKOFF_BASE", "1.0"))
OSIR_RETRY_BACKOFF_MAX = 60.0
# Waiting out a rate-limit window does not spend RETRY_TIMES; it has its own, larger budget.
OSIR_RATE_LIMIT_MAX_RETRIES = 30
# The longest rate-limit window waited out (seconds; GitHub's windows last an hour). A longer
# announced wait (``t=86400``) is not waited: the host's requests fail, recorded, until it ends.
# Every wait ends early when the crawl stops (SIGTERM).
OSIR_RATE_LIMIT_MAX_WAIT = float(_env("OSIR_RATE_LIMIT_MAX_WAIT", "3600"))
OSIR_RATE_LIMIT_DEFAULT_WAIT = 10.0  # when a 429 carries no usable header
# GitHub's secondary limit without Retry-After: at least this long, doubled on each repeat
# (GitHub's docs: "wait for at least one minute", then exponentially longer); capped by MAX_WAIT.
OSIR_RATE_LIMIT_SECONDARY_WAIT = 60.0
# Longest wait for the answers that will tell a new window's budget; then go on without one.
OSIR_RATE_LIMIT_ANSWER_WAIT = 60.0
# Connection failures in a row to one host (DNS, refused, TLS; timeouts before any answer)
# after which a spider stops as host_unreachable instead of retrying for minutes; 0: never.
OSIR_UNREACHABLE_AFTER = int(_env("OSIR_UNREACHABLE_AFTER", "5"))
# `scrapy crawlall` probes each platform host before starting its spiders (seconds per probe).
OSIR_PROBE_TIMEOUT = float(_env("OSIR_PROBE_TIMEOUT", "5"))

# Only http(s) is ever requested: Scrapy's other handlers would read local files (file:),
# or other services, for a URL a platform's Link header names (osir_crawl/middlewares/lost_requests.py).
DOWNLOAD_HANDLERS = {"file": None, "ftp": None, "s3": None, "data": None}
# The largest answer read (a listing page of 1,000 rows is a few MB); a larger one, or a gzip
# body that inflates past it, is refused and recorded as a failure.
DOWNLOAD_MAXSIZE = int(_env("OSIR_DOWNLOAD_MAXSIZE", str(64 * 1024 * 1024)))
DOWNLOAD_WARNSIZE = 16 * 1024 * 1024

DOWNLOADER_MIDDLEWARES = {
    # First: refused requests (dropped elsewhere) and non-http(s) URLs fail, recorded.
    "osir_crawl.middlewares.lost_requests.RefusedRequestMiddleware": 10,
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "osir_crawl.middlewares.RecordedOffsiteMiddleware": 50,
    # Last before the download (after HttpCache, 900): the token is added just before the
    # request leaves and taken off before any retry, redirect or cache copies the request.
    "osir_crawl.middlewares.TokenAuthMiddleware": 950,
    "osir_crawl.middlewares.RetryBackoffMiddleware": 540,
    "osir_crawl.middlewares.RateLimitMiddleware": 560,
    # Above RetryMiddleware (550): it sees every failed attempt before a retry is scheduled.
    "osir_crawl.middlewares.ConnectionBreakerMiddleware": 580,
}
SPIDER_MIDDLEWARES = {
    # Nothing dropped in silence (osir_crawl/middlewares/lost_requests.py): a too-long URL is a failure,
    # and so is an exception in a callback.
    "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None,
    "osir_crawl.middlewares.lost_requests.RecordedUrlLengthMiddleware": 800,
    "osir_crawl.middlewares.lost_requests.CallbackErrorMiddleware": 950,
    # A spider reading one indivisible thing runs in that thing's shard only (-a shard=I/N).
    "osir_crawl.middlewares.ShardStartMiddleware": 50,
}
ITEM_PIPELINES = {
    "osir_crawl.pipelines.DedupPipeline": 300,
    "osir_crawl.pipelines.ValidatePipeline": 400,
    "osir_crawl.pipelines.StorePipeline": 900,
    "osir_crawl.pipelines.RejectsRecorder": 950,  # hears drops; processes no items
}

EXTENSIONS = {
    # The crawl's id, lock and outcome in the store (osir_crawl/extensions/crawl_run.py); after Scrapy's
    # SpiderState (0), whose spider.state holds the id of a crawl resumed from its JOBDIR.
    "osir_crawl.extensions.crawl_run.CrawlRun": 100,
    # Requests the scheduler drops, errbacks that raise, items a pipeline fails on: failures.
    "osir_crawl.middlewares.lost_requests.LostRequestsRecorder": 110,
    # For `scrapy crawlall`'s children: live stats (osir_crawl/extensions/, off unless
    # OSIR_STATS_FILE is set) and a clean stop when crawlall dies (osir_crawl/extensions/lifeline.py, off
    # unless crawlall passes its pipe as OSIR_PARENT_FD).
    "osir_crawl.extensions.StatsFile": 500,
    "osir_crawl.extensions.lifeline.ParentWatch": 510,
}
OSIR_STATS_FILE = _env("OSIR_STATS_FILE")
OSIR_STATS_INTERVAL = 2.0
OSIR_PARENT_FD = None

TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False  # no listening port on a crawler machine
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = _env("OSIR_LOG_LEVEL", "INFO")

# Browser-rendered spiders enable these through custom_settings (see spiders/_browser.py).
OSIR_CHROMIUM = _env("OSIR_CHROMIUM", "/usr/bin/chromium")
# Longest wait (seconds) for a rendered page's network to go quiet and its awaited element to
# appear; a page that has not by then is parsed as it stands.
OSIR_BROWSER_SETTLE_TIMEOUT = 15.0
PLAYWRIGHT_BROWSER_TYPE = "chromium"
PLAYWRIGHT_LAUNCH_OPTIONS = {
    "executable_path": OSIR_CHROMIUM,
    "headless": True,
    "timeout": 30_000,
    "args": [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ],
}
