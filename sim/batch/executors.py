"""Executors: where the runs of a batch are computed. All give the same results, bit for bit.

* :class:`SerialExecutor` -- in this process (``--workers 1``); no start-up cost.
* :class:`LocalExecutor` -- a pool of local processes (the default; all cores), started with
  ``forkserver`` (never ``fork``, which is unsafe in a threaded parent).
* :class:`DaskExecutor` -- a Dask distributed cluster (``--scheduler tcp://host:8786``), or a
  ``LocalCluster`` started here (``--scheduler local``). Its workers must be able to import
  ``sim`` and read the scenario and case files at the same paths.

Each executor yields :class:`~sim.batch.worker.RunOutput` objects as runs finish, keeping only
a bounded number of runs in flight, so a batch of any size needs bounded memory.

Each also maps any picklable callable over items **in order** (:meth:`map_ordered`, used by
``negsim calibrate``): results come back in the items' order whatever order they finish in,
with a bounded number in flight; closing the iterator early cancels the items not started.
An exception raised by the callable is raised by the iterator.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import re
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol, TypeVar

from sim.batch.plan import RunSpec
from sim.batch.worker import RunOutput, execute, watch_parent
from sim.errors import InfrastructureError, ScenarioError

T = TypeVar("T")
R = TypeVar("R")


class Executor(Protocol):
    workers: int

    def map_unordered(self, specs: Iterable[RunSpec]) -> Iterator[RunOutput]: ...

    def map_ordered(self, fn: Callable[[T], R], items: Iterable[T],
                    in_flight: int | None = None) -> Generator[R]: ...

    def close(self) -> None: ...


_END = object()


def _ordered(submit: Callable[[Any], Any], items: Iterable[Any], limit: int) -> Generator[Any]:
    """Submit items (``submit(item)`` -> a future with ``result()`` and ``cancel()``) keeping at
    most ``limit`` in flight; yield their results in the items' order. Closing the generator
    cancels the futures still pending."""
    it = iter(items)
    window: deque[Any] = deque()
    try:
        for item in it:
            window.append(submit(item))
            if len(window) >= limit:
                break
        while window:
            res = window.popleft().result()
            item = next(it, _END)
            if item is not _END:
                window.append(submit(item))
            yield res
    finally:
        for fut in window:
            fut.cancel()


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # pragma: no cover - not Linux
        return max(os.cpu_count() or 1, 1)


class SerialExecutor:
    """Runs in this process, one after another."""

    workers = 1

    def map_unordered(self, specs: Iterable[RunSpec]) -> Iterator[RunOutput]:
        for spec in specs:
            yield execute(spec)

    def map_ordered(self, fn: Callable[[T], R], items: Iterable[T],
                    in_flight: int | None = None) -> Generator[R]:
        for item in items:
            yield fn(item)

    def close(self) -> None:
        pass


#: Status of a run the infrastructure lost (its worker process died): not the run's own
#: failure, so it is not stored and runs again when the batch resumes.
INTERRUPTED = "interrupted"


def _pool_failure(spec: RunSpec, exc: BaseException) -> RunOutput:
    return RunOutput(spec, INTERRUPTED, f"{type(exc).__name__}: {exc} (worker process failed)", {},
                     None, 0.0)


#: Seconds to reach a Dask scheduler before giving up (``--scheduler`` unreachable).
CONNECT_TIMEOUT_S = 10.0
#: Seconds a batch waits between checks that its Dask scheduler is still there.
HEARTBEAT_S = 2.0
_ADDRESS = re.compile(r"^(?:(?:tcp|tls|ws|wss|ucx|inproc)://)?[\w.\-\[\]:]+:\d{1,5}/?$")


def check_scheduler_address(address: str) -> None:
    """``local`` or ``[tcp://]host:port``; anything else is a user error (before any work)."""
    if address == "local":
        return
    if not _ADDRESS.match(address) or not 0 < int(address.rstrip("/").rsplit(":", 1)[1]) < 65536:
        raise ScenarioError(f"not a Dask scheduler address: {address!r}", field="--scheduler",
                            fix="give tcp://HOST:PORT (e.g. tcp://127.0.0.1:8786), or 'local' for a "
                                "cluster on this machine")


class LocalExecutor:
    """A pool of local worker processes."""

    def __init__(self, workers: int | None = None, in_flight_per_worker: int = 4,
                 preload: Sequence[str] = ()) -> None:
        self.workers = workers or default_workers()
        self.in_flight = max(self.workers * in_flight_per_worker, 1)
        ctx: mp.context.BaseContext
        if "forkserver" in mp.get_all_start_methods():
            ctx = mp.get_context("forkserver")
            # Workers fork from a server that has already imported the model (and ``preload``,
            # if this process has not started the server yet): fast start-up.
            ctx.set_forkserver_preload(["sim.batch.worker", *preload])
        else:  # pragma: no cover - not POSIX
            ctx = mp.get_context("spawn")
        self._ctx = ctx
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=self._ctx,
                                   initializer=watch_parent, initargs=(os.getpid(),))

    def _submit(self, spec: RunSpec) -> Future[RunOutput]:
        try:
            return self._pool.submit(execute, spec)
        except BrokenProcessPool:  # a worker died (e.g. out of memory): start a fresh pool
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()
            return self._pool.submit(execute, spec)

    def map_unordered(self, specs: Iterable[RunSpec]) -> Iterator[RunOutput]:
        it = iter(specs)
        pending: dict[Future[RunOutput], RunSpec] = {}

        def fill() -> None:
            while len(pending) < self.in_flight:
                spec = next(it, None)
                if spec is None:
                    return
                pending[self._submit(spec)] = spec

        fill()
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                spec = pending.pop(fut)
                exc = fut.exception()
                yield fut.result() if exc is None else _pool_failure(spec, exc)
            fill()

    def map_ordered(self, fn: Callable[[T], R], items: Iterable[T],
                    in_flight: int | None = None) -> Generator[R]:
        """``fn`` (picklable: a module-level function) over ``items`` in this pool, in order."""
        return _ordered(lambda item: self._pool.submit(fn, item), items, in_flight or self.in_flight)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor:
    """Runs on a Dask distributed cluster (``address``), or a LocalCluster if ``address='local'``."""

    def __init__(self, address: str, workers: int | None = None, in_flight_per_worker: int = 4,
                 connect_timeout_s: float | None = None, heartbeat_s: float | None = None) -> None:
        from distributed import Client, LocalCluster

        check_scheduler_address(address)
        connect_timeout_s = CONNECT_TIMEOUT_S if connect_timeout_s is None else connect_timeout_s
        self.address = address
        self.heartbeat_s = HEARTBEAT_S if heartbeat_s is None else heartbeat_s
        self._cluster = None
        if address == "local":
            self._cluster = LocalCluster(n_workers=workers or 2, threads_per_worker=1, processes=True,
                                         host="127.0.0.1", dashboard_address=None)
            self._client = Client(self._cluster)
        else:
            try:
                self._client = Client(address, timeout=connect_timeout_s)
            except (OSError, TimeoutError) as exc:
                raise InfrastructureError(
                    f"cannot reach the Dask scheduler at {address} within {connect_timeout_s:g} s "
                    f"({type(exc).__name__})", field="--scheduler",
                    fix="start it (`dask scheduler`, then `dask worker ADDRESS`) or check the address; "
                        "nothing was run") from None
        n = sum(w.get("nthreads", 1) for w in self._client.scheduler_info()["workers"].values())
        self.workers = max(n, 1)
        self.in_flight = self.workers * in_flight_per_worker

    def _lost(self) -> InfrastructureError:
        return InfrastructureError(
            f"lost the connection to the Dask scheduler at {self.address} (status "
            f"{self._client.status}); the runs finished so far are stored", field="--scheduler",
            fix="restart the scheduler and its workers, then rerun the same command: the batch "
                "resumes with the runs not yet stored")

    def map_unordered(self, specs: Iterable[RunSpec]) -> Iterator[RunOutput]:
        """Runs as they finish. A lost scheduler (cancelled futures, or no connection for a
        heartbeat) raises :class:`InfrastructureError` instead of waiting forever."""
        from distributed import wait

        it = iter(specs)
        pending: dict[object, RunSpec] = {}

        def submit_one() -> bool:
            spec = next(it, None)
            if spec is None:
                return False
            if self._client.status != "running":
                raise self._lost()
            fut = self._client.submit(execute, spec, key=f"negsim-run-{spec.run_id}-{spec.seed}", pure=False)
            pending[fut] = spec
            return True

        for _ in range(self.in_flight):
            if not submit_one():
                break
        while pending:
            try:
                done, _ = wait(list(pending), timeout=self.heartbeat_s, return_when="FIRST_COMPLETED")
            except TimeoutError:
                if self._client.status != "running":
                    raise self._lost() from None
                continue
            for fut in done:
                spec = pending.pop(fut)
                if fut.cancelled() or self._client.status != "running":
                    raise self._lost()
                try:
                    out = fut.result()
                except Exception as exc:  # a worker died (KilledWorker) or the task could not run
                    out = _pool_failure(spec, exc)
                finally:
                    fut.release()
                yield out
                submit_one()

    def map_ordered(self, fn: Callable[[T], R], items: Iterable[T],
                    in_flight: int | None = None) -> Generator[R]:
        """``fn`` (picklable) over ``items`` on the cluster, in order."""
        return _ordered(lambda item: self._client.submit(fn, item, pure=False), items,
                        in_flight or self.in_flight)

    def close(self) -> None:
        with contextlib.suppress(Exception):  # a lost scheduler: nothing left to close cleanly
            self._client.close(timeout=self.heartbeat_s * 2)
        if self._cluster is not None:
            self._cluster.close()


def make_executor(workers: int | None = None, scheduler: str | None = None,
                  preload: Sequence[str] = ()) -> Executor:
    """The executor the CLI options ask for (``preload``: modules local workers import first)."""
    if scheduler is not None:
        return DaskExecutor(scheduler, workers)
    n = workers or default_workers()
    return SerialExecutor() if n == 1 else LocalExecutor(n, preload=preload)
