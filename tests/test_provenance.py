"""Provenance you can query: the OWL ontology under a reasoner, the per-article named graphs
and their build activity, corroboration, SHACL validation, exports other parsers accept,
and incremental, reversible builds."""
from __future__ import annotations

import hashlib
import json
import shutil

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SKOS
from typer.testing import CliRunner

from kg import __version__
from kg.cli import app
from kg.corpus import read_file
from kg.export import export, iter_facts, load_context
from kg.gazetteer import GAZETTEER_PATH, ONTOLOGY_DIR
from kg.pipeline import RemoveError, build, remove
from kg.rdf import CORROBORATION_GRAPH, ENTITY_GRAPH, article_iri, noisy_or
from kg.store import KGStore
from kg.validate import validate_graph, validate_store
from kg.vocab import KZO_IRI, KZR_IRI

from conftest import SEEDS

runner = CliRunner()
KZO = KZO_IRI
WDT = "http://www.wikidata.org/prop/direct/"
ONTOLOGY = ONTOLOGY_DIR / "kzru.ttl"


@pytest.fixture
def store_copy(seed_store, tmp_path):
    """A writable store holding exactly the seed build (bulk-loaded, no re-extraction)."""
    dump = tmp_path / "seed.nq"
    with dump.open("wb") as fh:
        seed_store.ox.dump(fh, ox.RdfFormat.N_QUADS)
    store = KGStore(tmp_path / "store")
    store.ox.bulk_load(path=str(dump), format=ox.RdfFormat.N_QUADS)
    yield store
    store.close()


def _graphs(store: KGStore) -> dict[str, set]:
    return {g.value: set(store.graph_quads(g)) for g in store.graph_names()}


# ---- the OWL ontology under HermiT --------------------------------------------------------

def _reason(graph: Graph, tmp_path) -> None:
    """Run HermiT (owlready2) over a graph; raises OwlReadyInconsistentOntologyError."""
    if shutil.which("java") is None:
        pytest.skip("no `java` on PATH: owlready2 runs HermiT in a Java VM")
    owlready2 = pytest.importorskip("owlready2")
    path = tmp_path / "onto.nt"
    graph.serialize(path, format="nt", encoding="utf-8")
    world = owlready2.World()
    onto = world.get_ontology(path.as_uri()).load()
    with onto:
        owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
    return world


def test_provenance_ontology_is_consistent_under_hermit(tmp_path):
    world = _reason(Graph().parse(ONTOLOGY), tmp_path)
    assert list(world.inconsistent_classes()) == []


def test_provenance_reasoner_rejects_a_person_visiting_a_person(tmp_path):
    from owlready2 import OwlReadyInconsistentOntologyError

    g = Graph().parse(ONTOLOGY)
    a, b = URIRef(KZR_IRI + "person_a"), URIRef(KZR_IRI + "person_b")
    g.add((a, RDF.type, URIRef(KZO + "Person")))
    g.add((b, RDF.type, URIRef(KZO + "Person")))
    g.add((a, URIRef(KZO + "visited"), b))  # range kzo:Place, disjoint with kzo:Person
    with pytest.raises(OwlReadyInconsistentOntologyError):
        _reason(g, tmp_path)


def test_provenance_seed_graph_is_consistent_with_ontology(seed_store, tmp_path):
    g = Graph().parse(ONTOLOGY)
    for q in seed_store.ox:
        p, o = q.predicate.value, q.object
        is_kzo_type = p == str(RDF.type) and o.value.startswith(KZO)
        if is_kzo_type or (p.startswith(KZO) and p != KZO + "date"):  # OWL 2 has no xsd:gYear
            obj = URIRef(o.value) if isinstance(o, ox.NamedNode) else \
                Literal(o.value, datatype=URIRef(o.datatype.value))
            g.add((URIRef(q.subject.value), URIRef(p), obj))
    world = _reason(g, tmp_path)
    assert list(world.inconsistent_classes()) == []


def test_provenance_ontology_alignments_are_one_way():
    g = Graph().parse(ONTOLOGY)
    member, holds, met = (URIRef(KZO + t) for t in ("memberOf", "holdsPosition", "metWith"))
    assert (member, RDFS.subPropertyOf, URIRef(WDT + "P463")) in g
    assert (holds, SKOS.closeMatch, URIRef(WDT + "P39")) in g
    assert (met, RDF.type, OWL.SymmetricProperty) in g
    assert not list(g.triples((None, OWL.equivalentProperty, None)))
    assert not list(g.triples((None, OWL.equivalentClass, None)))


# ---- the provenance model ------------------------------------------------------------------

def test_provenance_build_activity_records_versions(seed_store):
    rows = list(seed_store.query("""
        SELECT DISTINCT ?b ?version ?sha WHERE {
          ?b a kzo:Build, prov:Activity ; prov:wasAssociatedWith ?sw ; prov:used ?gaz .
          ?sw a prov:SoftwareAgent ; schema:softwareVersion ?version .
          ?gaz kzo:sha256 ?sha }"""))
    assert len(rows) == 1
    assert rows[0]["version"].value == __version__
    assert rows[0]["sha"].value == hashlib.sha256(GAZETTEER_PATH.read_bytes()).hexdigest()
    generated_by = {r["b"] for r in seed_store.query(
        "SELECT DISTINCT ?b WHERE { ?a a kzo:Assertion ; prov:wasGeneratedBy ?b }")}
    assert generated_by == {rows[0]["b"]}


def test_provenance_two_builds_of_same_inputs_are_identical(seed_store, tmp_path):
    other = KGStore(tmp_path / "again")
    build([SEEDS], other)
    assert set(other.ox) == set(seed_store.ox)


def test_provenance_every_evidence_span_is_the_sentence(seed_store):
    texts = {a.id: a.text for path in sorted(SEEDS.glob("*.txt")) for a in read_file(path)}
    rows = list(seed_store.query("""
        SELECT ?id ?s ?e ?sentence ?span WHERE { ?a a kzo:Assertion ; prov:wasDerivedFrom ?g ;
          kzo:charStart ?s ; kzo:charEnd ?e ; kzo:evidenceText ?sentence ; kzo:evidenceSpan ?span .
          ?g schema:identifier ?id }"""))
    assert len(rows) > 50
    for r in rows:
        start, end = int(r["s"].value), int(r["e"].value)
        assert texts[r["id"].value][start:end] == r["sentence"].value
        assert r["span"].value == f"{article_iri(r['id'].value).value}#char={start},{end}"


def test_provenance_each_article_is_its_own_graph(seed_store):
    for article_id in seed_store.article_ids():
        g = article_iri(article_id)
        outside = seed_store.query(
            "ASK { ?a prov:wasDerivedFrom ?g . FILTER NOT EXISTS { GRAPH ?g { ?a a kzo:Assertion } } }",
            {ox.Variable("g"): g})
        assert not bool(outside), article_id


# ---- corroboration ---------------------------------------------------------------------------

def test_provenance_noisy_or_combines_sources():
    assert noisy_or([]) == 0.0
    assert noisy_or([0.9]) == pytest.approx(0.9)
    assert noisy_or([0.9, 0.5]) == pytest.approx(0.95)
    assert noisy_or([1.0, 0.2]) == 1.0


def test_provenance_corroboration_counts_articles(seed_store):
    best: dict[tuple, dict[str, float]] = {}
    for r in seed_store.query("SELECT ?s ?p ?o ?g ?c WHERE { GRAPH ?g { ?a a kzo:Assertion ; "
                              "rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o ; kzo:confidence ?c } }"):
        keys = [(r["s"], r["p"], r["o"])]
        if r["p"].value == KZO + "metWith":
            keys.append((r["o"], r["p"], r["s"]))
        for key in keys:
            per = best.setdefault(key, {})
            per[r["g"].value] = max(per.get(r["g"].value, 0.0), float(r["c"].value))
    rows = list(seed_store.query("""SELECT ?s ?p ?o ?n ?c WHERE { GRAPH kzr:corroboration {
        ?f a kzo:Fact ; rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o ;
           kzo:sourceCount ?n ; kzo:corroboratedConfidence ?c } }"""))
    assert len(rows) == len(best)
    for r in rows:
        per = best[(r["s"], r["p"], r["o"])]
        assert int(r["n"].value) == len(per)
        assert float(r["c"].value) == pytest.approx(noisy_or(per.values()), abs=1e-4)


def test_provenance_facts_export_has_corroboration(seed_store):
    facts = list(iter_facts(seed_store))
    assert all(f["sources"] >= 1 and f["confidence"] <= f["corroborated_confidence"] + 1e-4
               for f in facts)
    moscow = [f for f in facts if f["predicate"] == "visited" and f["object"] == "Moscow"
              and f["subject"] == "Kassym-Jomart Tokayev"]
    assert moscow and all(f["sources"] >= 3 for f in moscow)
    assert {f["sources"] for f in moscow} == {len({f["article"] for f in moscow})}


# ---- SHACL -------------------------------------------------------------------------------------

BROKEN = """
@prefix kzo: <https://w3id.org/kzru-kg/ontology#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
<https://w3id.org/kzru-kg/resource/assertion/broken> a kzo:Assertion, rdf:Statement, prov:Entity ;
    rdf:subject <https://w3id.org/kzru-kg/resource/person_x> ; rdf:predicate kzo:visited ;
    rdf:object <https://w3id.org/kzru-kg/resource/city_y> ; kzo:states <https://w3id.org/kzru-kg/resource/fact/xy> ;
    kzo:charStart 90 ; kzo:charEnd 10 ; kzo:extractor "visits" ; kzo:extractorVersion "t" ;
    kzo:confidence 1.7 .
<https://w3id.org/kzru-kg/resource/visit/broken> a kzo:Visit ;
    kzo:agent <https://w3id.org/kzru-kg/resource/person_x> ; kzo:modality "rumoured" .
"""


def test_provenance_shacl_names_each_violation():
    lines = [v.line() for v in validate_graph(Graph().parse(data=BROKEN, format="turtle"))]
    expected = {"kzo:confidence": "1.7", "kzo:evidenceText": None, "prov:wasDerivedFrom": None,
                "prov:wasGeneratedBy": None, "kzo:charStart": "90", "kzo:modality": "rumoured",
                "kzo:place": None}
    for path, value in expected.items():
        hits = [line for line in lines if f" {path}: " in line]
        assert hits, (path, lines)
        if value:
            assert f"(value: {value})" in hits[0]
    assert len(lines) == len(expected)


def test_provenance_unreadable_shapes_name_the_file(tmp_path):
    from kg.validate import ValidationError, load_shapes

    bad = tmp_path / "shapes.ttl"
    bad.write_text("@prefix sh: <http://www.w3.org/ns/shacl#> .\n<a> sh:path ", encoding="utf-8")
    with pytest.raises(ValidationError, match="shapes.ttl: cannot read the shapes"):
        load_shapes(bad)


def test_provenance_seed_store_validates_clean(seed_store):
    assert validate_store(seed_store) == []


def test_provenance_validate_command_exits_1_one_line_each(store_copy):
    g = ox.NamedNode(KZR_IRI + "article/broken")
    store_copy.replace_graph(g, (ox.Quad(q.subject, q.predicate, q.object, g)
                                 for q in ox.parse(BROKEN.encode(), format=ox.RdfFormat.TURTLE)))
    path = str(store_copy.path)
    store_copy.close()
    result = runner.invoke(app, ["validate", "--store", path])
    assert result.exit_code == 1
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 7
    assert any("kzr:assertion/broken kzo:confidence" in line for line in lines)


def test_provenance_build_reports_violations_in_summary(tmp_path, monkeypatch):
    import kg.pipeline as pipeline

    real = pipeline.article_quads

    def with_bad_confidence(*args):
        quads = real(*args)
        bad = next(q for q in quads if q.predicate.value == KZO + "confidence")
        return quads + [ox.Quad(bad.subject, bad.predicate,
                                ox.Literal("1.7", datatype=bad.object.datatype), bad.graph_name)]

    monkeypatch.setattr(pipeline, "article_quads", with_bad_confidence)
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(SEEDS / "001_a574f8d1869c4b01.txt", src)
    result = runner.invoke(app, ["build", str(src), "--store", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    assert "SHACL violations" in result.output
    assert "kzo:confidence: an assertion has exactly one kzo:confidence" in result.output
    skipped = runner.invoke(app, ["build", str(src), "--store", str(tmp_path / "t"), "--no-validate"])
    assert "not checked" in skipped.output


# ---- exports -------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt,kind", [("turtle", ox.RdfFormat.TURTLE), ("trig", ox.RdfFormat.TRIG),
                                      ("nquads", ox.RdfFormat.N_QUADS)])
def test_provenance_rdf_exports_parse_back_in_pyoxigraph(seed_store, tmp_path, fmt, kind):
    path = tmp_path / f"out.{fmt}"
    export(seed_store, fmt, path)
    parsed = set(ox.parse(path=str(path), format=kind))
    if fmt == "turtle":  # a triples format: the union of all graphs
        assert {q.triple for q in parsed} == {q.triple for q in seed_store.ox}
    else:
        assert parsed == set(seed_store.ox)


def test_provenance_jsonld_export_round_trips_through_pyld(seed_store, tmp_path):
    from pyld import jsonld

    def refuse(url, options=None):
        raise AssertionError(f"the JSON-LD reader tried the network: {url}")

    path = tmp_path / "out.jsonld"
    export(seed_store, "jsonld", path)
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["@context"] == load_context()  # inline, never a URL
    nquads = jsonld.to_rdf(doc, {"format": "application/n-quads", "documentLoader": refuse})
    assert set(ox.parse(nquads.encode("utf-8"), format=ox.RdfFormat.N_QUADS)) == set(seed_store.ox)
    assert set(ox.parse(path=str(path), format=ox.RdfFormat.JSON_LD)) == set(seed_store.ox)
    assert '"evidenceText"' in path.read_text(encoding="utf-8")  # terms, not full IRIs


def test_provenance_jsonld_export_bad_context_is_one_line(seed_store, tmp_path, monkeypatch):
    import kg.export as export_module

    bad = tmp_path / "context.jsonld"
    bad.write_text("{not json")
    monkeypatch.setattr(export_module, "CONTEXT_PATH", bad)
    with pytest.raises(ValueError, match="context.jsonld"):
        export(seed_store, "jsonld", tmp_path / "x.jsonld")
    assert not (tmp_path / "x.jsonld").exists()


# ---- incremental and reversible ---------------------------------------------------------------

def test_provenance_changed_article_replaces_only_its_graph(store_copy, tmp_path):
    src = tmp_path / "seeds"
    shutil.copytree(SEEDS, src)
    changed = "003_666e8444a82a88ab"
    f = src / f"{changed}.txt"
    f.write_text(f.read_text(encoding="utf-8") + "\nVladimir Putin visited Almaty on 5 May 2023.\n",
                 encoding="utf-8")
    before = _graphs(store_copy)
    report = build([src], store_copy)
    after = _graphs(store_copy)
    assert (report.articles, report.skipped) == (1, 4)
    differ = {g for g in before.keys() | after.keys() if before.get(g) != after.get(g)}
    derived = {ENTITY_GRAPH.value, CORROBORATION_GRAPH.value}
    assert differ - derived == {article_iri(changed).value}


def test_provenance_remove_drops_article_and_refreshes_derived(store_copy, tmp_path):
    gone = "004_430bc06525a7448f"
    before = set(store_copy.ox)
    g = article_iri(gone)
    only_there = {r["e"].value for r in store_copy.query(
        f"SELECT ?e WHERE {{ GRAPH {g} {{ ?e skos:altLabel ?l }} FILTER NOT EXISTS {{ "
        f"GRAPH ?h {{ ?e skos:altLabel ?m }} FILTER(?h != {g}) }} }}")}
    assert only_there
    assert remove([gone], store_copy) == [gone]
    assert not store_copy.ox.contains_named_graph(article_iri(gone))
    assert not bool(store_copy.query(f"ASK {{ ?a prov:wasDerivedFrom {g} }}"))
    labelled = {r["e"].value for r in store_copy.query("SELECT ?e WHERE { GRAPH kzr:entities { ?e rdfs:label ?l } }")}
    assert not only_there & labelled  # orphans lose their label
    assert validate_store(store_copy) == []
    build([SEEDS], store_copy)  # reversible: building it again restores the store exactly
    assert set(store_copy.ox) == before


def test_provenance_remove_unknown_article_changes_nothing(store_copy):
    before = set(store_copy.ox)
    with pytest.raises(RemoveError, match="no-such-article"):
        remove(["000_90fc43503a82d13d", "no-such-article"], store_copy)
    assert set(store_copy.ox) == before


def test_provenance_remove_command(store_copy):
    path = str(store_copy.path)
    store_copy.close()
    result = runner.invoke(app, ["remove", "nope", "--store", path])
    assert result.exit_code == 1 and "no article nope" in result.output
    result = runner.invoke(app, ["remove", "000_90fc43503a82d13d", "--store", path])
    assert result.exit_code == 0, result.output
    assert "removed 1 article" in result.output
