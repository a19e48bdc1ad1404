"""SPARQL over the store: inline, from a file, or a named query shipped in kg/queries/.

Parameters are bound as RDF terms (Oxigraph ``substitutions``), never spliced into the text:
a value with quotes or braces is one literal and cannot change the query.

Queries run in a worker process that opens the store read-only (:func:`run_isolated`); the
worker is killed when the timeout passes, so a runaway query never keeps the store busy.
This module imports only pyoxigraph at the top, so the worker starts in a few tens of ms.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

import pyoxigraph as ox

if TYPE_CHECKING:  # pragma: no cover
    from kg.store import KGStore

RESULT_FORMATS = {"csv": ox.QueryResultsFormat.CSV, "tsv": ox.QueryResultsFormat.TSV,
                  "json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML}
GRAPH_FORMATS = {"turtle": ox.RdfFormat.TURTLE, "ntriples": ox.RdfFormat.N_TRIPLES}
FORMATS = ("table", *RESULT_FORMATS, *GRAPH_FORMATS)
DEFAULT_TIMEOUT = 30.0
#: the keyword, not a variable (?service), a prefixed name (ex:service) or a prefix (service:)
_SERVICE = re.compile(r"(?<![?$:\w-])SERVICE(?![\w:-])", re.I)
_PARAM_LINE = re.compile(r"#\s*param:\s*([A-Za-z_][A-Za-z0-9_]*)\s*(\(entity\))?\s*(?:—|–|-|:)?\s*(.*)")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class QueryError(Exception):
    """A query that cannot run: the parser's message, a refused feature, a bad parameter."""


class QueryTimeout(QueryError):
    """The query ran longer than its timeout and was stopped."""


@dataclass
class Table:
    variables: list[str]
    rows: list[list[str | None]]


@dataclass(frozen=True)
class Param:
    name: str
    description: str
    entity: bool = False  # a name or alias of an entity, resolved to its canonical label


@dataclass(frozen=True)
class NamedQuery:
    name: str
    description: str
    text: str
    params: tuple[Param, ...] = ()


@dataclass
class Output:
    """What a query produced: a table (``format="table"``) or serialized bytes."""
    table: Table | None = None
    data: bytes | None = None
    kind: str = "solutions"  # solutions | boolean | graph
    notes: list[str] = field(default_factory=list)


# ---- the named-query library ---------------------------------------------------------------
def parse_header(text: str) -> tuple[str, tuple[Param, ...]]:
    """The leading '#' lines of a .rq file: description lines, then '# param: NAME — text'."""
    desc, params = [], []
    for line in text.splitlines():
        if not line.startswith("#"):
            if line.strip():
                break
            continue
        m = _PARAM_LINE.fullmatch(line.strip())
        if m:
            params.append(Param(m.group(1), m.group(3).strip(), bool(m.group(2))))
        elif not line.startswith("#!"):
            desc.append(line[1:].strip())
    return " ".join(d for d in desc if d), tuple(params)


def named_queries() -> dict[str, NamedQuery]:
    """The query library: kg/queries/*.rq."""
    out = {}
    for entry in sorted(resources.files("kg.queries").iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".rq"):
            text = entry.read_text(encoding="utf-8")
            desc, params = parse_header(text)
            out[entry.name[:-3]] = NamedQuery(entry.name[:-3], desc, text, params)
    return out


def load_query(text: str | None = None, file: str | Path | None = None,
               name: str | None = None) -> str:
    if sum(x is not None for x in (text, file, name)) != 1:
        raise QueryError("give exactly one of: a query, --file, --name")
    if file is not None:
        try:
            return Path(file).read_text(encoding="utf-8")
        except OSError as exc:
            raise QueryError(f"{file}: {exc.strerror or exc}") from exc
        except UnicodeDecodeError as exc:
            raise QueryError(f"{file}: not UTF-8 text") from exc
    if name is not None:
        return get_named(name).text
    return text


def get_named(name: str) -> NamedQuery:
    queries = named_queries()
    if name not in queries:
        raise QueryError(f"no named query {name!r} (see `kg query --list`)")
    return queries[name]


# ---- parameters --------------------------------------------------------------------------------
def parse_params(pairs: Iterable[str]) -> dict[str, str]:
    """``NAME=VALUE`` strings from the command line as a dict."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not _NAME.fullmatch(key):
            raise QueryError(f"--param {pair!r}: expected NAME=VALUE with NAME a variable name")
        out[key] = value
    return out


def check_params(sparql: str, params: dict[str, str], named: NamedQuery | None = None) -> None:
    """Each parameter must name a variable the query uses (and, for a named query, one its
    header declares): a misspelt name is an error, never a silently unfiltered result."""
    for key in params:
        if named is not None and named.params and key not in {p.name for p in named.params}:
            declared = ", ".join(p.name for p in named.params)
            raise QueryError(f"{named.name} takes the parameters {declared}, not {key!r}")
        if named is not None and not named.params:
            raise QueryError(f"{named.name} takes no parameters")
        if not re.search(rf"[?$]{re.escape(key)}\b", _strip_comments_and_strings(sparql)):
            raise QueryError(f"parameter {key!r}: the query has no variable ?{key}")


def bind(params: dict[str, str], prefixes: dict[str, str] | None = None
         ) -> dict[ox.Variable, ox.Literal | ox.NamedNode]:
    """name=value pairs as RDF terms: an IRI when written ``<...>`` or as a predeclared prefixed
    name (``kzr:city_moscow``), else a plain string literal."""
    out = {}
    for key, value in params.items():
        if not _NAME.fullmatch(key):
            raise QueryError(f"bad parameter name {key!r}")
        out[ox.Variable(key)] = _term(key, value, prefixes or {})
    return out


def _term(key: str, value: str, prefixes: dict[str, str]) -> ox.Literal | ox.NamedNode:
    iri = None
    if value.startswith("<") and value.endswith(">") and len(value) > 2:
        iri = value[1:-1]
    else:
        m = re.fullmatch(r"([A-Za-z][\w-]*):([^\s<>\"{}|\\^`]+)", value)
        if m and m.group(1) in prefixes:
            iri = prefixes[m.group(1)] + m.group(2)
    if iri is None:
        return ox.Literal(value)
    try:
        return ox.NamedNode(iri)
    except ValueError as exc:
        raise QueryError(f"parameter {key}: {iri!r} is not a valid IRI") from exc


# each article graph scanned on its own, then joined with the labels (not looked up per row)
_RESOLVE = """SELECT DISTINCT ?name ?label WHERE {
  { SELECT DISTINCT ?e ?name WHERE {
      { GRAPH kzr:entities { ?e rdfs:label ?name } } UNION { GRAPH ?g { ?e skos:altLabel ?name } } } }
  GRAPH kzr:entities { ?e rdfs:label ?label } }"""


def resolve_entity_names(ox_store: ox.Store, params: dict[str, str], entity_params: Iterable[str],
                         prefixes: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """Map an entity parameter given by any alias ('Putin') to the canonical label the
    query's columns hold ('Vladimir Putin'). The lookup is itself a bound query; matching
    ignores case. Unknown names are left as given (the query then returns no rows)."""
    out, notes = dict(params), []
    for key in entity_params:
        if key not in params or params[key].startswith("<"):
            continue
        value = params[key]
        labels = {r["label"].value for r in ox_store.query(
            _RESOLVE, prefixes=prefixes, use_default_graph_as_union=True,
            substitutions={ox.Variable("name"): ox.Literal(value)})}
        if not labels:
            lowered = value.casefold()
            labels = {r["label"].value for r in ox_store.query(
                _RESOLVE, prefixes=prefixes, use_default_graph_as_union=True)
                if r["name"].value.casefold() == lowered}
        if len(labels) == 1:
            out[key] = labels.pop()
            if out[key] != value:
                notes.append(f"{key}: {value!r} is {out[key]!r}")
        elif len(labels) > 1:
            raise QueryError(f"parameter {key}: {value!r} names several entities: "
                             + ", ".join(sorted(labels)))
        else:
            notes.append(f"{key}: no entity is called {value!r}")
    return out, notes


# ---- running --------------------------------------------------------------------------------------
def run(store: "KGStore", sparql: str, params: dict[str, str] | None = None,
        allow_service: bool = False):
    """Run a query in this process; returns a pyoxigraph result (solutions, triples or boolean).
    No timeout: use :func:`run_isolated` for that."""
    from kg.vocab import PREFIXES

    _refuse_service(sparql, allow_service)
    try:
        return store.query(sparql, bind(params or {}, PREFIXES), allow_service=allow_service)
    except SyntaxError as exc:
        raise QueryError(syntax_message(exc, sparql)) from exc
    except (OSError, RuntimeError) as exc:
        raise QueryError(_runtime_message(exc)) from exc


def run_isolated(store_path: str | Path, sparql: str, params: dict[str, str] | None = None, *,
                 format: str = "table", timeout: float | None = DEFAULT_TIMEOUT,
                 allow_service: bool = False, entity_params: Iterable[str] = (),
                 union: bool = True) -> Output:
    """Run a query in a worker process over the store opened read-only, and stop it (kill the
    worker) after ``timeout`` seconds. ``timeout`` None or 0 runs it in this process instead."""
    from kg.vocab import PREFIXES

    if format not in FORMATS:
        raise QueryError(f"unknown format {format!r} (choose from {', '.join(FORMATS)})")
    _refuse_service(sparql, allow_service)
    if _is_url(store_path):
        request = {"store": str(store_path), "query": sparql, "params": params or {}, "format": format,
                   "prefixes": PREFIXES, "entity_params": list(entity_params), "union": union}
        return _decode(_execute_remote(request, timeout, check_syntax=not allow_service))
    path = Path(store_path)
    if not (path / "CURRENT").exists():
        raise QueryError(f"{path}: no store here (run `kg build` first)")
    request = {"store": str(path), "query": sparql, "params": params or {}, "format": format,
               "prefixes": PREFIXES, "entity_params": list(entity_params), "union": union}
    if not timeout:
        return _decode(_execute(request))
    proc = subprocess.Popen([sys.executable, "-c", "from kg.query import _worker_main; _worker_main()"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        stdout, stderr = proc.communicate(json.dumps(request).encode("utf-8"), timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise QueryTimeout(f"query stopped after the {timeout:g} s timeout (raise it with --timeout)")
    except BaseException:
        proc.kill()
        proc.communicate()
        raise
    head, _, body = stdout.partition(b"\n")
    try:
        header = json.loads(head)
    except ValueError:
        last = stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit code {proc.returncode}"]
        raise QueryError(f"query worker failed: {last[0]}") from None
    return _decode((header, body))


def _decode(reply: tuple[dict, bytes]) -> Output:
    header, body = reply
    if not header.get("ok"):
        raise QueryError(header.get("error") or "query failed")
    out = Output(kind=header["kind"], notes=header.get("notes", []))
    if header.get("table"):
        t = json.loads(body)
        out.table = Table(t["variables"], t["rows"])
    else:
        out.data = body
    return out


def _worker_main() -> None:
    """Entry point of the worker process: one JSON request on stdin, header line + body out."""
    request = json.loads(sys.stdin.buffer.read())
    header, body = _execute(request)
    sys.stdout.buffer.write(json.dumps(header).encode("utf-8") + b"\n" + body)
    sys.stdout.buffer.flush()


def _is_url(location) -> bool:
    return str(location).lower().startswith(("http://", "https://"))


def _execute_remote(req: dict, timeout: float | None, check_syntax: bool = True) -> tuple[dict, bytes]:
    """Run a request on a SPARQL endpoint (``--store http://...``). The timeout is the HTTP
    client's: past it this process stops waiting (the endpoint's own timeout stops the query
    there). A syntax error is reported as for a local store: the query is first parsed by
    running it over an empty in-memory store (skipped when SERVICE is allowed)."""
    from kg.remote import DEFAULT_TIMEOUT as HTTP_TIMEOUT
    from kg.remote import Endpoints, RemoteError, RemoteRequestError, RemoteTimeout, SparqlHttp

    if check_syntax:
        try:
            ox.Store().query(req["query"], prefixes=req["prefixes"])
        except SyntaxError as exc:
            return {"ok": False, "error": syntax_message(exc, req["query"])}, b""
        except (OSError, RuntimeError, ValueError):
            pass  # not a syntax problem: let the endpoint answer
    try:
        endpoint = SparqlHttp(Endpoints.from_url(req["store"]), timeout=timeout or HTTP_TIMEOUT,
                              retries=1, read_only=True)
        return _execute(req, endpoint)
    except RemoteTimeout as exc:
        raise QueryTimeout(f"no answer from the endpoint within the {timeout or HTTP_TIMEOUT:g} s timeout "
                           "(raise it with --timeout)") from exc
    except RemoteRequestError as exc:
        return {"ok": False, "error": f"the endpoint refused the query: {exc.detail or exc}"}, b""
    except RemoteError as exc:
        return {"ok": False, "error": str(exc)}, b""


def _execute(req: dict, store=None) -> tuple[dict, bytes]:
    """Run one request on ``store`` (a pyoxigraph Store, or anything with its ``query``; by
    default the store at ``req["store"]`` opened read-only)."""
    prefixes = req["prefixes"]
    if store is None:
        try:
            store = ox.Store.read_only(req["store"])
        except OSError as exc:
            return {"ok": False, "error": f"{req['store']}: {str(exc).splitlines()[0] if str(exc) else exc}"}, b""
    try:
        params, notes = resolve_entity_names(store, req["params"], req["entity_params"], prefixes)
        if store.query("ASK { GRAPH kzr:status { ?s ?p ?o } }", prefixes=prefixes):  # see KGStore.derived_flagged
            from kg.store import KGStore

            notes.append(KGStore.STALE_NOTE)
        result = store.query(req["query"], prefixes=prefixes, use_default_graph_as_union=req["union"],
                             substitutions=bind(params, prefixes))
        header = {"ok": True, "notes": notes}
        fmt = req["format"]
        if isinstance(result, ox.QueryTriples):
            header.update(kind="graph", table=False)
            if fmt in RESULT_FORMATS:
                raise QueryError(f"a CONSTRUCT or DESCRIBE query returns RDF: use --format "
                                 f"{' or '.join(GRAPH_FORMATS)} (or the default, Turtle), not {fmt}")
            rdf = GRAPH_FORMATS.get(fmt, ox.RdfFormat.TURTLE)
            body = ox.serialize(result, format=rdf, prefixes=prefixes if rdf is ox.RdfFormat.TURTLE else None) or b""
            return header, body
        kind = "boolean" if isinstance(result, ox.QueryBoolean) else "solutions"
        header["kind"] = kind
        if fmt in GRAPH_FORMATS:
            raise QueryError(f"--format {fmt} is for CONSTRUCT/DESCRIBE; a {'ASK' if kind == 'boolean' else 'SELECT'}"
                             f" query gives table, {', '.join(RESULT_FORMATS)}")
        if fmt == "table":
            header["table"] = True
            table = as_table(result, prefixes)
            return header, json.dumps({"variables": table.variables, "rows": table.rows}).encode("utf-8")
        header["table"] = False
        return header, result.serialize(format=RESULT_FORMATS[fmt]) or b""
    except SyntaxError as exc:
        return {"ok": False, "error": syntax_message(exc, req["query"])}, b""
    except QueryError as exc:
        return {"ok": False, "error": str(exc)}, b""
    except (OSError, RuntimeError, ValueError) as exc:
        return {"ok": False, "error": _runtime_message(exc)}, b""


def _refuse_service(sparql: str, allow_service: bool) -> None:
    if not allow_service and _SERVICE.search(_strip_comments_and_strings(sparql)):
        raise QueryError("SERVICE (outbound requests) is disabled; pass --allow-service to enable")


def syntax_message(exc: SyntaxError, sparql: str) -> str:
    """The parser's message on one line, with its position and the text found there."""
    msg = " ".join(str(exc).split())
    m = re.match(r"error at (\d+):(\d+):\s*(.*)", msg)
    if not m:
        return f"syntax error: {msg}"
    line, col, rest = int(m.group(1)), int(m.group(2)), m.group(3)
    lines = sparql.splitlines() or [""]
    src = lines[line - 1] if 0 < line <= len(lines) else ""
    near = src[max(col - 1, 0):][:30].strip()
    where = f"line {line}, column {col}" + (f", near {near!r}" if near else ", at the end of the line")
    return f"syntax error at {where}: {rest}"


def _runtime_message(exc: Exception) -> str:
    msg = " ".join(str(exc).split()) or type(exc).__name__
    m = re.search(r"does not contains? variable \?(\w+) in its SELECT projection", msg)
    if m:
        return (f"parameter {m.group(1)!r}: ?{m.group(1)} must be a result column "
                f"(Oxigraph binds parameters only to variables the SELECT returns)")
    return msg


#: what hides SPARQL keywords: strings, IRIs (which may hold '#' and quotes) and comments;
#: one left-to-right scan, as SPARQL's lexer reads them, so a quote inside a comment or a '#'
#: inside a string cannot hide (or fake) the text after it
_LEXEMES = re.compile(r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:\\.|[^"\\\n\r])*"|\'(?:\\.|[^\'\\\n\r])*\''
                      r'|<[^<>"{}|^`\\\x00-\x20]*>|#[^\n\r]*')


def _strip_comments_and_strings(text: str) -> str:
    return _LEXEMES.sub(lambda m: {"#": " ", "<": "<>"}.get(m.group(0)[0], '""'), text)


# ---- presenting results ------------------------------------------------------------------------
def as_table(result, prefixes: dict[str, str] | None = None) -> Table:
    if prefixes is None:
        from kg.vocab import PREFIXES as prefixes
    if isinstance(result, ox.QueryBoolean):
        return Table(["ask"], [[str(bool(result)).lower()]])
    if isinstance(result, ox.QueryTriples):
        return Table(["subject", "predicate", "object"],
                     [[_show(t.subject, prefixes), _show(t.predicate, prefixes), _show(t.object, prefixes)]
                      for t in result])
    variables = [v.value for v in result.variables]
    rows = [[_show(sol[v], prefixes) for v in variables] for sol in result]
    return Table(variables, rows)


def serialize(result, fmt: str) -> bytes:
    """csv / tsv / json (SPARQL 1.1 Query Results JSON) / xml; CONSTRUCT results as Turtle."""
    from kg.vocab import PREFIXES

    if isinstance(result, ox.QueryTriples):
        return ox.serialize(list(result), format=GRAPH_FORMATS.get(fmt, ox.RdfFormat.TURTLE),
                            prefixes=PREFIXES)
    if fmt not in RESULT_FORMATS:
        raise QueryError(f"unknown result format {fmt!r}")
    return result.serialize(format=RESULT_FORMATS[fmt])


def _show(term, prefixes: dict[str, str]) -> str | None:
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        for prefix, ns in prefixes.items():
            local = term.value[len(ns):]
            if term.value.startswith(ns) and re.fullmatch(r"[\w.-]*", local) and not local.endswith("."):
                return f"{prefix}:{local}"
        return f"<{term.value}>"
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return term.value


def prepare(sparql: str | None, file: str | Path | None, name: str | None,
            pairs: Iterable[str] = ()) -> tuple[str, dict[str, str], list[str]]:
    """What ``kg query`` runs: the query text, its parameters, and which are entity names."""
    text = load_query(sparql, file, name)
    params = parse_params(pairs)
    named = get_named(name) if name is not None else None
    check_params(text, params, named)
    entity_params = [p.name for p in named.params if p.entity] if named else []
    return text, params, entity_params


def describe_named() -> list[tuple[str, str, list[str]]]:
    """(name, description, ['param — description', ...]) for ``kg query --list``."""
    return [(nq.name, nq.description,
             [f"--param {p.name}=…  {p.description}" for p in nq.params])
            for nq in named_queries().values()]
