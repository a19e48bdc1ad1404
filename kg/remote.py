"""A remote triple store: ``--store http://HOST:PORT/store`` instead of a directory.

``RemoteStore`` is a :class:`~kg.store.KGStore` whose backend is a SPARQL endpoint instead of an
embedded Oxigraph. ``KGStore``'s code is written against a small part of ``pyoxigraph.Store``
(:class:`Backend`); :class:`SparqlHttp` is that part over HTTP, so the build, the derived
graphs, validation, queries and exports run unchanged on either. Only writes differ:

* each article's named graph (and each derived graph) is written with the SPARQL 1.1 Graph
  Store HTTP Protocol: ``PUT /store?graph=IRI`` with the graph as N-Triples replaces it, so a
  re-run is idempotent; ``kg remove`` is ``DELETE /store?graph=IRI``;
* queries go to the query endpoint (SPARQL 1.1 Protocol, ``POST`` of
  ``application/sparql-query``), results read back as SPARQL JSON or N-Triples;
* whole-store reads for exports are ``GET /store`` (N-Quads), one graph ``GET /store?graph=IRI``.

The endpoint is expected to be Oxigraph's server (``oxigraph serve --location DIR``): the union
of all graphs as the default graph is asked for with its ``union-default-graph`` parameter.
Any SPARQL 1.1 server with the Graph Store Protocol works for writing; for queries over the
union its default graph must be the union (e.g. Fuseki's ``unionDefaultGraph``).

Failure: every request has a timeout; connection errors, timeouts of idempotent requests and
HTTP 429/5xx are retried with exponential backoff (``retries`` times), then
:class:`RemoteError` (a ``StoreError``) is raised. A graph PUT never leaves a graph half-written:
Oxigraph clears the graph, then loads the body in one transaction, so a failed PUT leaves the
old graph or, at worst, an empty one, which the next build sees as missing and writes again.

Only the standard library talks HTTP here (urllib), with no proxy: the endpoint is reached
directly.
"""
from __future__ import annotations

import http.client
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Callable, Iterable, Iterator, Protocol

import pyoxigraph as ox

from kg.store import KGStore, StoreError

DEFAULT_TIMEOUT = 60.0  # seconds per request
DEFAULT_RETRIES = 3  # further attempts after a failed request
DEFAULT_BACKOFF = 0.5  # seconds before the first retry; doubled each time (at most 30)
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})

RESULTS_TYPES = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "text/csv": ox.QueryResultsFormat.CSV,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}
RDF_TYPES = {
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-quads": ox.RdfFormat.N_QUADS,
    "application/trig": ox.RdfFormat.TRIG,
}
ACCEPT_QUERY = "application/sparql-results+json, application/n-triples;q=0.9, text/turtle;q=0.5"


class RemoteError(StoreError):
    """The endpoint could not be reached or refused a request; the message names the URL."""


class RemoteRequestError(RemoteError):
    """The endpoint answered 4xx: the request is wrong (e.g. a query's syntax); not retried."""

    def __init__(self, message: str, status: int, detail: str):
        super().__init__(message)
        self.status = status
        self.detail = detail


class RemoteTimeout(RemoteError):
    """No answer within the timeout."""


def is_url(location: object) -> bool:
    return isinstance(location, str) and location.lower().startswith(("http://", "https://"))


@dataclass(frozen=True)
class Endpoints:
    """The three URLs of a SPARQL 1.1 service: query, update and graph store."""

    query: str
    update: str
    store: str

    @classmethod
    def from_url(cls, url: str) -> "Endpoints":
        """From the graph store URL (``http://h:7878/store``; Fuseki's ``.../ds/data``), one of
        its sibling endpoints (``.../query``, ``.../update``, ``.../sparql``), or the service's
        base URL (``http://h:7878``): the others are its siblings."""
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise StoreError(f"{url}: not an http(s) URL of a SPARQL endpoint")
        if parts.query or parts.fragment:
            raise StoreError(f"{url}: give the endpoint URL without ?query or #fragment")
        path = parts.path.rstrip("/")
        head, _, last = path.rpartition("/")
        if last in ("store", "data"):
            base, store = head, last
        elif last in ("query", "update", "sparql"):
            base, store = head, "store"
        else:
            base, store = path, "store"

        def at(segment: str) -> str:
            return urllib.parse.urlunsplit((parts.scheme, parts.netloc, f"{base}/{segment}", "", ""))

        return cls(query=at("query"), update=at("update"), store=at(store))


class Backend(Protocol):
    """What ``KGStore`` calls on its backend: a subset of ``pyoxigraph.Store``."""

    def query(self, query: str, *, use_default_graph_as_union: bool = False,
              prefixes: dict[str, str] | None = None, substitutions: dict | None = None): ...
    def update(self, update: str) -> None: ...
    def contains_named_graph(self, graph: ox.NamedNode) -> bool: ...
    def named_graphs(self) -> Iterator[ox.NamedNode]: ...
    def quads_for_pattern(self, subject, predicate, object, graph_name=None) -> Iterator[ox.Quad]: ...
    def dump(self, output: IO[bytes], format: ox.RdfFormat, *, from_graph=None, prefixes=None) -> None: ...
    def __iter__(self) -> Iterator[ox.Quad]: ...
    def __len__(self) -> int: ...
    def flush(self) -> None: ...


def _is_timeout(exc: BaseException) -> bool:
    return isinstance(exc, (socket.timeout, TimeoutError)) or \
        isinstance(getattr(exc, "reason", None), (socket.timeout, TimeoutError))


class SparqlHttp:
    """:class:`Backend` over the SPARQL 1.1 Protocol and Graph Store HTTP Protocol."""

    def __init__(self, endpoints: Endpoints, *, timeout: float = DEFAULT_TIMEOUT,
                 retries: int = DEFAULT_RETRIES, backoff: float = DEFAULT_BACKOFF,
                 read_only: bool = False, union_param: bool = True,
                 sleep: Callable[[float], None] = time.sleep):
        self.endpoints = endpoints
        self.timeout = timeout
        self.retries = max(0, retries)
        self.backoff = backoff
        self.read_only = read_only
        self.union_param = union_param
        self.sleep = sleep
        self.requests = 0  # requests sent, retries included
        self.retried = 0  # requests sent again after a failure
        # no proxy: the endpoint is reached directly, whatever http_proxy says
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    # ---- HTTP -------------------------------------------------------------------------------
    def send(self, method: str, url: str, body: bytes | None = None, headers: dict | None = None,
             *, timeout: float | None = None, retry_timeouts: bool = True) -> tuple[str, bytes]:
        """One request with retries; returns (content type, body). Raises RemoteError, whose
        message names the endpoint (without the request's parameters)."""
        where = url.split("?", 1)[0]
        attempts = self.retries + 1
        problem = ""
        for attempt in range(attempts):
            if attempt:
                self.sleep(min(self.backoff * 2 ** (attempt - 1), 30.0))
                self.retried += 1
            self.requests += 1
            req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
            try:
                with self._opener.open(req, timeout=timeout or self.timeout) as resp:
                    return resp.headers.get_content_type(), resp.read()
            except urllib.error.HTTPError as exc:
                detail = " ".join(exc.read()[:2000].decode("utf-8", "replace").split())
                problem = f"HTTP {exc.code} {exc.reason}" + (f": {detail}" if detail else "")
                if exc.code not in RETRY_STATUS:
                    raise RemoteRequestError(f"{where}: {problem}", exc.code, detail) from None
            except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                problem = " ".join(str(reason).split()) or type(reason).__name__
                if _is_timeout(exc):
                    problem = f"no answer within {timeout or self.timeout:g} s"
                    if not retry_timeouts:
                        raise RemoteTimeout(f"{where}: {problem}") from None
        raise RemoteError(f"{where}: {problem}" + (f" (after {attempts} attempts)" if attempts > 1 else ""))

    def _writable(self) -> None:
        if self.read_only:
            raise StoreError(f"{self.endpoints.store}: opened read-only")

    def _graph_url(self, graph: ox.NamedNode) -> str:
        return f"{self.endpoints.store}?{urllib.parse.urlencode({'graph': graph.value})}"

    # ---- graph store protocol ---------------------------------------------------------------
    def put_graph(self, graph: ox.NamedNode, triples: Iterable[ox.Triple]) -> None:
        """Replace a named graph with these triples (GSP PUT: idempotent, so safely retried)."""
        self._writable()
        body = ox.serialize(list(triples), format=ox.RdfFormat.N_TRIPLES) or b""
        self.send("PUT", self._graph_url(graph), body,
                  {"Content-Type": "application/n-triples"})

    def delete_graph(self, graph: ox.NamedNode) -> bool:
        """Drop a named graph; False if the endpoint has no such graph."""
        self._writable()
        try:
            self.send("DELETE", self._graph_url(graph))
        except RemoteRequestError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def get_graph(self, graph: ox.NamedNode | None = None) -> list[ox.Quad]:
        """One named graph's quads, or (None) every quad of the store."""
        if graph is None:
            ctype, data = self.send("GET", self.endpoints.store, headers={"Accept": "application/n-quads"})
        else:
            try:
                ctype, data = self.send("GET", self._graph_url(graph),
                                        headers={"Accept": "application/n-triples"})
            except RemoteRequestError as exc:
                if exc.status == 404:
                    return []
                raise
        fmt = RDF_TYPES.get(ctype)
        if fmt is None:
            raise RemoteError(f"{self.endpoints.store}: unexpected content type {ctype!r}")
        if graph is None:
            return list(ox.parse(data, format=fmt))
        return [ox.Quad(t.subject, t.predicate, t.object, graph)
                for t in ox.parse(data, format=fmt, without_named_graphs=True)]

    # ---- the pyoxigraph.Store subset ---------------------------------------------------------
    def query(self, query: str, *, use_default_graph_as_union: bool = False,
              prefixes: dict[str, str] | None = None, substitutions: dict | None = None,
              timeout: float | None = None):
        """Run a query on the endpoint; returns pyoxigraph results (solutions, boolean or triples).

        ``prefixes`` become PREFIX lines; ``substitutions`` (variable -> term) a trailing VALUES
        clause, as rdflib's SPARQLStore sends bindings. A timeout is not retried."""
        text = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in (prefixes or {}).items()) + query
        if substitutions:
            names = list(substitutions)
            text += ("\nVALUES (" + " ".join(f"?{v.value}" for v in names) + ") { ("
                     + " ".join(str(substitutions[v]) for v in names) + ") }")
        url = self.endpoints.query
        if use_default_graph_as_union and self.union_param:
            url += "?union-default-graph"
        ctype, data = self.send("POST", url, text.encode("utf-8"),
                                {"Content-Type": "application/sparql-query; charset=utf-8",
                                 "Accept": ACCEPT_QUERY}, timeout=timeout, retry_timeouts=False)
        if ctype in RESULTS_TYPES:
            return ox.parse_query_results(data, format=RESULTS_TYPES[ctype])
        if ctype in RDF_TYPES:
            # CONSTRUCT / DESCRIBE: give back real QueryTriples (what pyoxigraph returns locally)
            local = ox.Store()
            local.bulk_extend(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph())
                              for t in ox.parse(data, format=RDF_TYPES[ctype], without_named_graphs=True))
            return local.query("CONSTRUCT WHERE { ?s ?p ?o }")
        raise RemoteError(f"{self.endpoints.query}: unexpected content type {ctype!r}")

    def update(self, update: str) -> None:
        self._writable()
        self.send("POST", self.endpoints.update, update.encode("utf-8"),
                  {"Content-Type": "application/sparql-update; charset=utf-8"})

    def contains_named_graph(self, graph: ox.NamedNode) -> bool:
        return bool(self.query(f"ASK {{ GRAPH {graph} {{ ?s ?p ?o }} }}"))

    def named_graphs(self) -> Iterator[ox.NamedNode]:
        for row in self.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"):
            yield row["g"]

    def quads_for_pattern(self, subject=None, predicate=None, object=None, graph_name=None
                          ) -> Iterator[ox.Quad]:
        terms = {"s": subject, "p": predicate, "o": object}
        pattern = " ".join(str(t) if t is not None else f"?{k}" for k, t in terms.items())
        if graph_name is None:
            body, g = f"GRAPH ?g {{ {pattern} }}", None
        elif isinstance(graph_name, ox.DefaultGraph):
            body, g = pattern, graph_name
        else:
            body, g = f"GRAPH {graph_name} {{ {pattern} }}", graph_name
        for row in self.query(f"SELECT * WHERE {{ {body} }}"):
            yield ox.Quad(*(terms[k] if terms[k] is not None else row[k] for k in "spo"),
                          g if g is not None else row["g"])

    def dump(self, output: IO[bytes], format: ox.RdfFormat, *, from_graph=None, prefixes=None) -> None:
        quads = self.get_graph(from_graph)
        if from_graph is not None or not format.supports_datasets:
            ox.serialize([q.triple for q in quads], output, format, prefixes=prefixes)
        else:
            ox.serialize(quads, output, format, prefixes=prefixes)

    def __iter__(self) -> Iterator[ox.Quad]:
        return iter(self.get_graph(None))

    def __len__(self) -> int:
        rows = self.query("SELECT (COUNT(*) AS ?n) WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }")
        return int(next(iter(rows))["n"].value)

    def flush(self) -> None:
        """Nothing to do: the endpoint has committed each request before answering."""

    def ping(self) -> None:
        """Raise RemoteError unless the endpoint answers a query."""
        self.query("ASK {}")


class RemoteStore(KGStore):
    """The store behind a SPARQL endpoint (see the module's docstring). Opening it asks the
    endpoint one query, so an unreachable URL fails here, naming it. ``create`` is accepted
    for the ``KGStore`` signature: an endpoint's store always exists, empty or not."""

    def __init__(self, url: str, *, read_only: bool = False, create: bool = True,
                 timeout: float = DEFAULT_TIMEOUT, retries: int = DEFAULT_RETRIES,
                 backoff: float = DEFAULT_BACKOFF, endpoints: Endpoints | None = None):
        self.url = url
        self.path = url  # what messages name, as a directory for the embedded store
        self.read_only = read_only
        self.endpoints = endpoints or Endpoints.from_url(url)
        self.ox = SparqlHttp(self.endpoints, timeout=timeout, retries=retries, backoff=backoff,
                             read_only=read_only)
        self.ox.ping()  # fail early, with the URL, when nothing answers there

    #: one article graph a request: a failed request fails one article
    write_batch_quads = 0
    #: the derived graphs are recomputed store-wide (per-entity lookups would be a request each)
    incremental = False

    def replace_graph(self, graph: ox.NamedNode, quads: Iterable[ox.Quad]) -> None:
        """Replace one named graph with the given quads (one Graph Store Protocol PUT)."""
        self.ox.put_graph(graph, (q.triple for q in quads))

    def write_graphs(self, graphs) -> None:
        """Replace each graph with one PUT."""
        for graph, quads in graphs:
            self.replace_graph(graph, quads)

    def _write_derived(self, quads) -> None:
        """Replace each derived graph with one PUT."""
        from kg.rdf import DERIVED_GRAPHS

        graphs: dict = {g: [] for g in DERIVED_GRAPHS}
        for q in quads:
            graphs[q.graph_name].append(q)
        self.write_graphs(graphs.items())

    def remove_article(self, article_id: str) -> bool:
        from kg.rdf import article_iri

        return self.ox.delete_graph(article_iri(article_id))

    def dataset(self):
        """An in-memory rdflib ``Dataset`` holding a copy of the remote store."""
        from rdflib import Dataset

        from kg.vocab import PREFIXES

        ds = Dataset(default_union=True)
        data = ox.serialize(self.ox.get_graph(None), format=ox.RdfFormat.N_QUADS) or b""
        ds.parse(data=data.decode("utf-8"), format="nquads")
        for prefix, ns in PREFIXES.items():
            ds.bind(prefix, ns)
        return ds

    def close(self) -> None:
        self.ox = None


def connect(location: str | Path, *, read_only: bool = False, create: bool = True,
            **remote_options) -> KGStore:
    """The store at a location: a SPARQL endpoint URL (:class:`RemoteStore`, with
    ``remote_options`` such as ``retries``) or a directory (the embedded :class:`KGStore`)."""
    if is_url(str(location)):
        return RemoteStore(str(location), read_only=read_only, create=create, **remote_options)
    return KGStore(location, read_only=read_only, create=create)
