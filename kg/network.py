"""The store as a networkx graph: entities (and claims) as nodes, facts as edges with
their evidence. What ``kg viz`` draws, ``kg stats`` measures and ``kg export --format
graphml|gexf`` writes.

The view functions (:func:`focus`, :func:`filter_edges`, :func:`cap`, :func:`view`) take a
graph and return a new one; they never touch the store.
"""
from __future__ import annotations

import difflib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

import networkx as nx

if TYPE_CHECKING:  # pragma: no cover
    from kg.store import KGStore

RELATIONS = ("visited", "said", "memberOf", "metWith", "holdsPosition")
DEFAULT_MAX_NODES = 150
KZR_IRI = "https://w3id.org/kzru-kg/resource/"

EDGE_QUERY = """
SELECT DISTINCT ?s ?p ?o ?claim ?role ?org ?sentence ?article ?headline ?published ?date
WHERE {
  ?a a kzo:Assertion ; rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o ;
     prov:wasDerivedFrom ?g ; kzo:evidenceText ?sentence .
  ?g schema:identifier ?article .
  OPTIONAL { ?g schema:headline ?headline }
  OPTIONAL { ?g schema:datePublished ?published }
  OPTIONAL { ?o kzo:text ?claim }
  OPTIONAL { ?o kzo:positionIn ?org OPTIONAL { ?o kzo:role ?role } }
  OPTIONAL { ?a kzo:about/kzo:date ?date }
}
"""
NODE_QUERY = """
SELECT ?e ?label ?type ?wd WHERE {
  GRAPH kzr:entities { ?e rdfs:label ?label }
  OPTIONAL { ?e a ?t . FILTER(?t IN (kzo:Person, kzo:Country, kzo:City, kzo:Region, kzo:Organization,
                                      kzo:Agreement, kzo:Event, kzo:Other))
             BIND(STRAFTER(STR(?t), STR(kzo:)) AS ?type) }
  OPTIONAL { ?e owl:sameAs ?wdIri . FILTER(STRSTARTS(STR(?wdIri), STR(wd:)))
             BIND(STRAFTER(STR(?wdIri), STR(wd:)) AS ?wd) }
}
"""
ALIAS_QUERY = "SELECT DISTINCT ?e ?alias WHERE { ?e skos:altLabel ?alias }"


class ViewError(ValueError):
    """A view that cannot be drawn: an unknown entity or relation, a bad date."""


# ---- the projection ------------------------------------------------------------------------------
def to_networkx(store: "KGStore", relations: set[str] | None = None) -> nx.MultiDiGraph:
    """Entities (typed, labelled, with aliases and Wikidata ids) and one edge per
    (subject, object, relation), carrying every evidence sentence with its article and date."""
    g = nx.MultiDiGraph()
    for row in store.query(NODE_QUERY):
        e = row["e"].value
        if e not in g:
            g.add_node(e, label=row["label"].value, type="Other")
        if row["type"] is not None and row["type"].value != "Other":
            g.nodes[e]["type"] = row["type"].value
        if row["wd"] is not None and row["wd"].value:
            g.nodes[e]["wikidata"] = row["wd"].value
    aliases: dict[str, set[str]] = defaultdict(set)
    for row in store.query(ALIAS_QUERY):
        aliases[row["e"].value].add(row["alias"].value)
    for e, names in aliases.items():
        if e in g:
            g.nodes[e]["aliases"] = sorted(names - {g.nodes[e]["label"]})
    edges: dict[tuple[str, str, str], dict] = {}
    evidence: dict[tuple[str, str, str], list] = defaultdict(list)
    for row in store.query(EDGE_QUERY):
        rel = row["p"].value.rsplit("#", 1)[1]
        if relations and rel not in relations:
            continue
        s = row["s"].value
        claim = None
        if rel == "said":
            o = row["o"].value
            claim = row["claim"].value if row["claim"] else ""
            g.add_node(o, label=_short(claim), type="Claim", text=claim)
        elif rel == "holdsPosition" and row["org"] is not None:
            o = row["org"].value
        else:
            o = row["o"].value
        key = (s, o, rel)
        label = row["role"].value if rel == "holdsPosition" and row["role"] else rel
        attrs = edges.setdefault(key, {"relation": rel, "label": label})
        if claim:
            attrs["claim"] = claim
        when = row["date"] or row["published"]
        item = {"text": row["sentence"].value,
                "article": row["headline"].value if row["headline"] else row["article"].value,
                "date": when.value if when else None}
        if item not in evidence[key]:
            evidence[key].append(item)
    for (s, o, rel), attrs in sorted(edges.items()):
        for node in (s, o):
            if node not in g:
                g.add_node(node, label=node.rsplit("/", 1)[-1], type="Other")
        ev = sorted(evidence[(s, o, rel)], key=lambda e: (e["article"], e["text"]))
        g.add_edge(s, o, key=rel, evidence=ev, sources=len({e["article"] for e in ev}), **attrs)
    return g


def _short(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


# ---- finding an entity -----------------------------------------------------------------------------
def _fold(text: str) -> str:
    return " ".join(str(text).casefold().split())


def find_node(g: nx.Graph, ref: str) -> str:
    """The node an entity reference denotes: its IRI (full, <...> or kzr:...), its label, one
    of its aliases, or a person's surname (case-insensitive). Raises ViewError when none or
    several match."""
    ref = ref.strip()
    iri = ref[1:-1] if ref.startswith("<") and ref.endswith(">") else ref
    if iri.startswith("kzr:"):
        iri = KZR_IRI + iri[4:]
    if iri in g:
        return iri
    want = _fold(ref)
    by_label = [n for n, d in g.nodes(data=True) if d.get("type") != "Claim" and _fold(d.get("label", "")) == want]
    if not by_label:
        by_label = [n for n, d in g.nodes(data=True)
                    if d.get("type") != "Claim" and want in {_fold(a) for a in d.get("aliases", ())}]
    if not by_label and " " not in want:  # a surname alone: 'Mishustin'
        by_label = [n for n, d in g.nodes(data=True)
                    if d.get("type") == "Person" and _fold(d.get("label", "")).split()[-1:] == [want]]
    if len(by_label) == 1:
        return by_label[0]
    if len(by_label) > 1:
        names = ", ".join(sorted(f"{g.nodes[n]['label']} <{n}>" for n in by_label))
        raise ViewError(f"{ref!r} names several entities: {names}")
    names: dict[str, str] = {}
    for n, d in g.nodes(data=True):
        if d.get("type") != "Claim":
            for name in (d.get("label", ""), *d.get("aliases", ())):
                names.setdefault(_fold(name), d.get("label", n))
    close = sorted({names[c] for c in difflib.get_close_matches(want, list(names), n=5, cutoff=0.6)})
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    raise ViewError(f"no entity called {ref!r}{hint}")


# ---- filters -------------------------------------------------------------------------------------------
def parse_relations(text: str | Iterable[str] | None) -> set[str] | None:
    """'visited,said' -> {'visited', 'said'}; unknown names are an error."""
    if text is None:
        return None
    items = text.split(",") if isinstance(text, str) else list(text)
    rels = {r.strip() for r in items if r.strip()}
    bad = sorted(rels - set(RELATIONS))
    if bad:
        raise ViewError(f"unknown relation {', '.join(bad)} (choose from {', '.join(RELATIONS)})")
    return rels or None


def parse_date(text: str | None, *, end: bool = False) -> date | None:
    """YYYY, YYYY-MM or YYYY-MM-DD; a partial date means its first day (``end``: its last)."""
    if text is None or text == "":
        return None
    m = re.fullmatch(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", text.strip())
    if not m:
        raise ViewError(f"bad date {text!r}: use YYYY, YYYY-MM or YYYY-MM-DD")
    y, mo, d = int(m.group(1)), m.group(2), m.group(3)
    try:
        if d:
            return date(y, int(mo), int(d))
        if mo:
            mo = int(mo)
            if end:
                nxt = date(y + (mo == 12), mo % 12 + 1, 1)
                return date.fromordinal(nxt.toordinal() - 1)
            return date(y, mo, 1)
        return date(y, 12, 31) if end else date(y, 1, 1)
    except ValueError as exc:
        raise ViewError(f"bad date {text!r}: {exc}") from None


def _span(value: str | None) -> tuple[date, date] | None:
    if not value:
        return None
    try:
        return parse_date(value[:10]), parse_date(value[:10], end=True)
    except ViewError:
        return None


def filter_edges(g: nx.MultiDiGraph, relations: set[str] | None = None, since: date | None = None,
                 until: date | None = None, min_sources: int = 1) -> nx.MultiDiGraph:
    """A copy keeping the edges of these relations, with evidence dated within [since, until]
    (a visit's date, else its article's date; a partial date counts if it overlaps; undated
    evidence is dropped when a range is given) and stated by at least ``min_sources`` articles."""
    out = nx.MultiDiGraph()
    out.add_nodes_from(g.nodes(data=True))
    for u, v, k, d in g.edges(keys=True, data=True):
        if relations and d.get("relation") not in relations:
            continue
        ev = list(d.get("evidence") or [])
        if since or until:
            kept = []
            for item in ev:
                span = _span(item.get("date"))
                if span and (since is None or span[1] >= since) and (until is None or span[0] <= until):
                    kept.append(item)
            ev = kept
            if not ev:
                continue
        sources = len({e.get("article") for e in ev}) if ev else d.get("sources", 0)
        if sources < min_sources:
            continue
        out.add_edge(u, v, key=k, **{**d, "evidence": ev, "sources": sources})
    return out


def focus(g: nx.MultiDiGraph, center: str, depth: int = 1) -> nx.MultiDiGraph:
    """The ego graph: nodes within ``depth`` links of ``center`` (either direction)."""
    if depth < 0:
        raise ViewError("--depth must be 0 or more")
    return nx.MultiDiGraph(nx.ego_graph(g, center, radius=depth, undirected=True))


def drop_isolates(g: nx.MultiDiGraph, keep: Iterable[str] = ()) -> nx.MultiDiGraph:
    keep = set(keep)
    out = g.copy()
    out.remove_nodes_from([n for n in list(nx.isolates(out)) if n not in keep])
    return out


def simple_undirected(g: nx.Graph) -> nx.Graph:
    """Parallel edges merged (weight = their number of distinct sources, at least 1)."""
    s = nx.Graph()
    s.add_nodes_from(g.nodes(data=True))
    for u, v, d in g.edges(data=True):
        if u == v:
            continue
        w = max(int(d.get("sources") or 1), 1)
        if s.has_edge(u, v):
            s[u][v]["weight"] += w
        else:
            s.add_edge(u, v, weight=w)
    return s


def centrality(g: nx.Graph) -> dict[str, float]:
    """PageRank over the undirected graph (edges weighted by their sources); 0 for none."""
    if g.number_of_nodes() == 0:
        return {}
    s = simple_undirected(g)
    if s.number_of_edges() == 0:
        return {n: 0.0 for n in g}
    return nx.pagerank(s, weight="weight")


@dataclass
class Capped:
    graph: nx.MultiDiGraph
    dropped_nodes: list[str] = field(default_factory=list)
    dropped_edges: int = 0


def cap(g: nx.MultiDiGraph, max_nodes: int | None, keep: Iterable[str] = ()) -> Capped:
    """Keep the ``max_nodes`` most central nodes (PageRank; ``keep`` always stays)."""
    if not max_nodes or g.number_of_nodes() <= max_nodes:
        return Capped(g)
    if max_nodes < 1:
        raise ViewError("--max-nodes must be at least 1")
    score = centrality(g)
    keep = [n for n in keep if n in g]
    order = sorted(g.nodes, key=lambda n: (n not in keep, -score.get(n, 0.0), str(g.nodes[n].get("label", n)), n))
    chosen = set(order[:max_nodes])
    sub = nx.MultiDiGraph(g.subgraph(chosen))
    dropped = order[max_nodes:]
    return Capped(sub, dropped, g.number_of_edges() - sub.number_of_edges())


# ---- one call for kg viz ---------------------------------------------------------------------------------
@dataclass
class View:
    graph: nx.MultiDiGraph
    notice: str | None  # what was left out, for the page and the console
    total_nodes: int
    total_edges: int
    focus: str | None = None


def view(g: nx.MultiDiGraph, *, focus_on: str | None = None, depth: int = 1,
         relations: str | Iterable[str] | set[str] | None = None, since: str | None = None,
         until: str | None = None, min_sources: int = 1,
         max_nodes: int | None = DEFAULT_MAX_NODES) -> View:
    """Filter, focus and cap a graph for drawing; sizes nodes by centrality (``size_score``)."""
    rels = parse_relations(relations) if not isinstance(relations, set) else parse_relations(sorted(relations))
    start, end = parse_date(since), parse_date(until, end=True)
    if start and end and start > end:
        raise ViewError(f"--since {since} is after --until {until}")
    if min_sources < 1:
        raise ViewError("--min-sources must be at least 1")
    center = find_node(g, focus_on) if focus_on else None
    h = filter_edges(g, rels, start, end, min_sources)
    if center is not None:
        h = focus(h, center, depth)
    h = drop_isolates(h, keep=[center] if center else [])
    total_nodes, total_edges = h.number_of_nodes(), h.number_of_edges()
    capped = cap(h, max_nodes, keep=[center] if center else [])
    out = capped.graph
    for n, s in centrality(out).items():
        out.nodes[n]["size_score"] = s
    notice = None
    if capped.dropped_nodes:
        names = [str(g.nodes[n].get("label", n)) for n in capped.dropped_nodes]
        sample = "; ".join(_short(x, 40) for x in names[:8]) + ("; …" if len(names) > 8 else "")
        notice = (f"Showing the {out.number_of_nodes()} most central of {total_nodes} nodes "
                  f"(--max-nodes {max_nodes}): left out {len(names)} nodes and "
                  f"{capped.dropped_edges} edges, e.g. {sample}")
    return View(out, notice, total_nodes, total_edges, center)


# ---- GraphML / GEXF for Gephi and Cytoscape ------------------------------------------------------------------
EXPORT_FORMATS = ("graphml", "gexf")


def flatten(g: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """A copy whose attributes are plain strings and numbers: evidence lists become one
    text (sentences joined by ' | ') plus counts, aliases a '; '-joined string."""
    out = nx.MultiDiGraph()
    score = centrality(g)
    for n, d in g.nodes(data=True):
        attrs = {"label": str(d.get("label", n)), "type": str(d.get("type", "Other")),
                 "iri": str(n), "pagerank": float(score.get(n, 0.0))}
        if d.get("wikidata"):
            attrs["wikidata"] = str(d["wikidata"])
        if d.get("aliases"):
            attrs["aliases"] = "; ".join(map(str, d["aliases"]))
        if d.get("text"):
            attrs["text"] = str(d["text"])
        out.add_node(str(n), **attrs)
    for u, v, k, d in g.edges(keys=True, data=True):
        ev = list(d.get("evidence") or [])
        attrs = {"relation": str(d.get("relation", k)), "label": str(d.get("label", k)),
                 "sources": int(d.get("sources") or 0), "mentions": len(ev),
                 "evidence": " | ".join(str(e.get("text", "")) for e in ev),
                 "articles": " | ".join(sorted({str(e.get("article", "")) for e in ev})),
                 "dates": " | ".join(sorted({str(e["date"]) for e in ev if e.get("date")}))}
        if d.get("claim"):
            attrs["claim"] = str(d["claim"])
        out.add_edge(str(u), str(v), key=str(k), **attrs)
    return out


def _xml_safe(g: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """XML 1.0 forbids most control characters; article text may hold them."""
    bad = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
    for _, d in g.nodes(data=True):
        for k, v in d.items():
            if isinstance(v, str):
                d[k] = bad.sub(" ", v)
    for _, _, d in g.edges(data=True):
        for k, v in d.items():
            if isinstance(v, str):
                d[k] = bad.sub(" ", v)
    return g


def write_network(g: nx.MultiDiGraph, fmt: str, path: str | Path) -> tuple[int, int]:
    """Write GraphML or GEXF; returns (nodes, edges)."""
    if fmt not in EXPORT_FORMATS:
        raise ViewError(f"unknown network format {fmt!r} (choose from {', '.join(EXPORT_FORMATS)})")
    flat = _xml_safe(flatten(g))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "graphml":
        nx.write_graphml(flat, path, encoding="utf-8", named_key_ids=True)
    else:
        nx.write_gexf(flat, path, encoding="utf-8")
    return flat.number_of_nodes(), flat.number_of_edges()
