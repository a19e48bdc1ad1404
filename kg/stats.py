"""``kg stats``: what the graph holds and who sits at its centre.

- counts: articles, entities by type, fact mentions and distinct facts by relation;
- top entities by degree (fact links), PageRank and betweenness over the entity network
  (networkx; claims are left out of the rankings: they are leaves hanging off their speakers);
- communities (networkx greedy modularity) of the entity network;
- a Kazakhstan–Russia summary: fact mentions whose subject is on one side and whose object
  is on the other, by relation and year. A side is the country, every city, body or person the
  gazetteer places in it, and every person the graph says holds an office in it (or in a body
  of it). The object is the place visited, the person met, the body an office is in, or an
  entity a claim mentions; the year is the visit's date, else the article's, else "undated".
"""
from __future__ import annotations

from collections import Counter, defaultdict
from typing import TYPE_CHECKING, Any

import networkx as nx

from kg.network import RELATIONS, centrality, simple_undirected, to_networkx

if TYPE_CHECKING:  # pragma: no cover
    from kg.store import KGStore

KZR_IRI = "https://w3id.org/kzru-kg/resource/"
SIDES = {"Kazakhstan": "country/kazakhstan", "Russia": "country/russia"}

COUNT_QUERY = """
SELECT ?p (COUNT(DISTINCT ?a) AS ?mentions) (COUNT(DISTINCT ?f) AS ?facts) WHERE {
  ?a a kzo:Assertion ; rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o .
  BIND(CONCAT(STR(?s), " ", STR(?p), " ", STR(?o)) AS ?f)
} GROUP BY ?p
"""
ARTICLES_QUERY = "SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { ?g a schema:NewsArticle }"
ASSERTION_QUERY = """
SELECT DISTINCT ?a ?s ?p ?t ?date ?published WHERE {
  ?a a kzo:Assertion ; rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o ; prov:wasDerivedFrom ?g .
  { ?o kzo:mentions ?t } UNION { ?o kzo:positionIn ?t }
  UNION { ?a rdf:predicate ?direct ; rdf:object ?t . FILTER(?direct IN (kzo:visited, kzo:metWith, kzo:memberOf)) }
  OPTIONAL { ?a kzo:about/kzo:date ?date }
  OPTIONAL { ?g schema:datePublished ?published }
}
"""
POSITION_QUERY = "SELECT DISTINCT ?person ?in WHERE { ?person kzo:holdsPosition/kzo:positionIn ?in }"


def _key(iri: str) -> str:
    """kzr:person_vladimir-putin -> person/vladimir-putin (the gazetteer's key)."""
    return iri[len(KZR_IRI):].replace("_", "/", 1) if iri.startswith(KZR_IRI) else iri


def _iri(key: str) -> str:
    return KZR_IRI + key.replace("/", "_", 1)


def entity_network(g: nx.MultiDiGraph) -> nx.Graph:
    """Entities only (claims dropped), undirected, parallel facts merged and weighted."""
    ents = g.subgraph(n for n, d in g.nodes(data=True) if d.get("type") != "Claim")
    return simple_undirected(ents)


def sides(store: "KGStore", gazetteer=None) -> dict[str, set[str]]:
    """Entity IRI -> the sides ('Kazakhstan', 'Russia') it belongs to."""
    if gazetteer is None:
        from kg.gazetteer import load_gazetteer

        gazetteer = load_gazetteer()
    country_side = {_iri(k): side for side, k in SIDES.items()}
    out: dict[str, set[str]] = defaultdict(set)
    for iri, side in country_side.items():
        out[iri].add(side)
    for key, entry in gazetteer.entries.items():
        for side, ckey in SIDES.items():
            if entry.country == ckey:
                out[_iri(key)].add(side)
    for row in store.query(POSITION_QUERY):  # office in the country, or in one of its bodies
        where = row["in"].value
        for side in set(out.get(where, ())):
            out[row["person"].value].add(side)
    return dict(out)


def kz_ru(store: "KGStore", gazetteer=None) -> dict[str, Any]:
    belongs = sides(store, gazetteer)
    seen: set[tuple] = set()
    counts: Counter = Counter()
    for row in store.query(ASSERTION_QUERY):
        s, t = row["s"].value, row["t"].value
        rel = row["p"].value.rsplit("#", 1)[-1]
        when = row["date"] or row["published"]
        year = when.value[:4] if when is not None and when.value[:4].isdigit() else "undated"
        for a in sorted(belongs.get(s, ())):
            for b in sorted(belongs.get(t, ())):
                key = (row["a"].value, a, b)
                if a != b and key not in seen:
                    seen.add(key)
                    counts[(year, rel, f"{a} → {b}")] += 1
    rows = [{"year": y, "relation": r, "direction": d, "facts": n}
            for (y, r, d), n in sorted(counts.items(), key=lambda kv: (kv[0][0] == "undated", kv[0]))]
    by_relation = Counter()
    for r in rows:
        by_relation[r["relation"]] += r["facts"]
    return {"rows": rows, "by_relation": dict(sorted(by_relation.items())),
            "total": sum(by_relation.values())}


def compute(store: "KGStore", top: int = 10, gazetteer=None) -> dict[str, Any]:
    """Every number ``kg stats`` prints, as plain JSON-able data."""
    g = to_networkx(store)
    ent = entity_network(g)
    labels = {n: str(d.get("label", n)) for n, d in g.nodes(data=True)}
    types = {n: str(d.get("type", "Other")) for n, d in g.nodes(data=True)}

    mentions, facts = {}, {}
    for row in store.query(COUNT_QUERY):
        rel = row["p"].value.rsplit("#", 1)[-1]
        mentions[rel], facts[rel] = int(row["mentions"].value), int(row["facts"].value)
    articles = next(iter(store.query(ARTICLES_QUERY)))["n"].value
    entity_types = Counter(types[n] for n in ent)

    degree = {n: g.degree(n) for n in ent}
    pagerank = centrality(ent)
    between = nx.betweenness_centrality(ent) if ent.number_of_nodes() > 2 else {n: 0.0 for n in ent}

    def ranked(score: dict[str, float], digits: int | None) -> list[dict]:
        order = sorted(score, key=lambda n: (-score[n], labels[n]))[:top]
        return [{"entity": labels[n], "type": types[n], "iri": n,
                 "score": round(score[n], digits) if digits is not None else score[n]} for n in order]

    connected = ent.subgraph(n for n in ent if ent.degree(n) > 0)
    communities = []
    if connected.number_of_edges():
        found = nx.algorithms.community.greedy_modularity_communities(connected, weight="weight")
        for i, members in enumerate(sorted(found, key=lambda c: (-len(c), min(labels[m] for m in c)))):
            if len(members) < 2:
                continue
            ordered = sorted(members, key=lambda n: (-pagerank.get(n, 0.0), labels[n]))
            communities.append({"id": i + 1, "size": len(members),
                                "members": [labels[m] for m in ordered]})

    return {
        "counts": {
            "articles": int(articles),
            "entities": ent.number_of_nodes(),
            "entities_by_type": dict(sorted(entity_types.items())),
            "claims": sum(1 for n in g if types[n] == "Claim"),
            "fact_mentions": {r: mentions.get(r, 0) for r in RELATIONS},
            "distinct_facts": {r: facts.get(r, 0) for r in RELATIONS},
            "entity_links": ent.number_of_edges(),
        },
        "top_degree": ranked({n: float(d) for n, d in degree.items()}, 0),
        "top_pagerank": ranked(pagerank, 4),
        "top_betweenness": ranked(between, 4),
        "communities": communities,
        "kazakhstan_russia": kz_ru(store, gazetteer),
    }


def render(rep: dict[str, Any], console) -> None:
    """Print a report from :func:`compute` as rich tables."""
    from rich.table import Table
    from rich.text import Text

    c = rep["counts"]
    t = Table(title="kg stats: counts")
    t.add_column("what")
    t.add_column("count", justify="right")
    t.add_row("articles", str(c["articles"]))
    t.add_row("entities", str(c["entities"]))
    for k, v in c["entities_by_type"].items():
        t.add_row(f"  {k}", str(v))
    t.add_row("claims", str(c["claims"]))
    for rel in c["fact_mentions"]:
        t.add_row(f"{rel}: distinct facts / mentions",
                  f"{c['distinct_facts'][rel]} / {c['fact_mentions'][rel]}")
    t.add_row("links between entities", str(c["entity_links"]))
    console.print(t)

    t = Table(title="central entities")
    for col in ("#", "degree", "PageRank", "betweenness"):
        t.add_column(col, justify="right" if col == "#" else "left")
    ranks = (rep["top_degree"], rep["top_pagerank"], rep["top_betweenness"])
    for i in range(max(map(len, ranks), default=0)):
        cells = [Text(str(i + 1))]
        for rank, fmt in zip(ranks, ("{:.0f}", "{:.4f}", "{:.4f}")):
            cells.append(Text(f"{rank[i]['entity']} ({fmt.format(rank[i]['score'])})") if i < len(rank) else Text(""))
        t.add_row(*cells)
    console.print(t)

    t = Table(title="communities (greedy modularity)")
    t.add_column("#", justify="right")
    t.add_column("size", justify="right")
    t.add_column("members, most central first")
    for com in rep["communities"]:
        t.add_row(str(com["id"]), str(com["size"]), Text(", ".join(com["members"])))
    console.print(t)

    kr = rep["kazakhstan_russia"]
    t = Table(title=f"Kazakhstan–Russia: {kr['total']} fact mentions between the two sides")
    for col in ("year", "relation", "direction", "facts"):
        t.add_column(col, justify="right" if col == "facts" else "left")
    for r in kr["rows"]:
        t.add_row(r["year"], r["relation"], r["direction"], str(r["facts"]))
    console.print(t)
