"""``kg build --engine dask --scheduler tcp://HOST:8786``: articles processed on a dask cluster.

Each article is one task (:func:`kg.engines.process_article`): the ``Article`` goes out, the
software tag and the article's N-Quads come back, and this process writes the store in input
order, as the local engines do. A worker plugin loads the spaCy pipeline once per worker
process when the worker joins; later tasks on that worker reuse it (``load_pipeline`` is cached
per process), so no task pays for the model.

Why dask.distributed for this workload: a task here is a plain Python function over a few KB
of text that needs a ~50 MB in-process model, warm, in each worker. dask runs plain functions
with no serialization schema or JVM bridge (Spark would run them in Python workers behind a
JVM, with the model loaded per partition), its worker plugins give one model load per worker
process, its futures give results back in submission order one at a time (so the parent can
write as they come), and its scheduler reschedules the tasks of a worker that dies. Ray would
also fit (actors holding the model), but needs its own runtime on every node and offers
nothing this task-per-article shape lacks in dask; dask is also pip-installable with no
services beyond ``dask scheduler`` and ``dask worker``.

The cluster's workers need the same kzru-kg (and model) installed as this process: each reply
carries the worker's software tag, and an article from a worker running other software is
reported as failed, never written.
"""
from __future__ import annotations

from collections import deque
from itertools import islice
from typing import Iterable, Iterator

from distributed import Client, WorkerPlugin
from distributed.scheduler import KilledWorker

from kg.engines import DEFAULT_RETRIES, EngineError, Outcome, Task, decode, describe, process_article, software_tag
from kg.model import Article

PLUGIN_NAME = "kzru-kg-pipeline"
#: seconds to wait for the scheduler to answer when connecting
CONNECT_TIMEOUT = 30
#: articles submitted ahead of the one whose result is awaited (the cluster's queue; the rest
#: of the stream is read only as results come back)
AHEAD = 512


class PipelineLoader(WorkerPlugin):
    """Loads the spaCy pipeline and gazetteer into each worker process once, when it starts
    (and again in a worker the nanny restarts after a crash)."""

    def setup(self, worker) -> None:
        from kg.engines import warm

        warm()


class DaskEngine:
    def __init__(self, scheduler: "str | Client", retries: int = DEFAULT_RETRIES,
                 task: Task = process_article):
        self.scheduler = scheduler
        self.retries = max(0, retries)
        self.task = task

    def _client(self) -> tuple[Client, bool]:
        if isinstance(self.scheduler, Client):
            return self.scheduler, False
        try:
            return Client(self.scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False), True
        except (OSError, TimeoutError, ValueError) as exc:
            raise EngineError(f"cannot reach the dask scheduler at {self.scheduler}: {describe(exc)}") from exc

    def run(self, articles: Iterable[Article]) -> Iterator[Outcome]:
        source = iter(articles)
        first = list(islice(source, AHEAD))
        if not first:
            return
        tag = software_tag()
        client, own = self._client()
        pending: deque = deque()  # (article, future), in input order
        try:
            client.register_plugin(PipelineLoader(), name=PLUGIN_NAME)
            # pure=False: every build gets its own task keys. A task that raises is not retried
            # (the same code fails the same way on the same text); a task whose worker died is
            # rescheduled by the scheduler up to its `allowed-failures` times, then raises
            # KilledWorker here: submitted again up to `retries` times, then reported.
            pending.extend(zip(first, client.map(self.task, first, pure=False, retries=0)))
            del first
            while pending:
                article, fut = pending.popleft()
                following = next(source, None)
                if following is not None:
                    pending.append((following, client.submit(self.task, following, pure=False)))
                yield self._outcome(client, article, fut, tag)
                fut.release()
        finally:
            if pending:
                client.cancel([f for _, f in pending if not f.done()])
            if own:
                client.close()

    def _outcome(self, client: Client, article: Article, fut, tag: str) -> Outcome:
        """The article's reply; when its worker died more often than the scheduler allows
        (KilledWorker), it is submitted again up to ``retries`` times."""
        for attempt in range(self.retries + 1):
            try:
                return decode(article, fut.result(), tag)
            except KilledWorker as exc:
                if attempt == self.retries:
                    return Outcome(article, error=f"its dask workers died processing it: {describe(exc)}")
                fut.release()
                fut = client.submit(self.task, article, pure=False)
            except Exception as exc:
                return Outcome(article, error=f"extraction failed on the cluster ({describe(exc)})")
        raise AssertionError("unreachable")
