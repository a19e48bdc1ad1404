"""A fast SHACL check: the shapes compiled to one SPARQL query run by Oxigraph.

pyshacl (``kg.validate.validate_graph``) stays the reference engine. This module gives the
same answers, much faster, for the part of SHACL Core that ``ontology/shapes.ttl`` uses:

- node shapes with ``sh:targetClass`` (instances found with ``rdf:type/rdfs:subClassOf*``
  in the data graph, as pyshacl does without inference) and node-level ``sh:nodeKind``,
  ``sh:pattern``, ``sh:class``;
- property shapes (``sh:property``) whose ``sh:path`` is an IRI or ``[sh:inversePath IRI]``,
  with ``sh:minCount``, ``sh:maxCount``, ``sh:datatype``, ``sh:nodeKind``, ``sh:class``,
  ``sh:in``, ``sh:minLength``, ``sh:minInclusive``, ``sh:maxInclusive``, ``sh:pattern``,
  ``sh:or`` of shapes made of those, ``sh:qualifiedValueShape [sh:in (...)]`` with
  ``sh:qualifiedMaxCount``, ``sh:lessThanOrEquals``;
- ``sh:message`` (one per shape that reports), and the annotations ``sh:name``,
  ``sh:description``, ``rdfs:label``, ``rdfs:comment``.

Every triple of the shapes graph must be understood: anything else raises
:class:`UnsupportedShapes` at compile time, and ``kg.validate`` then uses pyshacl, so a new
kind of shape is never silently left unchecked.

How it stays equal to pyshacl: the query returns *candidates*, a superset of the violations.
For each constraint a SPARQL expression says "this value surely conforms" only where
Oxigraph and pyshacl cannot disagree (a plain string, an integer written ``-?[0-9]+``, a date
with a day of 28 at most, ...); every other value comes back, and Python decides it with
pyshacl's own rules on the rdflib term the reference engine would have seen (rdflib's
lexical normalisation, its idea of an ill-typed literal, Python's ``re``, rdflib literal
comparison). Valid data yields almost no rows, so the cost is Oxigraph's scan. Where pyshacl
itself would fail (a blank node compared with sh:lessThanOrEquals, a comparison that
raises), :class:`NeedsReference` is raised and ``kg.validate`` lets pyshacl answer.
"""
from __future__ import annotations

import json
import logging
import re
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SH, XSD

RDF_TYPE = ox.NamedNode(str(RDF.type))
SUBCLASS = ox.NamedNode(str(RDFS.subClassOf))
_XSD_STRING = str(XSD.string)


class UnsupportedShapes(Exception):
    """The shapes use something this compiler does not translate; the message says what."""


class NeedsReference(Exception):
    """The data hits a corner where pyshacl itself errors or behaves oddly: ask pyshacl."""


# ---- rdflib's view of an Oxigraph term (what pyshacl sees after the N-Triples dump) -------

@lru_cache(maxsize=65536)
def to_rdflib(term) -> URIRef | BNode | Literal:
    """The rdflib term rdflib's N-Triples parser makes of this Oxigraph term (literals
    normalised the way rdflib normalises them; xsd:string literals written plain)."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, lang=term.language)
    dt = term.datatype.value
    if dt == _XSD_STRING:
        return Literal(term.value)
    # rdflib logs every ill-typed literal it reads (and warns about odd booleans): the
    # reference engine says so already, and a violation reports it
    logger = logging.getLogger("rdflib.term")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return Literal(term.value, datatype=URIRef(dt))
    finally:
        logger.setLevel(level)


def _str(term) -> str:
    return str(to_rdflib(term))


# ---- pyshacl's rules, one value at a time (pyshacl/constraints/core/*.py) ----------------

def _actual_datatype(t: Literal, rule) -> bool:
    value = t.value
    if rule in (XSD.string, RDF.langString):
        return isinstance(value, (str, bytes))
    if rule == XSD.integer:
        return isinstance(value, int)
    if rule == XSD.float:
        return isinstance(value, float)
    if rule == XSD.decimal:
        return isinstance(value, Decimal)
    if rule == XSD.boolean:
        return isinstance(value, bool)
    if rule == XSD.date:
        return isinstance(value, date)
    if rule == XSD.time:
        return isinstance(value, time)
    if rule == XSD.dateTime:
        return isinstance(value, datetime)
    return True  # pyshacl: "We don't know how to check other datatypes. Assume pass."


def datatype_ok(t, rule) -> bool:
    if not isinstance(t, Literal):
        return False
    if t.datatype == rule:
        return False if getattr(t, "ill_typed", None) is True else _actual_datatype(t, rule)
    if rule == RDFS.Literal:
        return True
    if rule == RDFS.Datatype and t.datatype:
        return True
    if t.datatype is None and t.language is None and rule == XSD.string:
        return _actual_datatype(t, rule)
    if rule == RDF.langString and t.language:
        return _actual_datatype(t, rule)
    return False


_KINDS = {
    SH.IRI: (URIRef,), SH.BlankNode: (BNode,), SH.Literal: (Literal,),
    SH.BlankNodeOrIRI: (BNode, URIRef), SH.BlankNodeOrLiteral: (BNode, Literal),
    SH.IRIOrLiteral: (URIRef, Literal),
}


def _value_string(t) -> str:
    if isinstance(t, Literal) and t.value is not None and t.datatype in (None, RDF.langString, XSD.string):
        return str(t.value)
    return str(t)


def min_length_ok(t, n: int) -> bool:
    if n == 0:
        return True
    if isinstance(t, BNode):
        return False
    return len(_value_string(t)) >= n


def pattern_ok(t, regex: re.Pattern) -> bool:
    if isinstance(t, BNode):
        return False
    s = _value_string(t)
    return bool(regex.match(s) or regex.search(s))


def _compare_literal(l1: Literal, l2: Literal) -> int:
    """pyshacl.rdfutil.compare.compare_literal (copied: importing pyshacl takes a while)."""
    if l1.eq(l2):
        return 0
    if l1.value.__class__ in (datetime, time):
        if l1.value == l2.value:
            return 0
        elif l1.value > l2.value:
            return 1
    elif l1 > l2:
        return 1
    return -1


def range_ok(t, bound: Literal, test: Callable[[int], bool]) -> bool:
    """pyshacl's sh:minInclusive / sh:maxInclusive test of one value."""
    if not isinstance(t, Literal):
        return False
    if isinstance(bound.value, str) != isinstance(t.value, str):
        return False
    try:
        return test(_compare_literal(t, bound))
    except (TypeError, NotImplementedError):
        return False
    except Exception as exc:  # pyshacl lets anything else escape: so shall it
        raise NeedsReference(f"comparing {t!r} with {bound!r}: {exc}") from exc


def less_or_equal_ok(v, w) -> bool:
    if isinstance(v, BNode) or isinstance(w, BNode):
        raise NeedsReference("sh:lessThanOrEquals on a blank node (pyshacl raises)")

    def plain(t):
        if isinstance(t, URIRef):
            return str(t), True
        if isinstance(t, Literal) and isinstance(t.value, str):
            return t.value, True
        return t, False

    (a, a_str), (b, b_str) = plain(v), plain(w)
    if a_str != b_str:
        return False
    try:
        return bool(a <= b)
    except Exception as exc:
        raise NeedsReference(f"comparing {v!r} <= {w!r}: {exc}") from exc


# ---- the compiled form -----------------------------------------------------------------

def _q(s: str) -> str:
    """A SPARQL string literal."""
    return json.dumps(s, ensure_ascii=False)


#: lexical forms that rdflib surely reads as valid values of the datatype, and that
#: Oxigraph compares exactly (its integers have 64 bits, its decimals 18 digits of fraction)
_SAFE_LEXICAL = {
    str(XSD.integer): r"^-?[0-9]{1,18}$",
    str(XSD.decimal): r"^-?[0-9]{1,15}(\.[0-9]{1,15})?$",
    str(XSD.date): r"^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$",
    str(XSD.gYear): r"^[1-9][0-9]{3}$",
    str(XSD.gYearMonth): r"^[1-9][0-9]{3}-(0[1-9]|1[0-2])$",
}
_NUMERIC = (XSD.integer, XSD.decimal)


def _safe_number(v: str) -> str:
    """SPARQL: ``v`` is an integer or a decimal that rdflib and Oxigraph read alike."""
    return " || ".join(f"(datatype({v}) = <{dt}> && REGEX(STR({v}), {_q(_SAFE_LEXICAL[str(dt)])}))"
                       for dt in _NUMERIC).join("()")


#: patterns whose meaning is the same for Python's re and Oxigraph's REGEX (and, where
#: they differ, Python accepts more: '$' also before a final newline)
_PORTABLE_PATTERN = re.compile(
    r"^(?:\\[.\-/^$*+?()\[\]{}|\\]"
    r"|\[\^?(?:\\[.\-/^$*+?()\[\]{}|\\]|[A-Za-z0-9_ :/#@%=,;.~!&'\"<>+*?$(){}|-])+\]"
    r"|[A-Za-z0-9_ :/#@%=,;~!&'\"<>-]"
    r"|[\^$.*+?|]|\((?!\?)|\)"
    r"|\{[0-9]+(?:,[0-9]*)?\})*$")


@dataclass
class Atom:
    """One test on one value node: a SPARQL expression that is true only where the value
    surely conforms, and pyshacl's rule to decide the values it leaves in doubt."""

    kind: str
    param: object

    def safe(self, v: str, subclasses: bool) -> str:
        k, p = self.kind, self.param
        if k == "datatype":
            if p == XSD.string:
                return f"(datatype({v}) = <{XSD.string}>)"
            regex = _SAFE_LEXICAL.get(str(p))
            return f"(datatype({v}) = <{p}> && REGEX(STR({v}), {_q(regex)}))" if regex else "false"
        if k == "nodeKind":
            tests = {URIRef: f"isIRI({v})", BNode: f"isBlank({v})", Literal: f"isLiteral({v})"}
            return "(" + " || ".join(tests[t] for t in _KINDS[p]) + ")"
        if k == "class":
            path = "rdf:type/rdfs:subClassOf*" if subclasses else "rdf:type"
            return f"EXISTS {{ {v} {path} <{p}> }}"
        if k == "in":
            terms = [t for t in p if isinstance(t, URIRef) or (isinstance(t, Literal) and t.datatype is None and t.language is None)]
            if not terms:
                return "false"
            return "(" + " || ".join(f"sameTerm({v}, {_term(t)})" for t in terms) + ")"
        if k == "minLength":
            return (f"((isIRI({v}) || datatype({v}) = <{XSD.string}> || datatype({v}) = <{RDF.langString}>)"
                    f" && STRLEN(STR({v})) >= {int(p)})")
        if k == "pattern":
            if not _PORTABLE_PATTERN.match(p.pattern):
                return "false"
            return (f"((isIRI({v}) || datatype({v}) = <{XSD.string}> || datatype({v}) = <{RDF.langString}>)"
                    f" && REGEX(STR({v}), {_q(p.pattern)}))")
        if k in ("minInclusive", "maxInclusive"):
            bound, _ = p
            if bound.datatype not in _NUMERIC or bound.ill_typed:
                return "false"
            op = ">=" if k == "minInclusive" else "<="
            return f"({_safe_number(v)} && {v} {op} {_term(bound)})"
        if k == "or":
            return "(" + " || ".join("(" + " && ".join(a.safe(v, subclasses) for a in alt) + ")"
                                     for alt in p) + ")"
        raise AssertionError(k)

    def ok(self, term, data: _Data) -> bool:
        k, p = self.kind, self.param
        if k == "class":
            return data.is_instance(term, p)
        t = to_rdflib(term)
        if k == "datatype":
            return datatype_ok(t, p)
        if k == "nodeKind":
            return isinstance(t, _KINDS[p])
        if k == "in":
            return t in p
        if k == "minLength":
            return min_length_ok(t, p)
        if k == "pattern":
            return pattern_ok(t, p)
        if k == "minInclusive":
            return range_ok(t, p[0], lambda c: c >= 0)
        if k == "maxInclusive":
            return range_ok(t, p[0], lambda c: c <= 0)
        if k == "or":
            return any(all(a.ok(term, data) for a in alt) for alt in p)
        raise AssertionError(k)


def _term(t) -> str:
    if isinstance(t, URIRef):
        return f"<{t}>"
    if isinstance(t, Literal):
        if t.language:
            return f"{_q(str(t))}@{t.language}"
        if t.datatype is None:
            return _q(str(t))
        return f"{_q(str(t))}^^<{t.datatype}>"
    raise UnsupportedShapes(f"a blank node {t} as a constant")


@dataclass
class PropertyShape:
    """One ``sh:property`` of a node shape, as compiled."""

    path: URIRef
    inverse: bool
    message: str
    min: int = 0
    max: int | None = None
    atoms: list = field(default_factory=list)
    less_or_equal: list = field(default_factory=list)  # sh:lessThanOrEquals properties
    qualified: frozenset | None = None  # sh:qualifiedValueShape [ sh:in (...) ]
    qualified_max: int = 0

    @property
    def reported_path(self) -> str:
        return "(path)" if self.inverse else str(self.path)

    def step(self) -> str:
        return f"?v <{self.path}> ?f ." if self.inverse else f"?f <{self.path}> ?v ."


@dataclass
class NodeShape:
    classes: list
    message: str | None
    atoms: list
    properties: list


_LITERAL_KEY = "<urn:x-kzru-shacl:any-literal>"


@dataclass
class Branch:
    """One branch of the query (``?b`` says which) and how its rows become violations."""

    kind: str  # node, counts, values, count, values1, lte, qualified
    shape: NodeShape
    prop: PropertyShape | None = None
    by_path: dict = field(default_factory=dict)  # counts, values: path IRI -> property shapes
    other: URIRef | None = None

    def target(self, subclasses: bool) -> str:
        classes = " ".join(f"<{c}>" for c in self.shape.classes)
        if subclasses:
            return f"VALUES ?cls {{ {classes} }} ?f rdf:type/rdfs:subClassOf* ?cls ."
        if len(self.shape.classes) == 1:
            return f"?f rdf:type {classes} ."
        return f"VALUES ?cls {{ {classes} }} ?f rdf:type ?cls ."

    def sparql(self, index: int, subclasses: bool) -> str:
        target, bind = self.target(subclasses), f"BIND({index} AS ?b)"
        k = "BIND(IF(isLiteral(?v), " + _LITERAL_KEY + ", ?v) AS ?k)"
        if self.kind == "node":
            safe = " && ".join(a.safe("?f", subclasses) for a in self.shape.atoms)
            return f"{{ {target} FILTER(!COALESCE({safe}, false)) {bind} }}"
        if self.kind == "counts":
            # literals count once towards the minimum: rdflib may merge literals that
            # Oxigraph keeps apart (" 5" and "5"^^xsd:integer); Python recounts the rows
            rows = " ".join(f"(<{p}> {max(s.min for s in ps)} "
                            f"{min((s.max for s in ps if s.max is not None), default=-1)})"
                            for p, ps in self.by_path.items())
            return (f"{{ {{ SELECT ?f ?p WHERE {{ {target} VALUES (?p ?lo ?hi) {{ {rows} }} "
                    f"OPTIONAL {{ ?f ?p ?v {k} }} }} GROUP BY ?f ?p ?lo ?hi "
                    f"HAVING (COUNT(DISTINCT ?k) < ?lo || (?hi >= 0 && COUNT(DISTINCT ?v) > ?hi)) }} {bind} }}")
        if self.kind == "values":
            chain = "false"
            for p, ps in reversed(list(self.by_path.items())):
                safe = " && ".join(a.safe("?v", subclasses) for s in ps for a in s.atoms)
                chain = f"IF(sameTerm(?p, <{p}>), {safe}, {chain})"
            paths = " ".join(f"<{p}>" for p in self.by_path)
            return f"{{ {target} VALUES ?p {{ {paths} }} ?f ?p ?v . FILTER(!COALESCE({chain}, false)) {bind} }}"
        prop = self.prop
        step = prop.step()
        if self.kind == "count":  # an inverse path
            hi = f"COUNT(DISTINCT ?v) > {prop.max}" if prop.max is not None else "false"
            return (f"{{ {{ SELECT ?f WHERE {{ {target} OPTIONAL {{ {step} {k} }} }} GROUP BY ?f "
                    f"HAVING (COUNT(DISTINCT ?k) < {prop.min} || {hi}) }} {bind} }}")
        if self.kind == "values1":  # an inverse path
            safe = " && ".join(a.safe("?v", subclasses) for a in prop.atoms)
            return f"{{ {target} {step} FILTER(!COALESCE({safe}, false)) {bind} }}"
        if self.kind == "lte":
            safe = f"{_safe_number('?v')} && {_safe_number('?w')} && ?v <= ?w"
            return f"{{ {target} {step} ?f <{self.other}> ?w . FILTER(!COALESCE({safe}, false)) {bind} }}"
        if self.kind == "qualified":
            # the members are IRIs (the compiler sees to it): sameTerm is rdflib's equality
            same = " || ".join(f"sameTerm(?v, {_term(t)})" for t in prop.qualified) or "false"
            return (f"{{ {{ SELECT ?f WHERE {{ {target} {step} FILTER({same}) }} GROUP BY ?f "
                    f"HAVING (COUNT(DISTINCT ?v) > {prop.qualified_max}) }} {bind} }}")
        raise AssertionError(self.kind)


class _Data:
    """The data graph (an Oxigraph store, triples in its default graph) as the Python side
    of the checks needs it."""

    def __init__(self, store: ox.Store):
        self.store = store
        self.supers: dict = {}
        for q in store.quads_for_pattern(None, SUBCLASS, None, ox.DefaultGraph()):
            self.supers.setdefault(q.subject, set()).add(q.object)
        self.has_subclasses = bool(self.supers)

    def values(self, focus, prop: PropertyShape) -> set:
        """The value nodes of a focus node for a path, as rdflib would hold them."""
        p = ox.NamedNode(str(prop.path))
        if prop.inverse:
            return {to_rdflib(q.subject) for q in self.store.quads_for_pattern(None, p, focus, ox.DefaultGraph())}
        return {to_rdflib(q.object) for q in self.store.quads_for_pattern(focus, p, None, ox.DefaultGraph())}

    def is_instance(self, term, cls: URIRef) -> bool:
        """pyshacl's sh:class: some rdf:type of the node is the class or a subclass of it."""
        if isinstance(term, ox.Literal):
            return False
        want = ox.NamedNode(str(cls))
        for q in self.store.quads_for_pattern(term, RDF_TYPE, None, ox.DefaultGraph()):
            seen, todo = set(), [q.object]
            while todo:
                c = todo.pop()
                if c == want:
                    return True
                if c not in seen:
                    seen.add(c)
                    todo.extend(self.supers.get(c, ()))
        return False


_PREFIXES = (f"PREFIX rdf: <{RDF}>\nPREFIX rdfs: <{RDFS}>\n")


class CompiledShapes:
    """The shapes as one SELECT (two variants: with and without rdfs:subClassOf in the data)."""

    def __init__(self, shapes: list[NodeShape]):
        self.shapes = shapes
        self.branches: list[Branch] = []
        for shape in shapes:
            if not shape.classes:
                continue  # no target, no focus node: pyshacl checks nothing either
            if shape.atoms:
                self.branches.append(Branch("node", shape))
            counts: dict = {}
            values: dict = {}
            for prop in shape.properties:
                if prop.inverse:
                    if prop.min or prop.max is not None:
                        self.branches.append(Branch("count", shape, prop))
                    if prop.atoms:
                        self.branches.append(Branch("values1", shape, prop))
                else:
                    if prop.min or prop.max is not None:
                        counts.setdefault(prop.path, []).append(prop)
                    if prop.atoms:
                        values.setdefault(prop.path, []).append(prop)
                self.branches.extend(Branch("lte", shape, prop, other=o) for o in prop.less_or_equal)
                if prop.qualified is not None:
                    self.branches.append(Branch("qualified", shape, prop))
            if counts:
                self.branches.append(Branch("counts", shape, by_path=counts))
            if values:
                self.branches.append(Branch("values", shape, by_path=values))
        self._queries: dict[bool, str] = {}
        #: the predicates whose triples can change the result (the rest of a graph need not
        #: be loaded): rdf:type, rdfs:subClassOf, the paths, the sh:lessThanOrEquals properties
        self.predicates = frozenset({str(RDF.type), str(RDFS.subClassOf)}
                                    | {str(p.path) for s in shapes for p in s.properties}
                                    | {str(o) for s in shapes for p in s.properties for o in p.less_or_equal})

    def query(self, subclasses: bool) -> str:
        """The SPARQL query: one row per candidate violation (?b the branch, ?f the focus
        node, ?p the path, ?v the value, ?w the value compared with)."""
        if subclasses not in self._queries:
            body = "\nUNION\n".join(b.sparql(i, subclasses) for i, b in enumerate(self.branches))
            self._queries[subclasses] = f"{_PREFIXES}SELECT ?b ?f ?p ?v ?w WHERE {{\n{body}\n}}"
        return self._queries[subclasses]

    def validate(self, store: ox.Store):
        """The violations of the data graph (``store``'s default graph), as
        ``kg.validate.Violation``s, sorted and distinct, as ``validate_graph`` gives them."""
        from kg.validate import Violation

        if not self.branches:
            return []
        data = _Data(store)
        found = set()
        for row in store.query(self.query(data.has_subclasses)):
            branch = self.branches[int(row["b"].value)]
            f = row["f"]
            focus = _str(f)
            kind = branch.kind
            if kind == "node":
                if not all(a.ok(f, data) for a in branch.shape.atoms):
                    found.add(Violation(focus, None, branch.shape.message, focus))
            elif kind in ("counts", "values"):
                path = URIRef(row["p"].value)
                for prop in branch.by_path[path]:
                    found.update(Violation(focus, prop.reported_path, prop.message, value)
                                 for value in _property_failures(kind, prop, f, row["v"], data))
            else:
                prop = branch.prop
                kind = {"count": "counts", "values1": "values"}.get(kind, kind)
                found.update(Violation(focus, prop.reported_path, prop.message, value)
                             for value in _property_failures(kind, prop, f, row["v"], data, row["w"]))
        return sorted(found, key=lambda x: (x.focus, x.path or "", x.message, x.value or ""))


def _property_failures(kind: str, prop: PropertyShape, f, v, data: _Data, w=None) -> list:
    """The sh:value of each violation a candidate row stands for (None: a count)."""
    if kind == "counts":
        n = len(data.values(f, prop))
        return [None] if n < prop.min or (prop.max is not None and n > prop.max) else []
    if kind == "values":
        return [] if all(a.ok(v, data) for a in prop.atoms) else [_str(v)]
    if kind == "lte":
        return [] if less_or_equal_ok(to_rdflib(v), to_rdflib(w)) else [_str(v)]
    if kind == "qualified":
        return [None] if len(data.values(f, prop) & prop.qualified) > prop.qualified_max else []
    raise AssertionError(kind)


# ---- the compiler ----------------------------------------------------------------------

_ANNOTATIONS = (SH.name, SH.description, RDFS.label, RDFS.comment)


class _Compiler:
    """Reads a shapes graph, marking each triple it understands; any triple left over is
    a construct it does not translate."""

    def __init__(self, g: Graph):
        self.g = g
        self.used: set = set()

    def take(self, s, p) -> list:
        objs = sorted(self.g.objects(s, p), key=str)
        self.used.update((s, p, o) for o in objs)
        return objs

    def one(self, s, p):
        objs = self.take(s, p)
        if len(objs) > 1:
            raise UnsupportedShapes(f"{s}: more than one {p.n3(self.g.namespace_manager)}")
        return objs[0] if objs else None

    def items(self, head) -> list:
        out, node = [], head
        while node != RDF.nil:
            first, rest = self.take(node, RDF.first), self.take(node, RDF.rest)
            if len(first) != 1 or len(rest) != 1:
                raise UnsupportedShapes(f"{head}: not a well-formed RDF list")
            out.append(first[0])
            node = rest[0]
        return out

    def integer(self, s, p) -> int | None:
        v = self.one(s, p)
        if v is None:
            return None
        if not isinstance(v, Literal) or not isinstance(v.value, int) or isinstance(v.value, bool) or v.value < 0:
            raise UnsupportedShapes(f"{s}: {p.n3(self.g.namespace_manager)} must be a non-negative integer")
        return v.value

    def annotations(self, s) -> None:
        for p in _ANNOTATIONS:
            self.take(s, p)

    def value_atoms(self, s, *, node_level: bool = False) -> list[Atom]:
        atoms = []
        for c in self.take(s, SH["class"]):
            if not isinstance(c, URIRef):
                raise UnsupportedShapes(f"{s}: sh:class must be an IRI")
            atoms.append(Atom("class", c))
        kind = self.one(s, SH.nodeKind)
        if kind is not None:
            if kind not in _KINDS:
                raise UnsupportedShapes(f"{s}: unknown sh:nodeKind {kind}")
            atoms.append(Atom("nodeKind", kind))
        for pat in self.take(s, SH.pattern):
            if not isinstance(pat, Literal):
                raise UnsupportedShapes(f"{s}: sh:pattern must be a literal")
            # as pyshacl: the pattern's value, or for a one-character value its lexical form
            text = str(pat.value) if pat.value is not None and len(pat.value) > 1 else str(pat)
            atoms.append(Atom("pattern", re.compile(text)))
        if node_level:
            return atoms
        dt = self.one(s, SH.datatype)
        if dt is not None:
            if not isinstance(dt, URIRef):
                raise UnsupportedShapes(f"{s}: sh:datatype must be an IRI")
            atoms.append(Atom("datatype", dt))
        head = self.one(s, SH["in"])
        if head is not None:
            members = self.items(head)
            for m in members:
                if isinstance(m, BNode) or (isinstance(m, Literal) and (m.language or m.datatype == XSD.string)):
                    raise UnsupportedShapes(f"{s}: sh:in member {m.n3()} (only IRIs, plain and typed literals)")
            atoms.append(Atom("in", frozenset(members)))
        n = self.integer(s, SH.minLength)
        if n is not None:
            atoms.append(Atom("minLength", n))
        for key in ("minInclusive", "maxInclusive"):
            bound = self.one(s, SH[key])
            if bound is not None:
                if not isinstance(bound, Literal):
                    raise UnsupportedShapes(f"{s}: sh:{key} must be a literal")
                atoms.append(Atom(key, (bound, None)))
        head = self.one(s, SH["or"])
        if head is not None:
            alternatives = []
            for alt in self.items(head):
                for t in self.take(alt, RDF.type):
                    if t != SH.NodeShape:
                        raise UnsupportedShapes(f"{s}: an sh:or member typed {t}")
                self.annotations(alt)
                inner = self.value_atoms(alt)
                if not inner:
                    raise UnsupportedShapes(f"{s}: an sh:or member without constraints this compiler knows")
                alternatives.append(inner)
            atoms.append(Atom("or", alternatives))
        return atoms

    def compile(self) -> list[NodeShape]:
        g = self.g
        shapes = []
        for node in sorted(set(g.subjects(RDF.type, SH.NodeShape)), key=str):
            self.used.add((node, RDF.type, SH.NodeShape))
            classes = self.take(node, SH.targetClass)
            if any(not isinstance(c, URIRef) for c in classes):
                raise UnsupportedShapes(f"{node}: sh:targetClass must be an IRI")
            self.annotations(node)
            message = self.one(node, SH.message)
            atoms = self.value_atoms(node, node_level=True)
            if atoms and message is None:
                raise UnsupportedShapes(f"{node}: node-level constraints without sh:message")
            props = [self.property(p) for p in self.take(node, SH.property)]
            shapes.append(NodeShape(classes, None if message is None else str(message), atoms, props))
        left = sorted((t for t in g if t not in self.used), key=lambda t: tuple(map(str, t)))
        if left:
            s, p, o = left[0]
            nm = g.namespace_manager
            raise UnsupportedShapes(f"{len(left)} shapes triple(s) not understood, e.g. "
                                    f"{s.n3(nm)} {p.n3(nm)} {o.n3(nm)}")
        return shapes

    def property(self, node) -> PropertyShape:
        for t in self.take(node, RDF.type):
            if t != SH.PropertyShape:
                raise UnsupportedShapes(f"{node}: a property shape typed {t}")
        self.annotations(node)
        path = self.one(node, SH.path)
        inverse = False
        if isinstance(path, BNode):
            inv = self.take(path, SH.inversePath)
            if len(inv) != 1 or not isinstance(inv[0], URIRef) or len(list(self.g.predicate_objects(path))) != 1:
                raise UnsupportedShapes(f"{node}: an sh:path other than an IRI or [ sh:inversePath IRI ]")
            path, inverse = inv[0], True
        elif not isinstance(path, URIRef):
            raise UnsupportedShapes(f"{node}: a property shape without an sh:path")
        message = self.one(node, SH.message)
        if message is None:
            raise UnsupportedShapes(f"{node}: a property shape without sh:message")
        prop = PropertyShape(path, inverse, str(message), min=self.integer(node, SH.minCount) or 0,
                             max=self.integer(node, SH.maxCount), atoms=self.value_atoms(node))
        for other in self.take(node, SH.lessThanOrEquals):
            if not isinstance(other, URIRef):
                raise UnsupportedShapes(f"{node}: sh:lessThanOrEquals must be an IRI")
            prop.less_or_equal.append(other)
        qshape = self.one(node, SH.qualifiedValueShape)
        qmax = self.integer(node, SH.qualifiedMaxCount)
        if qshape is not None or qmax is not None:
            if qshape is None or qmax is None:
                raise UnsupportedShapes(f"{node}: sh:qualifiedValueShape needs sh:qualifiedMaxCount (only that)")
            for t in self.take(qshape, RDF.type):
                if t != SH.NodeShape:
                    raise UnsupportedShapes(f"{node}: a qualified value shape typed {t}")
            head = self.one(qshape, SH["in"])
            if head is None:
                raise UnsupportedShapes(f"{node}: a qualified value shape other than [ sh:in (...) ]")
            members = self.items(head)
            if any(not isinstance(m, URIRef) for m in members):
                raise UnsupportedShapes(f"{node}: sh:qualifiedValueShape [ sh:in (...) ] of IRIs only")
            prop.qualified, prop.qualified_max = frozenset(members), qmax
        return prop


def compile_graph(shapes: Graph) -> CompiledShapes:
    """Compile an rdflib shapes graph; :class:`UnsupportedShapes` if it uses anything else
    than what this module translates."""
    return CompiledShapes(_Compiler(shapes).compile())


@lru_cache(maxsize=4)
def compile_shapes(path: Path) -> CompiledShapes:
    """The shapes file compiled (once per path)."""
    from kg.validate import load_shapes

    return compile_graph(load_shapes(path))


# ---- the data graph --------------------------------------------------------------------

def data_store(triples: Iterable) -> ox.Store:
    """An in-memory Oxigraph store holding the given quads' triples in its default graph."""
    mem = ox.Store()
    dg = ox.DefaultGraph()
    mem.bulk_extend(ox.Quad(q.subject, q.predicate, q.object, dg) for q in triples)
    return mem
