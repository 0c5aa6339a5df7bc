import time

from scrapy.http import Headers

from osir_crawl.middlewares import host_key, rate_limit_window, retry_after


def test_hugging_face_ratelimit_header():
    assert rate_limit_window(Headers({"RateLimit": '"api";r=0;t=55'})) == (0, 55.0)
    assert rate_limit_window(Headers({"RateLimit": '"api";r=412;t=7'})) == (412, 7.0)


def test_github_headers_reset_is_an_epoch():
    now = time.time()
    headers = Headers({"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(now) + 30)})
    remaining, reset = rate_limit_window(headers, now=now)
    assert remaining == 0 and 29 <= reset <= 30


def test_retry_after_seconds_or_date():
    assert retry_after(Headers({"Retry-After": "12"})) == 12.0
    assert retry_after(Headers({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0.0
    assert retry_after(Headers({})) is None
    assert rate_limit_window(Headers({})) == (None, None)


def test_host_key_includes_scheme_and_port():
    assert host_key("https://huggingface.co/api/models") == "https://huggingface.co:443"
    assert host_key("http://127.0.0.1:8080/x") == "http://127.0.0.1:8080"
    assert host_key("http://127.0.0.1:8080/x") != host_key("http://127.0.0.1:8081/x")
