"""Where articles are processed: in this process, in N local worker processes, or on a dask
cluster (:mod:`kg.daskengine`).

An engine turns a list of ``Article``s into ``Outcome``s **in input order**: the article's quads,
or why it failed. Whatever the engine, the parent process writes the store, one article graph
at a time, so store writes stay atomic per article and the quads are exactly those of an
in-process build.

Between processes only plain data travels: the ``Article`` (a frozen dataclass of strings)
goes out, and ``(software tag, N-Quads text)`` comes back (:func:`process_article`); no spaCy
object ever crosses a process boundary. Each worker process loads the spaCy pipeline once
(the pool's initializer, or the dask worker plugin) and reuses it for every article.

Failures:

* an article whose extraction raises is reported (``Outcome.error``) and the others go on;
  it is not retried, because the same code on the same text fails the same way;
* a worker process that dies (killed, out of memory, a crash in native code) breaks the
  local pool: the pool is restarted and the articles that were in flight are run again one
  at a time, so the article that kills its worker is found and reported after ``retries``
  further deaths, and the innocent ones are written. On dask the scheduler reschedules the
  tasks of a dead worker by itself (its ``allowed-failures``).
"""
from __future__ import annotations

import multiprocessing
import signal
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Protocol

import pyoxigraph as ox

from kg.model import Article

ENGINES = ("local", "dask")
#: further runs of an article whose worker process died under it, before it is reported
DEFAULT_RETRIES = 3

#: what a worker computes for one article: (software tag, the article's quads as N-Quads)
Task = Callable[[Article], "tuple[str, str]"]


@dataclass(frozen=True)
class Outcome:
    """One article's result: its quads (ready for ``KGStore.replace_graph``), or an error."""

    article: Article
    quads: list | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class Engine(Protocol):
    def run(self, articles: Iterable[Article]) -> Iterator[Outcome]:
        """Process the articles; yield one Outcome per article, in input order."""


class EngineError(Exception):
    """An engine that cannot start (bad option, missing optional dependency, no scheduler)."""


# ---- the work, as run in a worker ---------------------------------------------------------------
def warm() -> None:
    """Load what processing needs (spaCy pipeline, gazetteer) into this process, once."""
    from kg.gazetteer import load_gazetteer
    from kg.nlp import load_pipeline

    load_pipeline()
    load_gazetteer()


def software_tag() -> str:
    from kg.pipeline import version_tag

    return version_tag()


def process_article(article: Article) -> tuple[str, str]:
    """NLP, extraction and quads for one article, returned as plain data: the software tag the
    quads were made with (the parent checks it is its own) and the quads as N-Quads text."""
    from kg.pipeline import process

    result = next(iter(process([article])))
    return software_tag(), to_nquads(result.quads)


def to_nquads(quads: list) -> str:
    return ox.serialize(quads, format=ox.RdfFormat.N_QUADS).decode("utf-8") if quads else ""


def from_nquads(text: str) -> list[ox.Quad]:
    return list(ox.parse(text.encode("utf-8"), format=ox.RdfFormat.N_QUADS)) if text else []


def decode(article: Article, reply: tuple[str, str], tag: str) -> Outcome:
    """A worker's reply as an Outcome; a worker running other software is an error, not quads."""
    worker_tag, text = reply
    if worker_tag != tag:
        return Outcome(article, error=f"the worker runs other software ({worker_tag}) than this "
                                      f"build ({tag}): install the same kzru-kg on every worker")
    return Outcome(article, quads=from_nquads(text))


def describe(exc: BaseException) -> str:
    msg = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {msg}" if msg else type(exc).__name__


# ---- engines --------------------------------------------------------------------------------------
def _init_worker() -> None:
    # Ctrl-C goes to the whole process group: the parent stops the pool, workers do not
    # die mid-article on their own
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    warm()


def _ready() -> bool:
    return True


def _answered(fut: Future) -> bool:
    return fut.done() and not fut.cancelled() and fut.exception() is None


class ProcessEngine:
    """``--workers N``: N worker processes on this machine, each loading the pipeline once.

    Workers are started with ``spawn`` (a fresh interpreter: no inherited store handles or
    threads). At most ``2 * workers`` articles are in flight, so a worker never waits for the
    parent, and results are yielded in input order."""

    def __init__(self, workers: int, retries: int = DEFAULT_RETRIES, task: Task = process_article,
                 start_method: str = "spawn"):
        if workers < 1:
            raise EngineError(f"--workers must be at least 1, not {workers}")
        self.workers = workers
        self.retries = max(0, retries)
        self.task = task
        self.context = multiprocessing.get_context(start_method)
        self.restarts = 0  # pools restarted after a worker died (for reports and tests)

    def _start(self) -> tuple[ProcessPoolExecutor, Future]:
        """A new pool, and a first trivial task that answers once a worker has started."""
        pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=self.context,
                                   initializer=_init_worker)
        return pool, pool.submit(_ready)

    def run(self, articles: Iterable[Article]) -> Iterator[Outcome]:
        """Read ``articles`` only as workers become free, and at most ``2 * window`` ahead of
        the first whose outcome is not yet yielded (a slow article holds back the others'
        results, not without end), so what is held does not grow with the stream."""
        source = iter(articles)
        held: dict[int, Article] = {}  # read from the source, outcome not yet yielded
        taken = 0
        exhausted = False

        def pull() -> int | None:
            nonlocal taken, exhausted
            article = None if exhausted else next(source, None)
            if article is None:
                exhausted = True
                return None
            held[taken] = article
            taken += 1
            return taken - 1

        first = pull()
        if first is None:
            return
        tag = software_tag()
        window = 2 * self.workers
        ahead = 2 * window
        queue = deque([first])  # read, not yet submitted
        suspects: deque[int] = deque()  # in flight when a worker died: rerun one at a time
        deaths: dict[int, int] = {}  # worker deaths while an article ran alone
        done: dict[int, Outcome] = {}
        inflight: dict[Future, int] = {}
        solo = False
        pool, ping = self._start()
        nxt = 0
        try:
            while nxt < taken or not exhausted:
                if suspects:
                    if not inflight:
                        i = suspects.popleft()
                        inflight[pool.submit(self.task, held[i])] = i
                        solo = True
                else:
                    solo = False
                    while len(inflight) < window and (queue or taken - nxt < ahead):
                        i = queue.popleft() if queue else pull()
                        if i is None:
                            break
                        inflight[pool.submit(self.task, held[i])] = i
                finished = wait(list(inflight), return_when=FIRST_COMPLETED)[0] if inflight else set()
                broken = []
                for fut in finished:
                    i = inflight.pop(fut)
                    try:
                        done[i] = decode(held[i], fut.result(), tag)
                    except BrokenProcessPool:
                        broken.append(i)
                    except Exception as exc:
                        done[i] = Outcome(held[i], error=f"extraction failed ({describe(exc)})")
                if broken:
                    # the pool is unusable: every article still in flight is lost with it
                    broken += inflight.values()
                    inflight.clear()
                    pool.shutdown(wait=True, cancel_futures=True)
                    if not _answered(ping):  # no worker ever started: no article can be run
                        rest = [*broken, *suspects, *queue]
                        while (i := pull()) is not None:
                            rest.append(i)
                        for i in rest:
                            done[i] = Outcome(held[i], error=(
                                "the worker processes could not start (their error is printed "
                                "above; a script using --workers needs an `if __name__ == "
                                "\"__main__\":` guard)"))
                        broken, suspects, queue = [], deque(), deque()
                    else:
                        self.restarts += 1
                        pool, ping = self._start()
                    if solo and len(broken) == 1:
                        i = broken[0]
                        deaths[i] = deaths.get(i, 0) + 1
                        if deaths[i] > self.retries:
                            done[i] = Outcome(held[i], error=(
                                f"its worker process died {deaths[i]} times processing it "
                                "(killed, out of memory, or a crash in native code)"))
                        else:
                            suspects.appendleft(i)
                    else:
                        suspects.extend(sorted(broken))
                while nxt in done:
                    del held[nxt]
                    yield done.pop(nxt)
                    nxt += 1
        finally:
            _stop(pool)


def _stop(pool: ProcessPoolExecutor) -> None:
    """Shut the pool down; on an early exit (error, Ctrl-C, a consumer that stopped reading)
    cancel what is queued and end the workers instead of waiting for them."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        if p.is_alive():
            p.terminate()
    for p in procs:
        p.join(timeout=10)


def make_engine(engine: str = "local", *, workers: int = 1, scheduler: str | None = None,
                retries: int = DEFAULT_RETRIES) -> Engine:
    """The engine ``kg build`` options name: ``workers`` local processes, or dask on the
    scheduler at ``scheduler`` (``tcp://host:8786``). (``kg build --workers 1`` runs in its
    own process and uses no engine.)"""
    if engine not in ENGINES:
        raise EngineError(f"unknown engine {engine!r} (choose from {', '.join(ENGINES)})")
    if engine == "dask":
        if workers != 1:
            raise EngineError("--workers is for the local engine: with --engine dask, the dask "
                              "workers (`dask worker --nworkers N`) are the processes")
        if not scheduler:
            raise EngineError("--engine dask needs --scheduler ADDRESS (e.g. tcp://10.0.0.5:8786)")
        try:
            from kg.daskengine import DaskEngine
        except ImportError as exc:
            raise EngineError(f"--engine dask needs dask.distributed ({exc}): "
                              "pip install 'kzru-kg[scale]'") from exc

        return DaskEngine(scheduler, retries=retries)
    if scheduler:
        raise EngineError("--scheduler is for --engine dask")
    if workers < 1:
        raise EngineError(f"--workers must be at least 1, not {workers}")
    return ProcessEngine(workers, retries=retries)
