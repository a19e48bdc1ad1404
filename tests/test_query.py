"""kg query: the named-query library, bound parameters, output formats, errors, timeouts."""
from __future__ import annotations

import csv
import io
import json
import re
import shutil

import pyoxigraph as ox
import pytest
from typer.testing import CliRunner

from kg import query as q
from kg.cli import app

runner = CliRunner()
NAMED = sorted(q.named_queries())
HOSTILE = [
    'x" } ?s ?p ?o { "',
    "x' } UNION { ?s ?p ?o } #",
    '"} } ; DROP ALL ; SELECT * WHERE { {"',
    "}",
    "Vladimir Putin\" || true || \"",
    "{ ?s ?p ?o }",
    "Путин 🇰🇿 \u202eRTL",
]


def rows(store_path, query=None, text=None, **params):
    if query is not None:
        text, params, entity = q.prepare(None, None, query, [f"{k}={v}" for k, v in params.items()])
    else:
        entity = []
    out = q.run_isolated(store_path, text, params, entity_params=entity, timeout=0)  # same code path, no worker
    return [dict(zip(out.table.variables, r)) for r in out.table.rows]


# ---- the library ------------------------------------------------------------------------------------
def test_query_library_has_the_promised_queries():
    assert {"visits-timeline", "claims-by-speaker", "memberships", "who-met-whom",
            "most-mentioned", "evidence", "kz-ru-by-year"} <= set(NAMED)


@pytest.mark.parametrize("name", NAMED)
def test_query_named_query_documented_and_returns_rows(name, seed_store_path):
    nq = q.named_queries()[name]
    assert len(nq.description) > 30
    select = nq.text[nq.text.index("SELECT"):nq.text.index("WHERE")]
    for p in nq.params:  # each parameter is documented and is a result column
        assert p.description and f"?{p.name}" in select, p
    assert rows(seed_store_path, name), f"{name} returned no rows on the seeds"


def test_query_list_shows_descriptions_and_params(seed_store_path):
    result = runner.invoke(app, ["query", "--list"])
    assert result.exit_code == 0
    for name in NAMED:
        assert name in result.output
    assert "--param speaker=" in result.output and "--param predicate=" in result.output


def test_query_visits_timeline_in_date_order(seed_store_path):
    got = rows(seed_store_path, "visits-timeline")
    dated = [r["date"] for r in got if r["date"]]
    assert dated == sorted(dated) and got[-1]["date"] is None  # undated last
    assert {"date": "2022-11-28", "visitor": "Kassym-Jomart Tokayev", "place": "Moscow"}.items() <= \
        next(r for r in got if r["date"] == "2022-11-28").items()


def test_query_claims_by_speaker_accepts_an_alias(seed_store_path):
    got = rows(seed_store_path, "claims-by-speaker", speaker="putin")
    assert got and {r["speaker"] for r in got} == {"Vladimir Putin"}
    assert any("special character" in r["claim"] for r in got)
    assert len(rows(seed_store_path, "claims-by-speaker")) > len(got)


def test_query_memberships_by_acronym(seed_store_path):
    got = rows(seed_store_path, "memberships", organisation="CSTO")
    assert {r["organisation"] for r in got} == {"Collective Security Treaty Organization"}
    assert {"Kazakhstan", "Russia"} <= {r["member"] for r in got}


def test_query_who_met_whom_lists_both_participants(seed_store_path):
    got = rows(seed_store_path, "who-met-whom", person="Tokaev")
    assert {r["person"] for r in got} == {"Kassym-Jomart Tokayev"}
    assert "Vladimir Putin" in {r["other"] for r in got}
    putin = rows(seed_store_path, "who-met-whom", person="Vladimir Putin")
    assert "Kassym-Jomart Tokayev" in {r["other"] for r in putin}


def test_query_most_mentioned_by_type(seed_store_path):
    top = rows(seed_store_path, "most-mentioned")
    assert top[0]["entity"] == "Kassym-Jomart Tokayev"
    countries = rows(seed_store_path, "most-mentioned", type="Country")
    assert countries and {r["type"] for r in countries} == {"Country"}
    assert "Kazakhstan" in {r["entity"] for r in countries}


def test_query_evidence_for_one_fact(seed_store_path):
    got = rows(seed_store_path, "evidence", subject="Tokayev", predicate="visited")
    assert got and {r["predicate"] for r in got} == {"visited"}
    moscow = [r for r in got if r["object"] == "Moscow"]
    assert moscow and any("visit to Moscow" in r["sentence"] for r in moscow)
    assert all(r["sentence"] and r["extractor"] for r in got)
    assert all(re.search(r"#char=\d+,\d+", r["span"]) for r in got)


def test_query_kz_ru_by_year_counts_both_directions(seed_store_path):
    got = rows(seed_store_path, "kz-ru-by-year")
    keys = {(r["year"], r["relation"], r["direction"]) for r in got}
    assert ("2022", "visited", "Kazakhstan → Russia") in keys  # Tokayev in Moscow
    assert ("2023", "visited", "Russia → Kazakhstan") in keys  # Putin to Astana
    assert all(int(r["facts"]) >= 1 and r["year"] for r in got)
    only = rows(seed_store_path, "kz-ru-by-year", relation="visited")
    assert only and {r["relation"] for r in only} == {"visited"}


def test_query_visits_timeline_modality_keeps_only_that_modality(seed_store_path):
    planned = rows(seed_store_path, "visits-timeline", modality="planned")
    assert planned and {r["modality"] for r in planned} == {"planned"}
    assert {"date": "2023-11-09", "visitor": "Vladimir Putin", "place": "Kazakhstan"}.items() <= planned[0].items()
    occurred = rows(seed_store_path, "visits-timeline", modality="occurred")
    assert {r["modality"] for r in occurred} == {"occurred"}
    assert len(planned) + len(occurred) == len(rows(seed_store_path, "visits-timeline"))


def test_query_kz_ru_by_year_year_param(seed_store_path):
    got = rows(seed_store_path, "kz-ru-by-year", year="2023")
    assert got and {r["year"] for r in got} == {"2023"}
    assert ("visited", "Russia → Kazakhstan") in {(r["relation"], r["direction"]) for r in got}


def test_query_who_met_whom_counts_articles_per_pair(seed_store_path):
    got = {(r["person"], r["other"]): int(r["sources"]) for r in rows(seed_store_path, "who-met-whom")}
    assert got[("Kassym-Jomart Tokayev", "Vladimir Putin")] == got[("Vladimir Putin", "Kassym-Jomart Tokayev")] >= 3
    assert all(got[(b, a)] == n for (a, b), n in got.items())  # listed under each participant


# ---- the shipped queries against straightforward references ----------------------------------
#: the named queries as first written: each pattern over the union default graph, no thought
#: for speed. Reference semantics: the shipped queries must return the same rows (visits-timeline
#: with its modality taken as the visit's own, so that the parameter filters).
REFERENCE = {
    "claims-by-speaker": """\
SELECT ?speaker (MIN(?published) AS ?reported) ?claim ?headline ?sentence
WHERE {
  ?c a kzo:Claim ; kzo:speaker ?s ; kzo:text ?claim .
  ?assertion kzo:about ?c ; prov:wasDerivedFrom ?article ; kzo:evidenceText ?sentence .
  OPTIONAL { ?article schema:headline ?headline }
  OPTIONAL { ?article schema:datePublished ?published }
  GRAPH kzr:entities { ?s rdfs:label ?speaker }
}
GROUP BY ?speaker ?claim ?headline ?sentence
ORDER BY ?speaker (!BOUND(?reported)) ?reported ?claim
""",
    "evidence": """\
SELECT DISTINCT ?subject ?predicate ?object ?headline ?sentence ?span ?extractor ?confidence
WHERE {
  VALUES (?p ?predicate) {
    (kzo:visited "visited") (kzo:said "said") (kzo:memberOf "memberOf")
    (kzo:metWith "metWith") (kzo:holdsPosition "holdsPosition")
  }
  ?a a kzo:Assertion ; rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o ;
     prov:wasDerivedFrom ?article ; kzo:evidenceText ?sentence ; kzo:evidenceSpan ?span ;
     kzo:extractor ?extractor ; kzo:confidence ?confidence .
  OPTIONAL { ?article schema:headline ?headline }
  GRAPH kzr:entities { ?s rdfs:label ?subject }
  OPTIONAL { GRAPH kzr:entities { ?o rdfs:label ?ol } }
  OPTIONAL { ?o kzo:text ?claim }
  OPTIONAL { ?o kzo:positionIn ?pin . GRAPH kzr:entities { ?pin rdfs:label ?pl } OPTIONAL { ?o kzo:role ?role } }
  BIND(COALESCE(?ol, ?claim, IF(BOUND(?role), CONCAT(?role, ", ", ?pl), ?pl)) AS ?object)
}
ORDER BY ?subject ?predicate ?article ?span
""",
    "kz-ru-by-year": """\
SELECT ?year ?relation ?direction (COUNT(DISTINCT ?a) AS ?facts) (COUNT(DISTINCT ?article) AS ?articles)
WHERE {
  VALUES (?p ?relation) { (kzo:visited "visited") (kzo:said "said") (kzo:metWith "metWith")
                          (kzo:holdsPosition "holdsPosition") (kzo:memberOf "memberOf") }
  ?a a kzo:Assertion ; rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o ; prov:wasDerivedFrom ?article .
  { ?o kzo:mentions ?t } UNION { ?o kzo:positionIn ?t }
  UNION { ?a rdf:predicate ?direct ; rdf:object ?t . FILTER(?direct IN (kzo:visited, kzo:metWith, kzo:memberOf)) }
  { VALUES (?s ?from) { (kzr:country_kazakhstan "Kazakhstan") (kzr:city_astana "Kazakhstan")
                        (kzr:city_almaty "Kazakhstan") (kzr:city_shymkent "Kazakhstan")
                        (kzr:country_russia "Russia") (kzr:city_moscow "Russia")
                        (kzr:city_saint-petersburg "Russia") (kzr:city_novosibirsk "Russia") } }
  UNION
  { VALUES (?sc ?from) { (kzr:country_kazakhstan "Kazakhstan") (kzr:country_russia "Russia") }
    ?s kzo:holdsPosition/kzo:positionIn ?sc }
  { VALUES (?t ?to) { (kzr:country_kazakhstan "Kazakhstan") (kzr:city_astana "Kazakhstan")
                      (kzr:city_almaty "Kazakhstan") (kzr:city_shymkent "Kazakhstan")
                      (kzr:country_russia "Russia") (kzr:city_moscow "Russia")
                      (kzr:city_saint-petersburg "Russia") (kzr:city_novosibirsk "Russia") } }
  UNION
  { VALUES (?tc ?to) { (kzr:country_kazakhstan "Kazakhstan") (kzr:country_russia "Russia") }
    ?t kzo:holdsPosition/kzo:positionIn ?tc }
  FILTER(?from != ?to)
  OPTIONAL { ?a kzo:about/kzo:date ?vd }
  OPTIONAL { ?article schema:datePublished ?pd }
  BIND(COALESCE(SUBSTR(STR(COALESCE(?vd, ?pd)), 1, 4), "undated") AS ?year)
  BIND(CONCAT(?from, " → ", ?to) AS ?direction)
}
GROUP BY ?year ?relation ?direction
ORDER BY ?year ?relation ?direction
""",
    "memberships": """\
SELECT ?organisation ?member (COUNT(DISTINCT ?article) AS ?sources)
WHERE {
  ?a a kzo:Assertion ; rdf:predicate kzo:memberOf ; rdf:subject ?m ; rdf:object ?o ;
     prov:wasDerivedFrom ?article .
  GRAPH kzr:entities { ?m rdfs:label ?member . ?o rdfs:label ?organisation }
}
GROUP BY ?organisation ?member
ORDER BY ?organisation ?member
""",
    "most-mentioned": """\
SELECT ?entity ?type (COUNT(DISTINCT ?a) AS ?facts) (COUNT(DISTINCT ?article) AS ?articles)
WHERE {
  VALUES (?t ?type) {
    (kzo:Person "Person") (kzo:Country "Country") (kzo:City "City") (kzo:Region "Region")
    (kzo:Organization "Organization") (kzo:Agreement "Agreement") (kzo:Event "Event") (kzo:Other "Other")
  }
  ?a a kzo:Assertion ; prov:wasDerivedFrom ?article .
  { ?a rdf:subject ?e } UNION { ?a rdf:object ?e } UNION { ?a rdf:object/kzo:positionIn ?e }
  ?e a ?t .
  GRAPH kzr:entities { ?e rdfs:label ?entity }
}
GROUP BY ?entity ?type
ORDER BY DESC(?facts) ?entity
LIMIT 25
""",
    "visits-timeline": """\
SELECT ?date ?visitor ?place ?modality (COUNT(DISTINCT ?article) AS ?sources)
WHERE {
  ?v a kzo:Visit ; kzo:agent ?a ; kzo:place ?p .
  OPTIONAL { ?v kzo:date ?date }
  OPTIONAL { ?v kzo:modality ?m }
  ?assertion kzo:about ?v ; prov:wasDerivedFrom ?article .
  GRAPH kzr:entities { ?a rdfs:label ?visitor . ?p rdfs:label ?place }
  BIND(?m AS ?modality)
}
GROUP BY ?date ?visitor ?place ?modality
ORDER BY (!BOUND(?date)) STR(?date) ?visitor ?place
""",
    "who-met-whom": """\
SELECT ?person ?other (SAMPLE(?ch) AS ?channel) (COUNT(DISTINCT ?article) AS ?sources)
WHERE {
  ?a a kzo:Assertion ; rdf:predicate kzo:metWith ; rdf:subject ?x ; rdf:object ?y ;
     prov:wasDerivedFrom ?article .
  OPTIONAL { ?a kzo:channel ?ch }
  { GRAPH kzr:entities { ?x rdfs:label ?person . ?y rdfs:label ?other } }
  UNION
  { GRAPH kzr:entities { ?y rdfs:label ?person . ?x rdfs:label ?other } }
}
GROUP BY ?person ?other
ORDER BY DESC(?sources) ?person ?other
""",
}

#: the output columns a query's ORDER BY sorts on: rows equal on them may come in any order
ORDER_KEYS = {"claims-by-speaker": ["speaker", "reported", "claim"], "evidence": ["subject", "predicate", "span"],
              "kz-ru-by-year": ["year", "relation", "direction"], "memberships": ["organisation", "member"],
              "most-mentioned": ["facts", "entity"], "visits-timeline": ["date", "visitor", "place"],
              "who-met-whom": ["sources", "person", "other"]}
#: each named query bare and with its parameters (names as a user writes them)
REFERENCE_CASES = [
    ("claims-by-speaker", {}), ("claims-by-speaker", {"speaker": "Putin"}),
    ("evidence", {}), ("evidence", {"subject": "Tokayev", "predicate": "visited"}),
    ("evidence", {"predicate": "holdsPosition"}),
    ("kz-ru-by-year", {}), ("kz-ru-by-year", {"relation": "said"}), ("kz-ru-by-year", {"year": "2022"}),
    ("memberships", {}), ("memberships", {"organisation": "CSTO"}), ("memberships", {"member": "Russia"}),
    ("most-mentioned", {}), ("most-mentioned", {"type": "Country"}),
    ("visits-timeline", {}), ("visits-timeline", {"visitor": "Tokayev"}), ("visits-timeline", {"place": "Moscow"}),
    ("visits-timeline", {"modality": "planned"}),
    ("who-met-whom", {}), ("who-met-whom", {"person": "Putin"}),
]


def _in_order_blocks(name: str, got: list[dict]) -> list[tuple]:
    """Runs of rows equal on the ORDER BY columns, each run as a sorted list."""
    blocks: list[tuple] = []
    for r in got:
        key = tuple(r[k] for k in ORDER_KEYS[name])
        if blocks and blocks[-1][0] == key:
            blocks[-1][1].append(sorted(r.items(), key=str))
        else:
            blocks.append((key, [sorted(r.items(), key=str)]))
    return [(k, sorted(v, key=str)) for k, v in blocks]


def _same_as_reference(store_path, name: str, params: dict) -> None:
    got = rows(store_path, name, **params)
    _, bound, entity = q.prepare(None, None, name, [f"{k}={v}" for k, v in params.items()])
    out = q.run_isolated(store_path, REFERENCE[name], bound, entity_params=entity, timeout=0)
    want = [dict(zip(out.table.variables, r)) for r in out.table.rows]
    assert [list(r) for r in got[:1]] == [list(r) for r in want[:1]]  # the same columns
    assert sorted(map(str, got)) == sorted(map(str, want))  # the same rows
    assert _in_order_blocks(name, got) == _in_order_blocks(name, want)  # in the same order


def test_query_reference_covers_every_named_query():
    assert set(REFERENCE) == set(NAMED) == set(ORDER_KEYS) == {n for n, _ in REFERENCE_CASES}


@pytest.mark.parametrize("name, params", REFERENCE_CASES, ids=lambda x: x if isinstance(x, str) else
                         ",".join(f"{k}={v}" for k, v in x.items()) or "all")
def test_query_named_query_same_rows_as_reference_on_seeds(name, params, seed_store_path):
    _same_as_reference(seed_store_path, name, params)


@pytest.fixture(scope="module")
def corner_store_path(tmp_path_factory):
    """Two small article graphs written from hand-made facts, with what the seeds lack: a
    meeting by phone, one claim quoted in two articles, one office given two titles, a planned
    visit, an article with neither date nor headline."""
    from kg.model import Article, Entity, Evidence, Fact
    from kg.pipeline import refresh_derived
    from kg.rdf import BuildInfo, article_iri, article_quads
    from kg.store import KGStore

    tokayev = Entity("person/kassym-jomart-tokayev", "Kassym-Jomart Tokayev", "Person", "Q27830")
    putin = Entity("person/vladimir-putin", "Vladimir Putin", "Person", "Q7747")
    kz = Entity("country/kazakhstan", "Kazakhstan", "Country", "Q232")
    ru = Entity("country/russia", "Russia", "Country", "Q159")
    moscow = Entity("city/moscow", "Moscow", "City", "Q649")
    csto = Entity("organization/collective-security-treaty-organization",
                  "Collective Security Treaty Organization", "Organization", "Q191155")
    build = BuildInfo(software="0.0.0", extractors="test", gazetteer="0" * 64)
    claim = "Kazakhstan is our closest ally"

    def fact(article, n, predicate, subject, obj, **kw):
        return Fact(predicate, subject, obj, Evidence(article, f"Sentence {n} of {article}.", 10 * n, 10 * n + 9),
                    "test", 0.8, **kw)

    a = Article("corner-a", "x" * 200, title="Tokayev and Putin", date="2023-11-08")
    b = Article("corner-b", "y" * 200)
    facts = {
        a: [fact(a.id, 1, "visited", tokayev, moscow, date="2022-11-28", modality="occurred"),
            fact(a.id, 2, "visited", putin, kz, modality="planned"),
            fact(a.id, 3, "metWith", tokayev, putin, channel="phone"),
            fact(a.id, 4, "said", putin, None, claim=claim, mentions=(kz,)),
            fact(a.id, 5, "holdsPosition", tokayev, kz, role="President"),
            fact(a.id, 6, "memberOf", kz, csto)],
        b: [fact(b.id, 1, "said", putin, None, claim=claim, mentions=(kz,)),
            fact(b.id, 2, "said", putin, None, claim=claim, mentions=(kz,)),
            fact(b.id, 3, "holdsPosition", tokayev, kz, role="Head of State"),
            fact(b.id, 8, "holdsPosition", putin, ru, role="President"),
            fact(b.id, 4, "metWith", putin, tokayev),
            fact(b.id, 5, "memberOf", kz, csto), fact(b.id, 6, "memberOf", ru, csto),
            fact(b.id, 7, "visited", tokayev, moscow, date="2023", modality="occurred")],
    }
    path = tmp_path_factory.mktemp("corner") / "store"
    store = KGStore(path)
    for article, fs in facts.items():
        used = {e.key: e for f in fs for e in (f.subject, f.object, *f.mentions) if e is not None}
        variants = {key: {e.name, e.name.split()[-1]} for key, e in used.items()}  # Putin, Tokayev
        variants[csto.key].add("CSTO")
        store.replace_graph(article_iri(article.id), article_quads(article, fs, variants, {}, build))
    refresh_derived(store)
    store.close()
    return path


@pytest.mark.parametrize("name, params", REFERENCE_CASES, ids=lambda x: x if isinstance(x, str) else
                         ",".join(f"{k}={v}" for k, v in x.items()) or "all")
def test_query_named_query_same_rows_as_reference_on_corner_cases(name, params, corner_store_path):
    _same_as_reference(corner_store_path, name, params)


def test_query_corner_cases_read_as_written(corner_store_path):
    met = {(r["person"], r["other"]): r for r in rows(corner_store_path, "who-met-whom")}
    assert met[("Kassym-Jomart Tokayev", "Vladimir Putin")]["channel"] == "phone"  # by phone in one article
    assert met[("Vladimir Putin", "Kassym-Jomart Tokayev")]["sources"] == "2"
    claims = rows(corner_store_path, "claims-by-speaker", speaker="Putin")
    assert len(claims) == 3 and {r["claim"] for r in claims} == {"Kazakhstan is our closest ally"}
    assert claims[0]["headline"] == "Tokayev and Putin"  # corner-a (dated) first, corner-b (undated) last
    assert [c["reported"] for c in claims] == ["2023-11-08", None, None]
    members = {(r["organisation"], r["member"]): r["sources"] for r in rows(corner_store_path, "memberships")}
    assert members == {("Collective Security Treaty Organization", "Kazakhstan"): "2",
                       ("Collective Security Treaty Organization", "Russia"): "1"}
    visits = rows(corner_store_path, "visits-timeline")
    assert [(r["date"], r["place"], r["modality"]) for r in visits] == [
        ("2022-11-28", "Moscow", "occurred"), ("2023", "Moscow", "occurred"), (None, "Kazakhstan", "planned")]
    top = rows(corner_store_path, "most-mentioned")
    counts = {r["entity"]: (r["facts"], r["articles"]) for r in top}
    assert top[0]["entity"] == "Vladimir Putin" and counts["Vladimir Putin"] == ("7", "2")
    assert counts["Kassym-Jomart Tokayev"] == ("6", "2")
    assert counts["Kazakhstan"] == ("5", "2")  # subject, object, and the country an office is in
    years = {(r["year"], r["relation"], r["direction"]): r["facts"] for r in rows(corner_store_path, "kz-ru-by-year")}
    assert years[("2022", "visited", "Kazakhstan → Russia")] == "1"  # the visit's date, not the article's
    assert years[("undated", "said", "Russia → Kazakhstan")] == "2"  # corner-b has no date
    assert years[("2023", "said", "Russia → Kazakhstan")] == "1"  # corner-a's date
    assert years[("undated", "metWith", "Russia → Kazakhstan")] == "1"


# ---- parameters are RDF terms ------------------------------------------------------------------
@pytest.mark.parametrize("value", HOSTILE)
def test_query_param_is_one_literal_whatever_it_holds(value, seed_store_path):
    echoed = rows(seed_store_path, text="SELECT ?v WHERE {}", v=value)
    assert echoed == [{"v": value}]
    got = rows(seed_store_path, text="SELECT ?name ?e WHERE { ?e rdfs:label ?name }", name=value)
    assert got == []  # the value did not open the pattern up to every label


@pytest.mark.parametrize("value", HOSTILE)
def test_query_named_query_param_cannot_widen_it(value, seed_store_path):
    assert rows(seed_store_path, "claims-by-speaker", speaker=value) == []


def test_query_param_iri_forms(seed_store_path):
    text = "SELECT ?person ?place WHERE { ?person kzo:visited ?place }"
    a = rows(seed_store_path, text=text, person="kzr:person_kassym-jomart-tokayev")
    b = rows(seed_store_path, text=text, person="<https://w3id.org/kzru-kg/resource/person_kassym-jomart-tokayev>")
    assert a == b and "kzr:city_moscow" in {r["place"] for r in a}
    with pytest.raises(q.QueryError, match="not a valid IRI"):
        rows(seed_store_path, text=text, person="<not an iri>")


@pytest.mark.parametrize("args, message", [
    (["--name", "claims-by-speaker", "--param", "who=Putin"], "takes the parameters speaker"),
    (["--name", "memberships", "--param", "nonsense"], "expected NAME=VALUE"),
    (["SELECT ?x WHERE { ?x ?p ?o }", "--param", "y=1"], "no variable ?y"),
    (["SELECT ?x WHERE { ?x ?p ?y }", "--param", "y=1"], "must be a result column"),
    (["--name", "no-such-query"], "no named query"),
    (["SELECT * WHERE { SERVICE <http://example.org/> { ?s ?p ?o } }"], "SERVICE"),
    (["SELECT ?x WHERE { ?x ?p ?o }", "--format", "yaml"], "unknown format"),
    (["CONSTRUCT WHERE { ?s kzo:visited ?o }", "--format", "csv"], "returns RDF"),
])
def test_query_bad_input_is_one_line_error(args, message, seed_store_path):
    result = runner.invoke(app, ["query", *args, "--store", str(seed_store_path)])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) <= 3


def test_query_malformed_prints_position(seed_store_path):
    result = runner.invoke(app, ["query", "SELECT ?x WHERE {\n  ?x kzo:visited \n}",
                                 "--store", str(seed_store_path)])
    assert result.exit_code == 1
    assert re.search(r"syntax error at line \d+, column \d+", result.output)
    assert "Traceback" not in result.output


# ---- output formats ---------------------------------------------------------------------------------
Q = "SELECT ?place ?date WHERE { ?v kzo:agent kzr:person_kassym-jomart-tokayev ; kzo:place ?place OPTIONAL { ?v kzo:date ?date } }"


def _cli(store, *args):
    result = runner.invoke(app, ["query", *args, "--store", str(store)])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_query_formats_agree(seed_store_path):
    table = _cli(seed_store_path, Q)
    assert "kzr:city_moscow" in table and "2022-11-28" in table
    data = json.loads(_cli(seed_store_path, Q, "--format", "json"))
    assert data["head"]["vars"] == ["place", "date"]
    places = {b["place"]["value"] for b in data["results"]["bindings"]}
    assert "https://w3id.org/kzru-kg/resource/city_moscow" in places
    csv_rows = list(csv.DictReader(io.StringIO(_cli(seed_store_path, Q, "--format", "csv"))))
    assert {r["place"] for r in csv_rows} == places and len(csv_rows) == len(data["results"]["bindings"])
    tsv = _cli(seed_store_path, Q, "--format", "tsv").splitlines()
    assert tsv[0] == "?place\t?date" and len(tsv) == len(csv_rows) + 1
    xml = _cli(seed_store_path, Q, "--format", "xml")
    assert xml.startswith("<?xml") and "city_moscow" in xml


def test_query_construct_is_turtle(seed_store_path):
    text = "CONSTRUCT { ?p kzo:visited ?o } WHERE { ?p kzo:visited ?o }"
    ttl = _cli(seed_store_path, text)
    triples = [(t.subject.value, t.predicate.value, t.object.value)
               for t in ox.parse(ttl.encode(), format=ox.RdfFormat.TURTLE)]
    assert ("https://w3id.org/kzru-kg/resource/person_kassym-jomart-tokayev",
            "https://w3id.org/kzru-kg/ontology#visited",
            "https://w3id.org/kzru-kg/resource/city_moscow") in triples
    nt = _cli(seed_store_path, text, "--format", "ntriples")
    assert len(nt.strip().splitlines()) == len(set(triples))
    described = _cli(seed_store_path, "DESCRIBE kzr:city_moscow")
    assert "Moscow" in described


def test_query_ask(seed_store_path):
    assert json.loads(_cli(seed_store_path, "ASK { ?s kzo:visited kzr:city_moscow }", "--format", "json")) == \
        {"head": {}, "boolean": True}
    assert "true" in _cli(seed_store_path, "ASK { ?s kzo:visited kzr:city_moscow }")


# ---- timeout ----------------------------------------------------------------------------------------------
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o }"


def test_query_timeout_stops_a_runaway_query(seed_store_path, tmp_path):
    store = tmp_path / "store"
    shutil.copytree(seed_store_path, store)
    result = runner.invoke(app, ["query", RUNAWAY, "--timeout", "1", "--store", str(store)])
    assert result.exit_code == 1
    assert "stopped after the 1 s timeout" in result.output
    # the worker is gone: the store opens for writing and still answers
    from kg.store import KGStore

    writer = KGStore(store)
    assert len(writer) > 0
    writer.close()
    assert rows(store, text="SELECT ?p WHERE { kzr:person_kassym-jomart-tokayev kzo:visited ?p }")


def test_query_no_timeout_runs_in_process(seed_store_path):
    out = q.run_isolated(seed_store_path, "SELECT (COUNT(*) AS ?n) WHERE { ?s kzo:visited ?o }", timeout=0)
    assert int(out.table.rows[0][0]) > 0


def test_query_missing_store(tmp_path):
    with pytest.raises(q.QueryError, match="no store here"):
        q.run_isolated(tmp_path / "nowhere", "ASK {}")
