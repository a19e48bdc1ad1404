"""kg stats (counts, centrality, communities, the Kazakhstan–Russia summary) and the
GraphML / GEXF exports for Gephi and Cytoscape."""
from __future__ import annotations

import json

import networkx as nx
import pytest
from typer.testing import CliRunner

from kg.cli import app
from kg.network import to_networkx
from kg.stats import compute, sides

runner = CliRunner()
R = "https://w3id.org/kzru-kg/resource/"


@pytest.fixture(scope="module")
def report(seed_store):
    return compute(seed_store, top=5)


def test_stats_counts_agree_with_the_store(report, seed_store):
    c = report["counts"]
    assert c["articles"] == 5
    n = int(next(iter(seed_store.query("SELECT (COUNT(DISTINCT ?a) AS ?n) WHERE { ?a a kzo:Assertion }")))["n"].value)
    assert sum(c["fact_mentions"].values()) == n
    for rel, k in c["distinct_facts"].items():
        assert 0 < k <= c["fact_mentions"][rel], rel
    assert c["entities"] == sum(c["entities_by_type"].values()) > 20
    assert c["claims"] == c["distinct_facts"]["said"]


def test_stats_rankings_put_the_protagonists_on_top(report):
    for key in ("top_degree", "top_pagerank", "top_betweenness"):
        ranking = report[key]
        assert len(ranking) == 5
        scores = [r["score"] for r in ranking]
        assert scores == sorted(scores, reverse=True)
    assert report["top_degree"][0]["entity"] == "Kassym-Jomart Tokayev"
    top3 = {r["entity"] for r in report["top_pagerank"][:3]}
    assert {"Kassym-Jomart Tokayev", "Kazakhstan"} <= top3


def test_stats_communities_are_disjoint_groups(report):
    coms = report["communities"]
    assert len(coms) >= 2
    members = [m for c in coms for m in c["members"]]
    assert len(members) == len(set(members))
    assert all(c["size"] == len(c["members"]) >= 2 for c in coms)
    together = next(c for c in coms if "Kassym-Jomart Tokayev" in c["members"])
    assert together["members"][0] in {"Kassym-Jomart Tokayev", "Kazakhstan", "Russia"}


def test_stats_sides_from_gazetteer_and_offices(seed_store):
    side = sides(seed_store)
    assert side[R + "city_moscow"] == {"Russia"}
    assert side[R + "city_astana"] == {"Kazakhstan"}
    assert side[R + "person_vladimir-putin"] == {"Russia"}
    assert side[R + "person_kassym-jomart-tokayev"] == {"Kazakhstan"}
    assert R + "country_france" not in side


def test_stats_kazakhstan_russia_by_relation_and_year(report):
    kr = report["kazakhstan_russia"]
    keys = {(r["year"], r["relation"], r["direction"]) for r in kr["rows"]}
    assert ("2022", "visited", "Kazakhstan → Russia") in keys  # Tokayev in Moscow, Nov 2022
    assert ("2023", "visited", "Russia → Kazakhstan") in keys  # Putin's visit to Astana
    assert kr["total"] == sum(r["facts"] for r in kr["rows"]) == sum(kr["by_relation"].values())
    years = [r["year"] for r in kr["rows"]]
    assert years == sorted(years, key=lambda y: (y == "undated", y))


def test_stats_cli_table_and_json(seed_store_path):
    result = runner.invoke(app, ["stats", "--store", str(seed_store_path), "--json", "--top", "3"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"counts", "top_degree", "top_pagerank", "top_betweenness", "communities",
                         "kazakhstan_russia"}
    assert len(data["top_pagerank"]) == 3
    result = runner.invoke(app, ["stats", "--store", str(seed_store_path)])
    assert result.exit_code == 0
    for text in ("PageRank", "betweenness", "communities", "Kazakhstan–Russia", "Kassym-Jomart Tokayev"):
        assert text in result.stdout


def test_stats_cli_missing_store(tmp_path):
    result = runner.invoke(app, ["stats", "--store", str(tmp_path / "none")])
    assert result.exit_code == 1 and "no store here" in result.output


@pytest.mark.parametrize("fmt, read", [("graphml", nx.read_graphml), ("gexf", nx.read_gexf)])
def test_network_export_for_gephi(fmt, read, seed_store, seed_store_path, tmp_path):
    out = tmp_path / f"g.{fmt}"
    result = runner.invoke(app, ["export", "--format", fmt, "-o", str(out), "--store", str(seed_store_path)])
    assert result.exit_code == 0, result.output
    g = to_networkx(seed_store)
    back = read(out)
    assert back.number_of_nodes() == g.number_of_nodes()
    assert back.number_of_edges() == g.number_of_edges()
    for _, d in back.nodes(data=True):
        assert all(isinstance(v, (str, int, float)) for v in d.values())
    tokayev = R + "person_kassym-jomart-tokayev"
    assert back.nodes[tokayev]["label"] == "Kassym-Jomart Tokayev"
    visits = [d for u, v, d in back.edges(data=True) if u == tokayev and v == R + "city_moscow"]
    assert visits and "Moscow" in visits[0]["evidence"] and int(visits[0]["sources"]) >= 1
