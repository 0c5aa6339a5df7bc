"""HostWindow: one host's rate-limit window, on a clock the test moves (no sleeping)."""

import time

import pytest
from scrapy import Request
from scrapy.http import Headers, Response
from scrapy.utils.test import get_crawler

from osir_crawl.middlewares import ModelScopeErrorMiddleware, RateLimitMiddleware
from osir_crawl.middlewares.rate_limits import (MARGIN, POLL, HostWindow, WindowTooLong, rate_limit_window,
                                     retry_after)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


def window_on(clock, max_wait=900.0, answer_wait=60.0):
    stats = get_crawler().stats
    return HostWindow("https://huggingface.co:443", stats, max_wait, answer_wait, clock=clock)


def send(window, *requests):
    for request in requests:
        assert window.delay(request) == 0
        window.sent(request)


def test_an_unknown_window_lets_requests_go(clock):
    window = window_on(clock)
    send(window, "a", "b", "c")
    assert window.outstanding() == 3 and window.budget is None


def test_hugging_face_ratelimit_header_spends_the_announced_budget(clock):
    window = window_on(clock)
    send(window, "first")
    window.answered("first")
    remaining, reset = rate_limit_window(Headers({"RateLimit": '"api";r=2;t=55'}))
    window.learn(remaining, reset)
    send(window, "a", "b")
    # Spent, with the reset announced: a pause until then, plus the margin.
    assert window.delay("c") == pytest.approx(55 + MARGIN)
    assert window.stats.get_value("osir/rate_limit/pauses/exhausted") == 1
    clock.now += 55 + MARGIN
    send(window, "c")  # after the pause, one request learns the new window's budget
    assert window.delay("d") == POLL  # ... and the others wait for its answer


def test_requests_in_flight_count_against_an_announced_budget(clock):
    window = window_on(clock)
    send(window, "a", "b", "c")
    window.answered("a")
    window.learn(remaining=3, reset=30)  # b and c are still out: one more may go
    send(window, "d")
    assert window.delay("e") > 0


def test_out_of_order_answers_keep_the_lowest_remaining_of_a_window(clock):
    window = window_on(clock)
    window.learn(remaining=5, reset=30)
    window.learn(remaining=9, reset=30)  # an older answer arriving late
    assert window.budget == 5
    clock.now += 31
    window.learn(remaining=100, reset=60)  # a new window: its budget replaces the old
    assert window.budget == 100


def test_an_x_ratelimit_reset_below_an_epoch_is_seconds():
    seconds = Headers({"x-ratelimit-remaining": "7", "x-ratelimit-reset": "12"})
    assert rate_limit_window(seconds, now=time.time()) == (7, 12.0)


def test_retry_after_as_a_future_date_or_unreadable():
    date = Headers({"Retry-After": "Wed, 21 Oct 2015 07:28:30 GMT"})
    assert retry_after(date, now=1445412480.0) == pytest.approx(30.0)  # 07:28:00 that day
    assert retry_after(Headers({"Retry-After": "soon"})) is None


def test_a_shorter_pause_does_not_shorten_a_longer_one(clock):
    window = window_on(clock, max_wait=60.0)
    window.pause(50, "429")
    assert window.delay("a") == pytest.approx(50 + MARGIN)
    window.pause(5, "429")  # a later, shorter pause: the longer one holds
    assert window.delay("a") == pytest.approx(50 + MARGIN)
    assert window.stats.get_value("osir/rate_limit/pauses/429") == 1
    assert window.stats.get_value("osir/rate_limit/wait_seconds") == pytest.approx(101.0)


def test_a_window_longer_than_max_wait_is_not_waited_out(clock):
    """``t=86400`` used to be waited 900 s per attempt, 30 attempts: its requests fail at once
    until the window ends (issue 25)."""
    window = window_on(clock, max_wait=60.0)
    window.pause(3600, "429")
    with pytest.raises(WindowTooLong, match="3600s, more than OSIR_RATE_LIMIT_MAX_WAIT"):
        window.delay("a")
    clock.now += 3601
    assert window.delay("a") == 0.0
    assert window.stats.get_value("osir/rate_limit/too_long/429") == 1


def test_a_spent_window_without_a_reset_waits_for_answers_at_most_answer_wait(clock):
    window = window_on(clock, answer_wait=10.0)
    send(window, "out")
    window.learn(remaining=1, reset=None)  # "out" is in flight: nothing left
    assert window.budget == 0
    assert window.delay("next") == POLL  # the answer to "out" will tell the budget
    clock.now += 5
    assert window.delay("next") == POLL
    clock.now += 5.1  # no answer in answer_wait seconds: go on without a budget
    assert window.delay("next") == 0 and window.budget is None
    assert window.outstanding() == 0  # the unanswered one stops counting


def test_answers_still_owed_past_answer_wait_are_counted_as_capped(clock):
    window = window_on(clock, answer_wait=10.0)
    send(window, "old")
    window.learn(remaining=1, reset=None)
    assert window.delay("next") == POLL
    clock.now += 6
    window.sent("recent")
    clock.now += 4.5  # "old" is forgotten; "recent" is still owed, but the wait is over
    assert window.delay("next") == 0 and window.budget is None
    assert window.stats.get_value("osir/rate_limit/answer_wait_capped") == 1


def test_an_answer_ends_the_wait_for_a_new_budget(clock):
    window = window_on(clock)
    send(window, "out")
    window.learn(remaining=1, reset=None)
    assert window.delay("next") == POLL
    window.answered("out")  # nothing in flight: no answer is coming to say more
    assert window.delay("next") == 0 and window.budget is None


# --- the middleware only asks the window -------------------------------------------------------
SETTINGS = {"OSIR_RATE_LIMIT_MAX_RETRIES": 2, "OSIR_RATE_LIMIT_MAX_WAIT": 900.0,
            "OSIR_RATE_LIMIT_DEFAULT_WAIT": 10.0}
URL = "https://api.github.com/orgs/x/repos"


def answer(status, headers=None):
    return Response(URL, status=status, headers=headers or {})


def test_a_429_pauses_the_host_and_retries_on_its_own_budget():
    middleware = RateLimitMiddleware.from_crawler(get_crawler(settings_dict=SETTINGS))
    request = Request(URL)
    retry = middleware.process_response(request, answer(429, {"Retry-After": "30"}))
    assert isinstance(retry, Request) and retry.dont_filter
    assert retry.meta["osir_rate_limit_retries"] == 1
    assert middleware.window(URL).delay(retry) == pytest.approx(30 + MARGIN, abs=0.1)
    retry = middleware.process_response(retry, answer(429))  # no header: the default wait
    again = middleware.process_response(retry, answer(429))  # past the budget: given up
    assert isinstance(again, Response) and again.status == 429
    stats = middleware.stats
    assert stats.get_value("osir/rate_limit/responses") == 3
    assert stats.get_value("osir/rate_limit/retries") == 2
    assert stats.get_value("osir/rate_limit/gave_up") == 1


def test_github_403_with_nothing_remaining_is_a_rate_limit_and_another_403_is_not():
    middleware = RateLimitMiddleware.from_crawler(get_crawler(settings_dict=SETTINGS))
    spent = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(time.time()) + 20)}
    assert isinstance(middleware.process_response(Request(URL), answer(403, spent)), Request)
    forbidden = answer(403, {"x-ratelimit-remaining": "4000"})
    assert middleware.process_response(Request(URL), forbidden) is forbidden


def test_an_answer_announcing_a_spent_window_pauses_before_the_next_request():
    middleware = RateLimitMiddleware.from_crawler(get_crawler(settings_dict=SETTINGS))
    ok = answer(200, {"RateLimit": '"api";r=0;t=40'})
    assert middleware.process_response(Request(URL), ok) is ok
    assert middleware.window(URL).delay(Request(URL)) == pytest.approx(40 + MARGIN, abs=0.1)
    assert middleware.window("https://huggingface.co/api/models").delay(Request(URL)) == 0


def test_modelscope_throttling_in_the_body_becomes_a_429_the_rate_limit_waits_out():
    crawler = get_crawler(settings_dict=SETTINGS)
    errors, limits = (ModelScopeErrorMiddleware.from_crawler(crawler),
                      RateLimitMiddleware.from_crawler(crawler))
    url = "https://modelscope.cn/openapi/v1/models?owner=x"
    body = b'{"success": false, "code": "RateLimitExceed", "message": "slow down"}'
    throttled = errors.process_response(Request(url), Response(url, status=200, body=body))
    assert throttled.status == 429
    retry = limits.process_response(Request(url), throttled)  # no header: the default wait
    assert isinstance(retry, Request)
    assert limits.window(url).delay(retry) == pytest.approx(10 + MARGIN, abs=0.1)
    other = Response(url, status=200, body=b'{"success": false, "code": "NotFound"}')
    assert errors.process_response(Request(url), other) is other
