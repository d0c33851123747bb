"""The client's rate controller (bt_explore.pacing): unit tests on a fake clock (nothing sleeps),
a simulated gateway on the same clock, and the hook in the client's transport."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from _gateway_sim import random_refusals, simulate

import bt_explore
from bt_explore import Sandbox
from bt_explore.pacing import FakeClock, RateController, policy_rate, retry_after
from bt_explore.retry import default_retry
from bt_explore.sandbox.ratelimit import RateLimit, TokenBuckets


def _controller(**kwargs: object) -> tuple[RateController, FakeClock]:
    clock = FakeClock(1000.0)
    return RateController(clock=clock, sleep=clock.sleep, **kwargs), clock  # type: ignore[arg-type]


def _send_at(pace: RateController, clock: FakeClock, per_second: float, seconds: float) -> None:
    """Answers arriving at ``per_second`` for ``seconds`` (all 200)."""
    for _ in range(round(per_second * seconds)):
        pace.acquire()
        pace.on_answer(200, {})
        clock.sleep(1 / per_second)


def test_nothing_waits_until_the_server_pushes_back() -> None:
    pace, clock = _controller()
    _send_at(pace, clock, 50, 2)
    assert pace.rate is None and pace.acquire() == 0.0 and pace.throttles == 0
    assert repr(pace) == "RateController(unpaced, throttles=0)"


def test_a_throttle_cuts_the_rate_to_beta_of_the_measured_rate_and_paces_every_turn() -> None:
    pace, clock = _controller()
    _send_at(pace, clock, 16, 2)
    pace.on_answer(429, {})
    assert pace.throttles == 1
    assert pace.rate == pytest.approx(0.7 * 16, rel=0.05)
    rate = pace.rate
    began = clock()
    waits = [pace.acquire() for _ in range(10)]
    assert all(w > 0 for w in waits)
    assert clock() - began == pytest.approx(10 / rate, rel=0.01)  # turns 1/rate apart


def test_repeated_throttles_keep_cutting_but_never_below_the_floor() -> None:
    pace, clock = _controller()
    _send_at(pace, clock, 8, 1)
    rates = []
    for _ in range(30):
        pace.on_answer(429, {})
        rates.append(pace.rate)
        clock.sleep(0.01)
    assert rates == sorted(rates, reverse=True)
    assert rates[-1] == RateController.MIN_RATE


def test_successes_recover_along_a_cubic_curve_bounded_by_twice_the_measured_rate() -> None:
    pace, clock = _controller()
    _send_at(pace, clock, 10, 2)
    pace.on_answer(429, {})
    after_throttle = pace.rate
    assert after_throttle is not None
    k = (10 * (1 - 0.7) / 0.4) ** (1 / 3)  # seconds until the last throttled rate again
    throttled_at = clock()
    rates = []
    while clock() < throttled_at + 3 * k:  # answers as fast as the pace allows
        pace.acquire()
        pace.on_answer(200, {})
        rates.append((clock() - throttled_at, pace.rate))
    assert rates[-1][1] > 10.0 > after_throttle
    assert [r for _, r in rates] == sorted(r for _, r in rates)  # grows without throttles
    # flat near the rate that was throttled: within K seconds it is back at 10/s at most
    assert max(r for t, r in rates if t <= k) <= 10.0 + 1e-9


def test_recovery_never_goes_above_twice_the_measured_rate() -> None:
    pace, clock = _controller()
    _send_at(pace, clock, 10, 2)
    pace.on_answer(429, {})
    _send_at(pace, clock, 2, 20)  # the client has little to send: the pace need not grow
    assert pace.rate is not None and pace.rate <= 2 * 2 + 1e-9


def test_a_stated_policy_sets_the_pace_at_once_and_caps_the_recovery() -> None:
    pace, clock = _controller()
    pace.on_answer(200, {"RateLimit-Policy": "5;w=1"})
    assert pace.rate == 5.0 and pace.throttles == 0
    _send_at(pace, clock, 5, 4)
    assert pace.rate == 5.0
    pace.on_answer(429, {"RateLimit-Policy": "5;w=1"})
    assert pace.rate is not None and pace.rate < 5.0
    _send_at(pace, clock, 5, 10)
    assert pace.rate == 5.0  # grown back, and not beyond the stated limit


def test_max_rate_paces_from_the_start_and_bad_values_are_named() -> None:
    pace, clock = _controller(max_rate=4)
    assert pace.rate == 4.0
    began = clock()
    for _ in range(8):
        pace.acquire()
    assert clock() - began == pytest.approx(2.0)
    with pytest.raises(ValueError, match="max_rate: must be a positive number"):
        RateController(max_rate=0)


def test_policy_headers_are_read_in_the_drafts_spellings() -> None:
    assert policy_rate({"RateLimit-Policy": "20;w=1"}) == 20.0
    assert policy_rate({"ratelimit-policy": '"burst";q=100;w=60, "daily";q=1000;w=86400'}) == (
        pytest.approx(100 / 60)
    )
    assert policy_rate({"RateLimit-Policy": '"day";q=10000;w=86400'}) is None  # a quota
    assert policy_rate({"RateLimit-Policy": "10;w=1, 2;w=1"}) == 2.0  # the slowest counts
    assert policy_rate({"RateLimit-Policy": "garbage"}) is None
    assert policy_rate({"RateLimit-Policy": "0;w=1"}) is None
    assert policy_rate({"X-RateLimit-Limit": "5"}) is None


@pytest.mark.parametrize("stated", [False, True])
def test_against_a_simulated_gateway_few_requests_are_refused_and_the_rate_is_used(
    stated: bool,
) -> None:
    """Eight senders share one controller against a 5 req/s token bucket on the same fake
    clock for 120 simulated seconds; every request takes 50 ms."""
    clock = FakeClock(1000.0)
    pace = RateController(clock=clock, sleep=clock.sleep)
    gateway = TokenBuckets(RateLimit(5), clock=clock)
    headers = {"RateLimit-Policy": "5;w=1"} if stated else {}
    statuses: Counter[int] = Counter()
    end = clock() + 120
    while clock() < end:
        pace.acquire()
        status = 200 if gateway.take("client").allowed else 429
        statuses[status] += 1
        clock.sleep(0.05 / 8)  # eight requests in flight: each waits 1/8 of the latency here
        pace.on_answer(status, headers)
    answered = statuses[200]
    assert answered >= 0.85 * 5 * 120  # the limit is used
    refused_share = statuses[429] / answered
    # stated: only what was sent before the first answer; adaptive alone probes the limit
    assert refused_share <= (0.002 if stated else 0.15), statuses


# ------------------------------------------------ a gateway that says only 429 + Retry-After

RETRY_1 = {"Retry-After": "1"}


def _cold_burst(pace: RateController, clock: FakeClock, accepted: int, refused: int) -> None:
    """A cold client's first round against a gateway whose bucket holds ``accepted``: every
    request leaves at once, the gateway refuses the rest at once (429, Retry-After: 1), and
    the accepted ones come back 50 ms later."""
    sent = clock()
    clock.sleep(0.001)
    for _ in range(refused):
        pace.on_answer(429, RETRY_1, sent=sent)
    clock.sleep(0.049)
    for _ in range(accepted):
        pace.on_answer(200, {}, sent=sent)


def test_retry_after_pauses_the_whole_client_and_the_rate_is_measured_from_the_bucket() -> None:
    pace, clock = _controller()
    _cold_burst(pace, clock, accepted=5, refused=3)  # a bucket holding 5, refilled in 1 s
    assert pace.throttles == 3
    assert pace.rate == pytest.approx(5.0)  # 5 accepted at once: at least 5 a second
    began = clock()
    first = pace.acquire()  # the pause began 49 ms ago: nothing leaves before it ends
    assert first == pytest.approx(0.951)
    waits = [pace.acquire() for _ in range(4)]
    assert clock() - began == pytest.approx(0.951 + 4 / 5.0)  # then turns 1/rate apart
    assert all(w > 0 for w in waits)


def test_requests_accepted_before_the_refusal_count_for_the_rate_whenever_they_arrive() -> None:
    pace, clock = _controller()
    sent = clock()
    for i in range(4):  # sent 0.1 s apart, each answered after 50 ms
        clock.now = sent + 0.1 * i + 0.05
        pace.on_answer(200, {}, sent=sent + 0.1 * i)
    clock.now = sent + 0.401  # the bucket was empty at the fifth: refused at once
    pace.on_answer(429, RETRY_1, sent=sent + 0.4)
    clock.now = sent + 0.4 + 0.05
    pace.on_answer(200, {}, sent=sent + 0.35)  # arrives during the pause, sent before
    assert pace.rate == pytest.approx(5 / (1 + 0.4))


def test_retry_after_zero_pauses_nothing_and_still_measures() -> None:
    pace, clock = _controller()
    for _ in range(5):
        pace.on_answer(200, {}, sent=clock())
    pace.on_answer(429, {"Retry-After": "0"}, sent=clock())  # the sandbox's faults can say 0
    assert pace.rate == pytest.approx(5.0) and pace.acquire() == 0.0


def test_a_turn_given_out_before_a_pause_began_is_taken_again_after_it() -> None:
    clock = FakeClock(1000.0)
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:  # while this thread waits, another one is refused
        clock.sleep(seconds)
        sleeps.append(seconds)
        if len(sleeps) == 2:
            pace.on_answer(429, {"Retry-After": "3"})

    pace = RateController(clock=clock, sleep=sleep, max_rate=2)
    pace.acquire()
    began = clock()
    waited = pace.acquire()  # its turn comes at +0.5 s, when a 3 s pause begins
    assert clock() - began == pytest.approx(0.5 + 3.0) and waited == pytest.approx(3.5)
    assert len(sleeps) == 3


def test_a_request_sent_just_after_the_refused_one_but_accepted_counts_for_the_rate() -> None:
    """Threads' sends reach the gateway in any order: one recorded a moment after the refused
    request may have taken the bucket's last token."""
    pace, clock = _controller()
    sent = clock()
    clock.now = sent + 0.001
    pace.on_answer(429, RETRY_1, sent=sent + 0.0001)  # refused at once
    pace.on_answer(429, RETRY_1, sent=sent + 0.0003)
    clock.now = sent + 0.05
    for offset in (0.0, 0.0, 0.0, 0.0, 0.0002):  # five accepted, the last sent after it
        pace.on_answer(200, {}, sent=sent + offset)
    assert pace.rate == pytest.approx(5.0, rel=0.001)


def test_a_refusal_among_the_first_requests_is_a_bare_throttles_cut() -> None:
    pace, clock = _controller()
    _send_at(pace, clock, 40, 0.025)  # one answer, then a refusal: too few to measure
    pace.on_answer(429, RETRY_1)
    assert pace.rate == pytest.approx(0.7 * 40, rel=0.1)


def test_refusals_by_chance_pause_the_client_without_slowing_it_further() -> None:
    pace, clock = _controller()
    _cold_burst(pace, clock, accepted=5, refused=1)
    clock.sleep(1.0)
    _send_at(pace, clock, 5, 10)  # 10 s at the rate, then one refusal: a new measure
    pace.on_answer(429, RETRY_1)
    measured = pace.rate
    clock.sleep(1.0)
    for _ in range(3):  # refused again and again at that rate, each after 5 accepted
        _send_at(pace, clock, measured, 1)
        pace.on_answer(429, RETRY_1)
        clock.sleep(1.0)
    assert pace.rate == pytest.approx(measured) and pace.throttles == 5


def test_refusals_in_a_row_are_the_rate_and_cut_it() -> None:
    pace, clock = _controller()
    _cold_burst(pace, clock, accepted=5, refused=1)
    clock.sleep(1.0)
    _send_at(pace, clock, 5, 10)
    pace.on_answer(429, RETRY_1)
    measured = pace.rate
    assert measured is not None
    clock.sleep(1.0)
    pace.acquire()
    pace.on_answer(429, RETRY_1)  # refused at once: no chance about it
    assert pace.rate is not None and pace.rate < measured


def test_answers_of_the_token_endpoint_do_not_count_as_accepted_by_the_api() -> None:
    pace, clock = _controller()
    for _ in range(20):
        pace.acquire()
        pace.on_answer(200, {}, api=False)
    _cold_burst(pace, clock, accepted=5, refused=3)
    assert pace.rate == pytest.approx(5.0)


def test_the_measured_rate_is_kept_for_the_plateau_then_probed_linearly() -> None:
    pace, clock = _controller()
    _cold_burst(pace, clock, accepted=5, refused=3)
    rate = pace.rate
    assert rate is not None
    clock.sleep(1.0)
    _send_at(pace, clock, rate, RateController.PROBE_AFTER - 2)
    assert pace.rate == pytest.approx(rate)  # the plateau: thirty pauses long
    _send_at(pace, clock, rate, 7)
    grown = pace.rate
    assert grown is not None and rate * 1.3 < grown < rate * 1.6  # about 10 % a second


def test_after_an_idle_spell_a_refusal_is_judged_by_the_new_spells_pace() -> None:
    pace, clock = _controller()
    _send_at(pace, clock, 1, 3)
    clock.sleep(600)  # a notebook left alone, then a scan at 40/s refused at once
    _send_at(pace, clock, 40, 0.025)
    pace.on_answer(429, RETRY_1)
    # 0.7 of the scan's pace, not of the average since the client began (0.04/s)
    assert pace.rate == pytest.approx(0.7 * 40, rel=0.1)


@pytest.mark.parametrize("rate", [5, 20])
def test_the_target_scan_behind_a_gateway_that_states_nothing(rate: int) -> None:
    """The benchmark's target scan (2 setup calls, 152 slot calls, 8 threads, 50 ms) behind a
    token bucket that answers only 429 + Retry-After: the issue's targets, on a fake clock."""
    run = simulate(rate, calls=152)
    assert run.answered == 154
    assert run.refused <= 0.05 * run.answered, run
    assert run.wall <= 1.15 * run.ideal(rate), (run.wall, run.ideal(rate))


@pytest.mark.parametrize(("rate", "burst"), [(2, None), (3, None), (10, None), (50, None)])
def test_other_gateways_that_state_nothing_are_met_too(rate: int, burst: int | None) -> None:
    run = simulate(rate, calls=152, burst=burst)
    assert run.refused <= 0.08 * run.answered, run  # at 2/s the cold round alone refuses 8
    assert run.wall <= 1.15 * run.ideal(rate), (run.wall, run.ideal(rate))


def test_a_long_scan_behind_a_silent_gateway_probes_rarely_and_uses_the_rate() -> None:
    run = simulate(5, calls=3000)
    assert run.refused <= 0.02 * run.answered, run
    assert run.wall <= 1.05 * run.ideal(5), (run.wall, run.ideal(5))


def test_random_refusals_do_not_drive_the_pace_to_the_floor() -> None:
    """A server without a limit that answers 5 % of requests 429 + Retry-After: 1: the client
    pauses as asked, but the pace does not spiral down with every refusal."""
    run = simulate(calls=152, server=random_refusals(0.05))
    assert run.pace is not None and run.pace.rate is not None and run.pace.rate >= 2.0, run.pace
    assert run.wall <= 60.0  # 152 calls, a pause of 1 s per refusal (spiralling: 99 s)


def test_retry_after_is_read_in_seconds_and_dates() -> None:
    assert retry_after({"Retry-After": "2"}) == 2.0
    assert retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0  # past
    assert retry_after({"Retry-After": "soon"}) is None and retry_after({}) is None


# --------------------------------------------------------------------------- in the client


def test_one_controller_per_client_shared_by_every_thread_and_organization() -> None:
    with Sandbox(now="2026-12-07T08:00:00+01:00", rate_limit={"rate": 40, "burst": 2}) as sb:
        with bt_explore.connect(sandbox=sb, retry=default_retry(backoff_factor=0)) as client:
            orgs = [sb.organization_id, *(b["id"] for b in client.branches())]
            frame = bt_explore.scan_slots(
                client, end=timedelta(days=3), organization_id=orgs, progress=False
            )
            assert client.pace.rate is not None and client.pace.rate <= 40.0  # the policy
            assert frame.attrs["missing"] == []
        throttled = [r for r in sb.api_requests if r.throttled]
        # the six setup calls of three organizations go out together: at most those past the
        # burst are refused, before the first answer states the policy
        assert client.pace.throttles == len(throttled) <= 4
        assert len(sb.api_requests) - len(throttled) == frame.attrs["calls"] + 6 + 1  # branches


def test_a_429_is_reported_once_and_slows_the_client_down() -> None:
    with Sandbox(now="2026-12-07T08:00:00+01:00") as sb:
        sb.set_faults(script=[429, 429], retry_after=0)
        with bt_explore.connect(sandbox=sb, retry=default_retry(backoff_factor=0)) as client:
            assert client.pace.rate is None
            templates = client.templates()
            assert templates and client.pace.throttles == 2  # both refused attempts, once each
            assert client.pace.rate is not None
            threads = [threading.Thread(target=client.organization) for _ in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        statuses = Counter(r.status for r in sb.api_requests)
        assert statuses == {429: 2, 200: 5}


def test_a_client_can_be_given_a_rate_cap() -> None:
    with Sandbox(now="2026-12-07T08:00:00+01:00") as sb:
        pace = RateController(max_rate=1000)
        with bt_explore.connect(sandbox=sb, pace=pace) as client:
            client.organization()
            assert client.pace is pace and pace.rate == 1000.0


def test_the_progress_bar_shows_the_pace_when_the_client_is_throttled(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with Sandbox(now="2026-12-07T08:00:00+01:00", rate_limit="50/s") as sb:
        with bt_explore.connect(sandbox=sb) as client:
            bt_explore.scan_slots(client, end=timedelta(days=3), progress=True)
    err = capsys.readouterr().err
    assert "paced at 50.0 req/s" in err
    with Sandbox(now="2026-12-07T08:00:00+01:00") as sb:
        with bt_explore.connect(sandbox=sb) as client:
            bt_explore.scan_slots(client, end=timedelta(days=3), progress=True)
    assert "paced" not in capsys.readouterr().err  # nothing limits it: nothing to show


def test_slots_and_the_explorer_go_through_the_clients_pace() -> None:
    from bt_explore.widgets import ExplorerController

    with Sandbox(now="2026-12-01T09:00:00+01:00", rate_limit={"rate": 30, "burst": 3}) as sb:
        with bt_explore.connect(sandbox=sb, retry=default_retry(backoff_factor=0)) as client:
            template = client.templates()[0]["id"]
            assert client.pace.rate == 30.0  # stated by the first answer
            client.slots(template, "2026-12-01", "2026-12-20")
            ctl = ExplorerController(client, clock=sb.now)
            ctl.start()
            assert ctl.slots
            ctl.browse(ctl.day + timedelta(days=7), "week")
        # a bucket of three requests at 30/s: only a paced client gets through unrefused
        assert [r for r in sb.api_requests if r.throttled] == []
        assert len(sb.api_requests) > 5
