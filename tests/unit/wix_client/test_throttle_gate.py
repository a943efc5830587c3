"""The client's shared throttle gate: threads and a fake clock (no wall-clock assertions)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from wix_relay.config import WixSettings
from wix_relay.integrations.wix._http import Http, RetryPolicy, ThrottleGate


class FakeClock:
    """A clock that stands still (every thread asks at the same instant) and records sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.lock = threading.Lock()
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.sleeps.append(round(seconds, 6))


def test_after_a_429_every_thread_waits_for_the_gate_to_open() -> None:
    clock = FakeClock()
    gate = ThrottleGate(clock=clock, sleep=clock.sleep)
    gate.close_for(5.0)
    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(lambda _: gate.wait(deadline=1_000.0), range(4))) == [True] * 4
    assert clock.sleeps == [5.0] * 4  # nobody went through before the gate opened
    clock.now += 5.0
    assert gate.wait(deadline=1_000.0) and len(clock.sleeps) == 4  # open now: no more waiting


def test_a_429_while_waiting_keeps_the_others_waiting_longer() -> None:
    clock = FakeClock()
    gate = ThrottleGate(clock=clock, sleep=clock.sleep)
    gate.close_for(2.0)
    reclosed = False

    def sleep(seconds: float) -> None:
        nonlocal reclosed
        clock.sleep(seconds)
        if not reclosed:  # another thread's 429 while this one sleeps
            reclosed = True
            gate.close_for(6.0)

    gate._sleep = sleep
    assert gate.wait(deadline=1_000.0)
    assert clock.sleeps == [2.0, 4.0]


def test_a_gate_opening_after_the_deadline_refuses_at_once() -> None:
    clock = FakeClock()
    gate = ThrottleGate(clock=clock, sleep=clock.sleep)
    gate.close_for(30.0)
    assert gate.wait(deadline=clock() + 20.0) is False
    assert clock.sleeps == []
    gate.close_for(10.0)  # an earlier opening never shortens a later one
    assert gate.wait(deadline=clock() + 40.0) is True and clock.sleeps == [30.0]


def test_pacing_spaces_calls_across_threads() -> None:
    clock = FakeClock()
    gate = ThrottleGate(120, clock=clock, sleep=clock.sleep)  # one call every 0.5 s
    starts: list[bool] = []

    def call(_: int) -> None:
        starts.append(gate.wait(deadline=1_000.0))

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(call, range(6)))
    assert starts == [True] * 6
    # six slots 0.5 s apart, whichever thread took which: the first goes at once
    assert sorted(clock.sleeps) == [0.5, 1.0, 1.5, 2.0, 2.5]
    assert gate.wait(deadline=clock() + 2.0) is False  # the next slot (103.0) is too late


def test_pacing_is_off_by_default() -> None:
    clock = FakeClock()
    gate = ThrottleGate(clock=clock, sleep=clock.sleep)
    assert all(gate.wait(deadline=1_000.0) for _ in range(50)) and clock.sleeps == []


class Answers:
    """A session answering 429 (Retry-After: 3) once, then 200; records calls per thread."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.lock = threading.Lock()

    def request(self, method: str, url: str, **_: Any) -> requests.Response:
        response = requests.Response()
        with self.lock:
            self.calls.append(threading.current_thread().name)
            first = len(self.calls) == 1
        response.status_code = 429 if first else 200
        if first:
            response.headers["Retry-After"] = "3"
        response._content = b"{}"
        return response


def test_a_429_on_one_thread_closes_the_gate_for_the_client() -> None:
    slept: list[float] = []
    answers = Answers()
    http = Http(
        answers,  # type: ignore[arg-type]
        WixSettings(),
        retry=RetryPolicy(budget_s=20.0),
        sleep=slept.append,
    )
    http.request("op", "GET", "https://www.wixapis.com/x")
    assert slept == [3.0]  # the throttled thread waited out Retry-After itself
    # the gate is closed for everyone else: a call from another thread waits first
    with ThreadPoolExecutor(1) as pool:
        pool.submit(http.request, "op", "GET", "https://www.wixapis.com/y").result()
    assert len(slept) == 2 and 0 < slept[1] <= 3.0


def test_an_open_gate_never_refuses_even_with_no_budget_left() -> None:
    clock = FakeClock()
    gate = ThrottleGate(clock=clock, sleep=clock.sleep)
    assert gate.wait(deadline=clock() - 1.0) is True and clock.sleeps == []


def test_unpaced_calls_take_no_pacing_slot_but_wait_while_the_gate_is_closed() -> None:
    clock = FakeClock()
    gate = ThrottleGate(60, clock=clock, sleep=clock.sleep)  # one paced call a second
    assert gate.wait(deadline=1_000.0)  # takes the slot at 100.0; the next paced one is 101.0
    assert gate.wait(deadline=1_000.0, paced=False) and clock.sleeps == []
    assert gate.wait(deadline=1_000.0) and clock.sleeps == [1.0]
    gate.close_for(3.0)
    assert gate.wait(deadline=1_000.0, paced=False) and clock.sleeps == [1.0, 3.0]


class Ok:
    """A session answering 200 to everything; records the URLs."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def request(self, method: str, url: str, **_: Any) -> requests.Response:
        self.urls.append(url)
        response = requests.Response()
        response.status_code = 200
        response._content = b"{}"
        return response


def test_pacing_spaces_api_calls_only_not_the_upload_host() -> None:
    clock = FakeClock()
    session = Ok()
    http = Http(
        session,  # type: ignore[arg-type]
        WixSettings(calls_per_minute=60),
        retry=RetryPolicy(budget_s=20.0),
        gate=ThrottleGate(60, clock=clock, sleep=clock.sleep),
    )
    key = {"Authorization": "k"}
    http.request("generate", "POST", "https://www.wixapis.com/g", auth=lambda: key)
    http.request("upload", "PUT", "https://upload.wixmp.com/u")  # the token is in the URL
    http.request("upload", "PUT", "https://upload.wixmp.com/v")
    assert clock.sleeps == []  # upload-host calls never wait for a pacing slot
    http.request("generate", "POST", "https://www.wixapis.com/h", auth=lambda: key)
    assert clock.sleeps == [1.0] and len(session.urls) == 4
