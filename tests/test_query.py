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
