"""Worker processes forked from this one: the one helper every parallel step uses.

Why one helper
    Loading articles, listing folders and rendering feeds each forked in their own way
    (two process pools and a bare ``fork`` writing into a memory file), and each answered
    the same questions again: what the workers inherit, what Ctrl-C does, how a worker
    leaves when the build is killed, what is left behind when the caller stops early.
    ``forked_map`` answers them once, and its tests check the answers.

Why fork
    A forked worker starts with everything the build has done so far: modules imported,
    settings read, articles loaded. ``function`` and ``items`` are inherited, not pickled
    (a closure is fine); only chunk numbers go in, through a pipe filled before the
    workers start, and results come back pickled, through one pipe per worker. A
    hand-written pool of a few pipes starts in the time ``fork`` takes, with no thread in
    this process, so even small jobs can be spread over the cores; a general process pool
    starts slower and keeps a management thread.

What the children do
    Each worker ignores SIGINT (Ctrl-C reaches the whole process group: the parent
    handles it and kills the workers), freezes the collector's view of what it inherited
    (those objects are never garbage there, and scanning them would copy every page they
    are on), then takes chunks of work in order from the shared pipe, so the workers stay
    balanced and results arrive roughly in order. A writer thread sends each chunk's
    results while the worker computes the next, so the workers go on while the parent is
    busy elsewhere; it also watches the parent and leaves as soon as the parent is gone.
    A worker always ends with ``os._exit``: it never runs the parent's ``atexit``
    handlers nor flushes output the parent had buffered (so a ``print`` in ``function``
    is lost unless flushed there, which would also write a copy of the parent's pending
    output: report through the results instead).

A ``ForkedMap`` is used by the thread that made it; it is not thread-safe.
"""

from __future__ import annotations

import _thread
import gc
import os
import pickle
import queue
import select
import signal
import struct
import traceback
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from types import TracebackType
from typing import Generic, NoReturn, TypeVar

T = TypeVar("T")
R = TypeVar("R")

CHUNKS_PER_PROCESS = 8  # enough chunks to balance the workers and stream results, few enough to cost little
MAX_CHUNKS = 1024  # the task pipe is filled in one write of 4-byte records: at most PIPE_BUF
                   # (4096) bytes, which is atomic and fits in the smallest pipe a system grants
WATCH_INTERVAL = 0.2  # seconds: how soon a worker notices that its parent is gone

_TASK = struct.Struct("=I")  # a chunk's number
_HEADER = struct.Struct("=IQ")  # a chunk's number, then the length of its pickled results
_READ_SIZE = 1 << 16  # a pipe's usual size; larger messages are read straight into place
_PICKLE = pickle.HIGHEST_PROTOCOL
_CAN_FORK = hasattr(os, "fork")

# What a worker sends when a chunk did not complete: the exception pickled (None if it
# cannot be), "TypeName: message", and the worker's traceback as text.
_Failure = tuple[bytes | None, str, str]
_Mask = set[int | signal.Signals]  # a signal mask, as pthread_sigmask gives it


def available_cpus() -> int:
    """The cores this process may run on (its affinity mask, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def allowed_processes(jobs: int) -> int:
    """How many processes a build may use: ``jobs`` (``--jobs``), or all its cores for 0."""
    return jobs if jobs > 0 else available_cpus()


def processes_for(jobs: int, tasks: int, *, per_process: int = 1) -> int:
    """How many processes to use for ``tasks`` units of work, giving each at least
    ``per_process`` of them: a worker with too little to do costs more than it saves."""
    return max(1, min(allowed_processes(jobs), tasks // max(1, per_process)))


class PoolBroken(Exception):
    """The workers could not do the work: one died (killed, out of memory), they could not
    be started, or what one made cannot travel between processes. Doing the remaining
    items in this process may well succeed."""


def forked_map(function: Callable[[T], R], items: Sequence[T], processes: int, *,
               chunk_size: int | None = None) -> ForkedMap[R]:
    """``function(item)`` for every item, in input order, computed by ``processes``
    workers forked now, before this returns: the caller may do other work, then iterate.
    One process, fewer than two items, or no ``fork``: a lazy map in this process.

    ``chunk_size``: items per task (default: about ``len(items) / (processes * 8)``).
    Iterate to the end, or use ``with`` (or ``close``) to stop early: the workers are
    killed and reaped either way. An exception raised by ``function`` in a worker is
    raised here when its item's turn comes; a worker that dies raises ``PoolBroken``
    after the results that had arrived in order."""
    return ForkedMap(function, items, processes, chunk_size=chunk_size)


class _Worker:
    """A worker, and what came through its pipe that is not yet a whole message."""

    __slots__ = ("pid", "received", "body", "filled", "chunk")

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.received = bytearray()  # headers, and whole small messages
        self.body: bytearray | None = None  # a large message's results, read straight into place
        self.filled = 0  # how much of ``body`` has come
        self.chunk = 0  # whose results ``body`` holds

    def partial(self) -> bool:
        return bool(self.received) or self.body is not None


class ForkedMap(Generic[R]):
    """The iterator ``forked_map`` returns (see there). ``forked`` tells whether workers
    were started; ``processes`` how many."""

    def __init__(self, function: Callable[[T], R], items: Sequence[T], processes: int, *,
                 chunk_size: int | None = None) -> None:
        self._owner = os.getpid()
        self._workers: dict[int, _Worker] = {}  # by the fd of its pipe
        self._poll = select.poll() if _CAN_FORK else None
        self._arrived: dict[int, bytearray] = {}  # chunk -> pickled results, not yet taken
        self._ready: deque[R] = deque()  # results of the chunk being handed out
        self._raise_after_ready: BaseException | None = None
        self._broken: str | None = None
        self._chunks: list[tuple[int, int]] = []
        self._next_chunk = 0  # the next chunk to hand out
        self._serial: Iterator[R] | None = None
        chunks = _chunks(len(items), processes, chunk_size)
        self.processes = min(processes, len(chunks))
        self.forked = _CAN_FORK and self.processes >= 2 and len(items) >= 2
        if not self.forked:
            self.processes = 1
            self._serial = iter(map(function, items))
            return
        self._chunks = chunks
        try:
            self._start(function, items)
        except OSError as exc:
            self._stop_workers()
            raise PoolBroken(f"cannot start worker processes: {exc}") from None
        except BaseException:  # Ctrl-C while forking: leave no worker behind
            self._stop_workers()
            raise

    # -- the caller's side ------------------------------------------------------------

    def __iter__(self) -> ForkedMap[R]:
        return self

    def __next__(self) -> R:
        if self._serial is not None:
            return next(self._serial)
        while not self._ready:
            if self._raise_after_ready is not None:
                error, self._raise_after_ready = self._raise_after_ready, None
                self.close()
                raise error
            if self._next_chunk >= len(self._chunks):
                self.close()
                raise StopIteration
            try:
                self._take(self._next_chunk)
            except BaseException:  # the pool broke, or Ctrl-C while waiting: no worker left behind
                self.close()
                raise
            self._next_chunk += 1
        return self._ready.popleft()

    def close(self) -> None:
        """Stop: kill and reap the workers that are still running; results not yet
        handed out are dropped. Calling it again does nothing."""
        if self._serial is not None:
            self._serial = iter(())
            return
        self._next_chunk = len(self._chunks)
        self._ready.clear()
        self._arrived.clear()
        self._raise_after_ready = None
        self._stop_workers()

    def __enter__(self) -> ForkedMap[R]:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, value: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def __del__(self) -> None:
        if self._workers:
            self._stop_workers()

    # -- the pool ---------------------------------------------------------------------

    def _start(self, function: Callable[[T], R], items: Sequence[T]) -> None:
        """Fill the task pipe, then fork the workers, SIGINT held meanwhile: a child must
        not take a Ctrl-C before it ignores it (the parent gets it once this is done)."""
        assert self._poll is not None
        count = len(self._chunks)
        tasks, filling = os.pipe()
        try:
            os.set_blocking(filling, False)  # never wait here for a reader that is not there yet
            records = b"".join(map(_TASK.pack, range(count)))
            if os.write(filling, records) != len(records):  # atomic: at most PIPE_BUF bytes
                raise OSError("the task pipe took less than it was given")
        finally:
            os.close(filling)  # the workers see the end of the tasks once they are all taken
        held = _hold_sigint()
        try:
            for _ in range(self.processes):
                results, sending = os.pipe()
                try:
                    pid = os.fork()
                except BaseException:
                    os.close(results)
                    os.close(sending)
                    raise
                if pid == 0:
                    _serve(function, items, self._chunks, tasks, sending,
                           [*self._workers, results], self._owner, held)
                os.close(sending)
                self._workers[results] = _Worker(pid)
                self._poll.register(results, select.POLLIN)
        finally:
            os.close(tasks)
            _release_sigint(held)

    def _take(self, chunk: int) -> None:
        """Wait for ``chunk``'s results and make them the ones handed out next."""
        assert self._poll is not None
        while chunk not in self._arrived:
            if self._broken is not None:
                raise PoolBroken(self._broken)
            if not self._workers:
                raise PoolBroken(f"the workers ended without the results of items "
                                 f"{self._chunks[chunk][0]} to {self._chunks[chunk][1] - 1}")
            for fd, _ in self._poll.poll():
                if fd in self._workers:  # not already closed while handling this batch
                    self._receive(fd)
        payload = self._arrived.pop(chunk)
        try:
            results, failure = pickle.loads(payload)
        except Exception as exc:
            raise PoolBroken(f"the results of a worker could not be unpickled: {exc!r}") from None
        self._ready.extend(results)
        if failure is not None:
            self._raise_after_ready = _rebuilt(failure)

    def _receive(self, fd: int) -> None:
        worker = self._workers[fd]
        if worker.body is not None:
            count = os.readv(fd, [memoryview(worker.body)[worker.filled:]])
            worker.filled += count
            if worker.filled == len(worker.body):
                self._arrived[worker.chunk], worker.body = worker.body, None
        else:
            data = os.read(fd, _READ_SIZE)
            count = len(data)
            self._collect(worker, data)
        if count:
            if len(self._arrived) + self._next_chunk == len(self._chunks):
                self._stop_workers()  # every result is here: the workers have nothing left to do
            return
        # The end of its pipe: the worker has left.
        assert self._poll is not None
        self._poll.unregister(fd)
        os.close(fd)
        del self._workers[fd]
        exit_code = _reap(worker.pid)
        if exit_code not in (0, None) or worker.partial():
            self._broken = _describe_end(worker.pid, exit_code)

    def _collect(self, worker: _Worker, data: bytes) -> None:
        """Take the whole messages in what came; the start of a large one becomes its
        ``body``, for the rest to be read into it without more copies."""
        received = worker.received
        received += data
        start = 0
        while len(received) - start >= _HEADER.size:
            chunk, length = _HEADER.unpack_from(received, start)
            begin = start + _HEADER.size
            end = begin + length
            if len(received) < end:
                if length > _READ_SIZE:
                    worker.body = bytearray(length)
                    worker.body[:len(received) - begin] = memoryview(received)[begin:]
                    worker.filled, worker.chunk = len(received) - begin, chunk
                    start = len(received)
                break
            self._arrived[chunk] = received[begin:end]
            start = end
        del received[:start]

    def _stop_workers(self) -> None:
        """Kill every worker still running, then reap them all and close their pipes."""
        workers, self._workers = self._workers, {}
        if not workers:
            return
        if os.getpid() != self._owner:  # a copy inherited by some other forked process
            return
        held = _hold_sigint()
        try:
            for worker in workers.values():
                try:
                    os.kill(worker.pid, signal.SIGKILL)  # not reaped yet: the pid is still its
                except ProcessLookupError:
                    pass
            for fd, worker in workers.items():
                if self._poll is not None:
                    self._poll.unregister(fd)
                os.close(fd)
                _reap(worker.pid)
        finally:
            _release_sigint(held)


def _chunks(total: int, processes: int, chunk_size: int | None) -> list[tuple[int, int]]:
    if chunk_size is None or chunk_size < 1:
        chunk_size = -(-total // max(1, processes * CHUNKS_PER_PROCESS))
    size = max(1, chunk_size, -(-total // MAX_CHUNKS))
    return [(start, min(start + size, total)) for start in range(0, total, size)]


def _reap(pid: int) -> int | None:
    """The worker's exit code (negative: the signal that ended it); None if some other
    part of the program reaped it first."""
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return None
    return os.waitstatus_to_exitcode(status)


def _describe_end(pid: int, exit_code: int | None) -> str:
    if exit_code is not None and exit_code < 0:
        try:
            name = signal.Signals(-exit_code).name
        except ValueError:
            name = f"signal {-exit_code}"
        return f"a worker process (pid {pid}) was killed by {name}"
    if exit_code:
        return f"a worker process (pid {pid}) exited with status {exit_code}"
    return f"a worker process (pid {pid}) ended in the middle of sending its results"


def _rebuilt(failure: _Failure) -> BaseException:
    """What a worker's failure becomes here: its own exception, if it survived the trip."""
    pickled, summary, remote_traceback = failure
    if pickled is not None:
        try:
            error = pickle.loads(pickled)
        except Exception:
            pass
        else:
            if isinstance(error, BaseException):
                error.add_note(f"Raised in a worker process:\n{remote_traceback}")
                return error
    return PoolBroken(f"{summary} (in a worker process; it cannot be sent here)\n{remote_traceback}")


def _hold_sigint() -> _Mask | None:
    if not hasattr(signal, "pthread_sigmask"):
        return None
    return signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


def _release_sigint(held: _Mask | None) -> None:
    if held is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


# -- the worker's side (in the forked child only) ---------------------------------------

def _serve(function: Callable[[T], object], items: Sequence[T], chunks: list[tuple[int, int]],
           tasks: int, sending: int, others: list[int], parent: int,
           mask: _Mask | None) -> NoReturn:
    """A worker's whole life: take chunks until none is left, then leave with ``os._exit``
    (also on any failure: the parent's code after ``fork`` must never run here)."""
    exit_code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _release_sigint(mask)
        try:
            signal.set_wakeup_fd(-1)  # an event loop's wakeup pipe is the parent's, not ours
        except ValueError:
            pass
        gc.freeze()
        gc.enable()  # the worker's own garbage must not pile up, whatever the caller chose
        for fd in others:  # the other workers' pipes, so each sees the end of its own
            os.close(fd)
        outbox: queue.SimpleQueue[tuple[bytes, bytes] | None] = queue.SimpleQueue()
        sent = _thread.allocate_lock()
        sent.acquire()
        _thread.start_new_thread(_send_results, (outbox, sending, parent, sent))
        while True:
            record = os.read(tasks, _TASK.size)  # the pipe is full or at its end: never waits
            if len(record) < _TASK.size:
                break
            (chunk,) = _TASK.unpack(record)
            payload, failed = _run_chunk(function, items, *chunks[chunk])
            outbox.put((_HEADER.pack(chunk, len(payload)), payload))
            if failed:  # the parent stops at that item: the chunks after it are not needed
                break
        outbox.put(None)
        sent.acquire()
        exit_code = 0
    finally:
        os._exit(exit_code)


def _run_chunk(function: Callable[[T], object], items: Sequence[T], start: int, stop: int
               ) -> tuple[bytes, bool]:
    """The chunk's results, pickled, with the failure that stopped it, if any."""
    results: list[object] = []
    failure: _Failure | None = None
    try:
        for index in range(start, stop):
            results.append(function(items[index]))
    except BaseException as exc:
        failure = _failure(exc)
    try:
        return pickle.dumps((results, failure), _PICKLE), failure is not None
    except BaseException as exc:  # a result that cannot be pickled: the parent must redo them
        return pickle.dumps(([], _failure(exc, sendable=False)), _PICKLE), True


def _failure(exc: BaseException, *, sendable: bool = True) -> _Failure:
    text = "".join(traceback.format_exception(exc))
    pickled = None
    if sendable:
        try:
            pickled = pickle.dumps(exc, _PICKLE)
        except Exception:
            pass
    return pickled, f"{type(exc).__name__}: {exc}", text


def _send_results(outbox: queue.SimpleQueue[tuple[bytes, bytes] | None], sending: int,
                  parent: int, sent: _thread.LockType) -> None:
    """The writer thread: send what the worker made, while watching the parent (leave
    with it, rather than wait for work or for a reader that will never come)."""
    try:
        os.set_blocking(sending, False)
        writable = select.poll()
        writable.register(sending, select.POLLOUT)
        while True:
            try:
                message = outbox.get(timeout=WATCH_INTERVAL)
            except queue.Empty:
                _leave_if_orphaned(parent)
                continue
            if message is None:
                break
            for part in message:
                view = memoryview(part)
                while view:
                    try:
                        view = view[os.write(sending, view):]
                    except BlockingIOError:
                        writable.poll(WATCH_INTERVAL * 1000)
                        _leave_if_orphaned(parent)
        sent.release()
    except BaseException:
        os._exit(1)


def _leave_if_orphaned(parent: int) -> None:
    if os.getppid() != parent:
        os._exit(1)
