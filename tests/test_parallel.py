"""forked_map: results as a serial map gives them, from workers forked at the call, and
nothing left behind however the map ends."""

from __future__ import annotations

import gc
import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from mkfeeds import parallel
from mkfeeds.parallel import PoolBroken, allowed_processes, available_cpus, forked_map, processes_for

pytestmark = pytest.mark.skipif(not hasattr(os, "fork") or not os.path.isdir("/proc/self/fd"),
                                reason="workers are forked; leftovers are counted in /proc")


def has_children() -> bool:
    try:
        return os.waitpid(-1, os.WNOHANG) is not None  # (0, 0): one is running; else one was just reaped
    except ChildProcessError:
        return False


def what_a_process_holds() -> tuple[int, int, bool]:
    """Open file descriptors, threads, and whether any child is left."""
    return len(os.listdir("/proc/self/fd")), threading.active_count(), has_children()


def gone(pid: int) -> bool:
    """Ended: no such process, or a zombie nobody reaps (what PID 1 is varies)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


# -- how many processes -------------------------------------------------------------------

def test_available_cpus_counts_the_cores_this_process_may_use():
    assert available_cpus() == len(os.sched_getaffinity(0))


def test_allowed_processes_is_jobs_or_all_cores_for_zero():
    assert allowed_processes(3) == 3
    assert allowed_processes(0) == available_cpus()


def test_processes_for_gives_each_process_enough_work_and_never_less_than_one():
    assert processes_for(4, 100) == 4
    assert processes_for(4, 3) == 3
    assert processes_for(8, 100, per_process=32) == 3
    assert processes_for(4, 10, per_process=32) == 1
    assert processes_for(4, 0) == 1
    assert processes_for(0, 1000) == available_cpus()


# -- results ---------------------------------------------------------------------------

@pytest.mark.parametrize("processes", [1, 2, 3])
@pytest.mark.parametrize("count", [0, 1, 2, 7, 100, 3000])
def test_results_equal_the_serial_map(processes, count):
    offset = 17  # a closure: inherited by the workers, not pickled
    items = [f"item {i}" for i in range(count)]
    assert list(forked_map(lambda text: (text.upper(), len(text) + offset), items, processes)) \
        == [(text.upper(), len(text) + offset) for text in items]


def test_results_come_in_input_order_when_later_items_finish_first():
    def work(item: int) -> tuple[int, float]:
        if item == 0:
            time.sleep(0.3)
        return item, time.monotonic()

    results = list(forked_map(work, range(20), 2, chunk_size=1))
    assert [item for item, _ in results] == list(range(20))
    assert max(results, key=lambda result: result[1])[0] == 0  # the order really had to be restored


def test_two_processes_run_a_pool_of_forked_workers():
    mapped = forked_map(lambda _: os.getpid(), range(40), 2)
    pids = list(mapped)
    assert mapped.forked and mapped.processes == 2
    assert os.getpid() not in pids


def test_the_workers_share_the_work():
    def work(_: int) -> int:
        time.sleep(0.02)
        return os.getpid()

    assert len(set(forked_map(work, range(40), 2))) == 2


@pytest.mark.parametrize(("processes", "count"), [(1, 10), (0, 10), (4, 1), (4, 0)])
def test_one_process_or_fewer_than_two_items_run_no_pool(processes, count):
    mapped = forked_map(lambda _: os.getpid(), range(count), processes)
    assert not mapped.forked
    assert set(mapped) <= {os.getpid()}


def test_without_a_pool_the_map_is_lazy():
    called: list[int] = []
    mapped = forked_map(called.append, range(5), 1)
    assert called == []
    next(mapped)
    assert called == [0]


def test_forked_map_returns_before_the_results_are_computed():
    start = time.monotonic()
    mapped = forked_map(lambda item: time.sleep(0.3) or item, range(4), 2, chunk_size=1)
    assert time.monotonic() - start < 0.1
    assert list(mapped) == [0, 1, 2, 3]
    assert time.monotonic() - start < 1.0  # two at a time: 0.6 s, not 1.2


def test_the_workers_compute_while_the_caller_works():
    mapped = forked_map(lambda item: time.sleep(0.2) or item, range(4), 2, chunk_size=1)
    time.sleep(0.8)  # the caller's own work
    start = time.monotonic()
    assert list(mapped) == [0, 1, 2, 3]
    assert time.monotonic() - start < 0.15


def test_large_results_come_through():
    def block(item: int) -> bytes:
        return hashlib.sha256(str(item).encode()).digest() * (5 * 1024 * 1024 // 32)

    assert [hashlib.sha256(result).hexdigest() for result in forked_map(block, range(8), 2)] \
        == [hashlib.sha256(block(item)).hexdigest() for item in range(8)]


def test_results_of_every_size_come_through():
    def text(item: int) -> str:
        return chr(65 + item % 26) * (item * 7919 % 300_000)  # from empty to several pipes full

    assert list(forked_map(text, range(200), 2, chunk_size=1)) == list(map(text, range(200)))


def test_large_results_do_not_hold_the_workers_back_while_the_caller_works():
    def block(item: int) -> bytes:
        time.sleep(0.2)
        return bytes([item]) * (5 * 1024 * 1024)

    mapped = forked_map(block, range(8), 2, chunk_size=1)
    time.sleep(1.2)  # the workers need 0.8 s, and write 40 MB no pipe holds
    start = time.monotonic()
    assert [result[:1] * len(result) == result and result[0] for result in mapped] == list(range(8))
    assert time.monotonic() - start < 0.5


# -- failures ----------------------------------------------------------------------------

def test_an_exception_in_function_is_raised_after_the_results_before_it():
    def work(item: int) -> int:
        if item == 13:
            raise ValueError(f"bad item {item}")
        return item

    received: list[int] = []
    with pytest.raises(ValueError, match="bad item 13") as raised:
        for result in forked_map(work, range(40), 2, chunk_size=3):
            received.append(result)
    assert received == list(range(13))
    assert "Raised in a worker process" in "".join(raised.value.__notes__)
    assert what_a_process_holds()[2] is False


def test_an_exception_that_cannot_be_pickled_raises_pool_broken():
    class Local(Exception):  # a local class cannot be pickled
        pass

    def work(item: int) -> int:
        if item == 5:
            raise Local("not from here")
        return item

    with pytest.raises(PoolBroken, match="Local: not from here"):
        list(forked_map(work, range(10), 2))


def test_a_result_that_cannot_be_pickled_raises_pool_broken():
    with pytest.raises(PoolBroken, match="pickle"):
        list(forked_map(lambda item: (lambda: item), range(10), 2))


@pytest.mark.parametrize("death", ["SIGKILL", "SIGTERM", "_exit"])
def test_a_worker_that_dies_raises_pool_broken_after_the_results_that_came(death):
    def work(item: int) -> int:
        if item == 6:
            if death == "_exit":
                os._exit(3)
            os.kill(os.getpid(), getattr(signal, death))
            time.sleep(5)
        return item

    before = what_a_process_holds()
    received: list[int] = []
    with pytest.raises(PoolBroken, match=death.strip("_") if death != "_exit" else "status 3"):
        for result in forked_map(work, range(12), 2, chunk_size=1):
            received.append(result)
    assert received == list(range(len(received))) and len(received) <= 6
    assert what_a_process_holds() == before


def test_workers_that_cannot_be_started_raise_pool_broken_and_leave_none(monkeypatch):
    real_fork = os.fork
    forks = []

    def fork_once() -> int:
        if forks:
            raise BlockingIOError(11, "Resource temporarily unavailable")
        forks.append(1)
        return real_fork()

    before = what_a_process_holds()
    monkeypatch.setattr(os, "fork", fork_once)
    with pytest.raises(PoolBroken, match="cannot start") as raised:
        forked_map(lambda item: time.sleep(0.05) or item, range(10), 3)
    assert forks == [1]
    assert what_a_process_holds() == before  # while the error (and what it refers to) lives
    del raised


# -- nothing left behind ---------------------------------------------------------------

def test_closing_early_leaves_no_children_fds_or_threads():
    before = what_a_process_holds()
    mapped = forked_map(lambda item: time.sleep(item and 30) or item, range(10), 2, chunk_size=1)
    for result in mapped:
        break
    start = time.monotonic()
    mapped.close()
    assert time.monotonic() - start < 1  # the workers are stopped, not waited for
    assert what_a_process_holds() == before
    assert list(mapped) == []


def test_no_worker_is_left_once_the_last_result_is_handed_out():
    before = what_a_process_holds()
    mapped = forked_map(str, range(10), 2)
    assert [next(mapped) for _ in range(10)] == list(map(str, range(10)))  # as zip() would stop
    assert what_a_process_holds() == before


def test_leaving_the_with_block_early_leaves_nothing_behind():
    before = what_a_process_holds()
    with pytest.raises(KeyboardInterrupt):
        with forked_map(lambda item: time.sleep(0.05) or item, range(100), 2) as mapped:
            for result in mapped:
                if result == 3:
                    raise KeyboardInterrupt  # as Ctrl-C in the caller's loop would
    assert what_a_process_holds() == before


def test_ctrl_c_while_waiting_for_results_leaves_nothing_behind():
    before = what_a_process_holds()
    interrupt = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    mapped = forked_map(lambda item: time.sleep(30) or item, range(4), 2)  # no `with`
    interrupt.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            next(mapped)
    finally:
        interrupt.join()
    assert what_a_process_holds() == before


def test_workers_ignore_ctrl_c(tmp_path: Path):
    def work(item: int) -> int:
        (tmp_path / str(os.getpid())).touch()
        time.sleep(0.3)
        return item

    mapped = forked_map(work, range(4), 2, chunk_size=1)
    while len(list(tmp_path.iterdir())) < 2:
        time.sleep(0.01)
    for path in tmp_path.iterdir():
        os.kill(int(path.name), signal.SIGINT)
    assert list(mapped) == [0, 1, 2, 3]


def test_fifty_maps_leave_no_fds_threads_or_children():
    list(forked_map(str, range(4), 2))  # anything made once per process, made now
    before = what_a_process_holds()
    for count in range(50):
        mapped = forked_map(str, range(count % 7 + 2), 2)
        if count % 3:
            assert list(mapped) == [str(item) for item in range(count % 7 + 2)]
        else:
            next(mapped)
            mapped.close()
    assert what_a_process_holds() == before


def test_the_callers_collector_and_signals_are_left_as_they_were():
    handler = signal.getsignal(signal.SIGINT)
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    frozen = gc.get_freeze_count()
    gc.disable()
    try:
        assert list(forked_map(lambda _: gc.get_freeze_count() > 0 and gc.isenabled(), range(4), 2)) \
            == [True] * 4  # in the workers: frozen, collecting
        assert not gc.isenabled()
    finally:
        gc.enable()
    assert gc.get_freeze_count() == frozen
    assert signal.getsignal(signal.SIGINT) is handler
    assert signal.pthread_sigmask(signal.SIG_BLOCK, []) == mask


def test_workers_leave_when_their_parent_is_killed(tmp_path: Path):
    script = textwrap.dedent("""
        import os, sys, time
        from mkfeeds.parallel import forked_map

        def work(item):
            open(os.path.join(sys.argv[1], str(os.getpid())), "w").close()
            time.sleep(60)
            return item

        list(forked_map(work, range(4), 2, chunk_size=1))
    """)
    parent = subprocess.Popen([sys.executable, "-c", script, str(tmp_path)])
    try:
        deadline = time.monotonic() + 10
        while len(list(tmp_path.iterdir())) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        workers = [int(path.name) for path in tmp_path.iterdir()]
        assert len(workers) == 2 and not any(map(gone, workers))
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 3
    while not all(map(gone, workers)) and time.monotonic() < deadline:
        time.sleep(0.02)
    left = [pid for pid in workers if not gone(pid)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert left == []


def test_more_chunks_than_the_task_pipe_holds_are_merged():
    items = range(70_000 // 4)  # more 4-byte records than a pipe holds
    assert list(forked_map(str, items, 2, chunk_size=1)) == list(map(str, items))
