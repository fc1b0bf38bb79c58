"""The server's job loop: a failing run is logged, counted and retried; stop runs `stop` once."""

import threading

from adapters.http.server import Jobs, PeriodicJob

WAIT_S = 10.0


def test_a_failing_run_is_counted_and_the_job_keeps_running_until_stopped() -> None:
    runs: list[int] = []
    failures: list[str] = []
    third_run, stopped = threading.Event(), threading.Event()

    def run() -> None:
        runs.append(1)
        if len(runs) == 3:
            third_run.set()
        if len(runs) <= 2:
            raise RuntimeError("store away")

    jobs = Jobs([PeriodicJob("flaky", 0.01, run, stop=stopped.set)], failed=failures.append)
    jobs.start()
    assert third_run.wait(WAIT_S)
    jobs.stop()
    assert failures == ["flaky", "flaky"]
    assert stopped.is_set()


def test_a_failing_stop_is_counted_and_the_other_jobs_still_stop() -> None:
    failures: list[str] = []
    flushed = threading.Event()

    def broken() -> None:
        raise RuntimeError("cannot flush")

    jobs = Jobs([PeriodicJob("intake", 0.01, lambda: None, stop=broken),
                 PeriodicJob("relay", 0.01, lambda: None, stop=flushed.set)],
                failed=failures.append)
    jobs.start()
    jobs.stop()
    assert failures == ["intake"]
    assert flushed.is_set()


def test_a_once_job_is_tried_again_until_a_run_returns_true_then_runs_no_more() -> None:
    runs: list[int] = []
    failures: list[str] = []
    stopped = threading.Event()

    def run() -> bool:
        runs.append(1)
        if len(runs) <= 2:
            raise RuntimeError("store away")
        return len(runs) == 4  # the third run: not done yet (another process is at it)

    jobs = Jobs([PeriodicJob("upgrade", 0.01, run, stop=stopped.set, once=True)],
                failed=failures.append)
    jobs.start()
    assert stopped.wait(WAIT_S)  # the loop ended by itself
    jobs.stop()
    assert (len(runs), failures) == (4, ["upgrade", "upgrade"])
