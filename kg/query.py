"""SPARQL over the store: inline, from a file, or a named query shipped in kg/queries/.

Parameters are bound as RDF terms (Oxigraph substitutions), never spliced into the text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pyoxigraph as ox

from kg.store import KGStore
from kg.vocab import PREFIXES

RESULT_FORMATS = {"csv": ox.QueryResultsFormat.CSV, "tsv": ox.QueryResultsFormat.TSV,
                  "json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML}
_SERVICE = re.compile(r"\bSERVICE\b", re.I)


class QueryError(Exception):
    """A query that cannot run: the parser's message, or a refused feature."""


@dataclass
class Table:
    variables: list[str]
    rows: list[list[str | None]]


@dataclass(frozen=True)
class NamedQuery:
    name: str
    description: str
    text: str


def named_queries() -> dict[str, NamedQuery]:
    """The query library: kg/queries/*.rq, each starting with '# description' lines."""
    out = {}
    for entry in sorted(resources.files("kg.queries").iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".rq"):
            text = entry.read_text(encoding="utf-8")
            desc = " ".join(line[1:].strip() for line in text.splitlines()
                            if line.startswith("#") and not line.startswith("#!"))
            out[entry.name[:-3]] = NamedQuery(entry.name[:-3], desc, text)
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
    if name is not None:
        queries = named_queries()
        if name not in queries:
            raise QueryError(f"no named query {name!r} (see `kg query --list`)")
        return queries[name].text
    return text


def bind(params: dict[str, str]) -> dict[ox.Variable, ox.Literal | ox.NamedNode]:
    """name=value pairs as RDF terms: an IRI when written <...>, else a plain literal."""
    out = {}
    for key, value in params.items():
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise QueryError(f"bad parameter name {key!r}")
        if value.startswith("<") and value.endswith(">"):
            try:
                out[ox.Variable(key)] = ox.NamedNode(value[1:-1])
            except ValueError as exc:
                raise QueryError(f"parameter {key}: not a valid IRI") from exc
        else:
            out[ox.Variable(key)] = ox.Literal(value)
    return out


def run(store: KGStore, sparql: str, params: dict[str, str] | None = None,
        allow_service: bool = False):
    """Run a query; returns a pyoxigraph result (solutions, triples or boolean)."""
    if not allow_service and _SERVICE.search(_strip_comments_and_strings(sparql)):
        raise QueryError("SERVICE (outbound requests) is disabled; pass --allow-service to enable")
    try:
        return store.query(sparql, bind(params or {}))
    except SyntaxError as exc:
        raise QueryError(f"syntax error: {exc}") from exc
    except OSError as exc:
        raise QueryError(str(exc)) from exc


def _strip_comments_and_strings(text: str) -> str:
    text = re.sub(r"\"\"\"[\s\S]*?\"\"\"|'''[\s\S]*?'''|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'", "\"\"", text)
    return re.sub(r"#[^\n]*", "", text)


def as_table(result) -> Table:
    if isinstance(result, ox.QueryBoolean):
        return Table(["ask"], [[str(bool(result)).lower()]])
    if isinstance(result, ox.QueryTriples):
        return Table(["subject", "predicate", "object"],
                     [[_show(t.subject), _show(t.predicate), _show(t.object)] for t in result])
    variables = [v.value for v in result.variables]
    rows = [[_show(sol[v]) for v in variables] for sol in result]
    return Table(variables, rows)


def serialize(result, fmt: str) -> bytes:
    """csv / tsv / json (SPARQL 1.1 Query Results JSON) / xml; CONSTRUCT results as Turtle."""
    if isinstance(result, ox.QueryTriples):
        return ox.serialize(list(result), format=ox.RdfFormat.TURTLE, prefixes=PREFIXES)
    if fmt not in RESULT_FORMATS:
        raise QueryError(f"unknown result format {fmt!r}")
    return result.serialize(format=RESULT_FORMATS[fmt])


def _show(term) -> str | None:
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        for prefix, ns in PREFIXES.items():
            if term.value.startswith(ns):
                return f"{prefix}:{term.value[len(ns):]}"
        return term.value
    return term.value
