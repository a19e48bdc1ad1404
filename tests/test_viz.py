import json
import re

import networkx as nx
import pytest

from kg.viz import render_html

R = "https://w3id.org/kzru-kg/resource/"
EVIL_LABEL = "</script><script>alert(1)</script>"
EVIL_TEXT = "He said <img src=x onerror=alert(1)> & \"quoted\" 'too' `tick`"


@pytest.fixture
def graph():
    g = nx.MultiDiGraph()
    g.add_node(R + "tokayev", label="Kassym-Jomart Tokayev", type="Person", wikidata="Q359468",
               size_score=0.4)
    g.add_node(R + "putin", label="Vladimir Putin", type="Person", size_score=0.3)
    g.add_node(R + "moscow", label="Moscow", type="City", wikidata="Q649")
    g.add_node(R + "claim/1", label="Relations are strong", type="Claim")
    g.add_node(R + "evil", label=EVIL_LABEL, type="Mystery")
    g.add_edge(R + "tokayev", R + "moscow", relation="visited",
               evidence=[{"text": "Tokayev arrived in Moscow.", "article": "a1", "date": "2022-11-28"}])
    g.add_edge(R + "putin", R + "tokayev", relation="metWith", label="met with",
               evidence=[{"text": f"Sentence {i}", "article": "a2", "date": None} for i in range(8)])
    g.add_edge(R + "putin", R + "tokayev", relation="metWith")
    g.add_edge(R + "tokayev", R + "claim/1", relation="said",
               evidence=[{"text": EVIL_TEXT, "article": "<b>a3</b>", "date": None}])
    g.add_edge(R + "evil", R + "moscow", relation="mentions")
    return g


def _data(html: str) -> dict:
    block = re.search(r'<script id="kg-data" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(block.group(1))


@pytest.fixture
def html(graph, tmp_path):
    out = render_html(graph, tmp_path / "g.html", title="KZ <&> RU", notice="showing 5 of 9 nodes")
    return out.read_text("utf-8")


def test_viz_returns_path(graph, tmp_path):
    out = render_html(graph, str(tmp_path / "sub" / "g.html"))
    assert out == tmp_path / "sub" / "g.html" and out.is_file()


def test_viz_contains_labels_and_counts(html, graph):
    data = _data(html)
    assert sorted(n["fullLabel"] for n in data["nodes"]) == sorted(
        d["label"] for _, d in graph.nodes(data=True))
    assert len(data["edges"]) == graph.number_of_edges() == 5
    assert "5 nodes · 5 edges" in html
    for label in ("Kassym-Jomart Tokayev", "Vladimir Putin", "Moscow", "Relations are strong"):
        assert label in html
    assert json.dumps(EVIL_LABEL).replace("<", "\\u003c").replace(">", "\\u003e").replace("/", "\\/") in html
    assert "KZ &lt;&amp;&gt; RU" in html and "showing 5 of 9 nodes" in html


def test_viz_no_remote_urls(html):
    assert not re.search(r"https?://", html, re.I)
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.I)
    markup = re.sub(r"<(script|style)\b.*?</\1>", "", html, flags=re.S | re.I)
    assert not re.search(r"\b(src|href)\s*=|<link|<iframe|<img", markup, re.I)
    assert "vis.Network" in html and "vis-network" in html  # the library is inlined


def test_viz_escapes_article_text(html):
    assert "<img src=x" not in html
    assert "</script><script>" not in html
    assert "onerror=alert(1)>" not in html
    assert html.lower().count("</script") == 3  # the data block, vis-network, ours
    assert "<!--" not in html
    data = _data(html)
    evil = next(n for n in data["nodes"] if n["fullLabel"] == EVIL_LABEL)
    assert evil["kgType"] == "Mystery" and evil["shape"] == "dot"  # unknown type: default style
    said = next(e for e in data["edges"] if e["relation"] == "said")
    assert any(EVIL_TEXT in line.get("ev", "") for line in said["tip"] if isinstance(line, dict))


def test_viz_evidence_truncated(html):
    met = [e for e in _data(html)["edges"] if e["relation"] == "metWith"]
    tips = sorted((e["tip"] for e in met), key=len)
    assert len(tips[1]) == 1 + 5 + 1 and tips[1][-1] == {"ev": "+3 more"}
    assert {e["label"] for e in met} == {"met with", "metWith"}


def test_viz_deterministic(graph, tmp_path):
    a = render_html(graph, tmp_path / "a.html").read_bytes()
    shuffled = nx.MultiDiGraph()
    shuffled.add_nodes_from(reversed(list(graph.nodes(data=True))))
    shuffled.add_edges_from(reversed(list(graph.edges(keys=True, data=True))))
    b = render_html(graph, tmp_path / "b.html").read_bytes()
    c = render_html(shuffled, tmp_path / "c.html").read_bytes()
    assert a == b == c


def test_viz_size_and_style(html):
    data = _data(html)
    by_label = {n["fullLabel"]: n for n in data["nodes"]}
    assert by_label["Kassym-Jomart Tokayev"]["size"] > by_label["Vladimir Putin"]["size"]
    assert by_label["Moscow"]["shape"] == "triangle"
    assert data["options"]["layout"]["randomSeed"] == 42
    assert {t["name"] for t in data["legend"]["types"]} == {"Person", "City", "Claim", "Mystery"}
    assert {r["name"] for r in data["legend"]["relations"]} == {"visited", "metWith", "said", "mentions"}
    for hook in ("window.kgNetwork", "window.kgNodes", "window.kgEdges", "dataset.ready"):
        assert hook in html


def test_viz_empty_graph(tmp_path):
    html = render_html(nx.MultiDiGraph(), tmp_path / "e.html").read_text("utf-8")
    data = _data(html)
    assert data["nodes"] == [] and data["edges"] == []
    assert "0 nodes · 0 edges" in html


# ---- kg/network.py: the view kg viz draws -----------------------------------------------------
from datetime import date  # noqa: E402

from typer.testing import CliRunner  # noqa: E402

from kg import network as nw  # noqa: E402
from kg.cli import app  # noqa: E402

TOKAYEV, PUTIN = R + "person_kassym-jomart-tokayev", R + "person_vladimir-putin"


@pytest.fixture(scope="module")
def seed_graph(seed_store):
    return nw.to_networkx(seed_store)


@pytest.mark.parametrize("ref", ["Vladimir Putin", "putin", "PUTIN", "kzr:person_vladimir-putin",
                                 "<https://w3id.org/kzru-kg/resource/person_vladimir-putin>", PUTIN])
def test_network_find_node_by_label_alias_or_iri(seed_graph, ref):
    assert nw.find_node(seed_graph, ref) == PUTIN


def test_network_find_node_unknown_suggests(seed_graph):
    with pytest.raises(nw.ViewError, match="did you mean Vladimir Putin"):
        nw.find_node(seed_graph, "Putn")


def test_network_focus_is_the_ego_graph(seed_graph):
    one = nw.view(seed_graph, focus_on="Tokayev", depth=1).graph
    assert TOKAYEV in one and PUTIN in one
    undirected = nx.Graph(one)
    assert all(nx.shortest_path_length(undirected, TOKAYEV, n) <= 1 for n in one)
    two = nw.view(seed_graph, focus_on="Tokayev", depth=2, max_nodes=None).graph
    assert set(one) < set(two)
    assert list(nw.view(seed_graph, focus_on="Tokayev", depth=0).graph) == [TOKAYEV]


def test_network_relations_filter(seed_graph):
    g = nw.view(seed_graph, relations="visited,metWith").graph
    assert {d["relation"] for _, _, d in g.edges(data=True)} == {"visited", "metWith"}
    assert not any(d["type"] == "Claim" for _, d in g.nodes(data=True))  # claims hang off 'said'
    with pytest.raises(nw.ViewError, match="unknown relation"):
        nw.view(seed_graph, relations="visited,vistied")


def _dated_graph():
    g = nx.MultiDiGraph()
    for n in "abcd":
        g.add_node(n, label=n.upper(), type="Person")
    g.add_edge("a", "b", key="visited", relation="visited", sources=1,
               evidence=[{"text": "t1", "article": "x", "date": "2022-11-28"}])
    g.add_edge("a", "c", key="visited", relation="visited", sources=2,
               evidence=[{"text": "t2", "article": "x", "date": "2023"},
                         {"text": "t3", "article": "y", "date": "2019-04-03"}])
    g.add_edge("c", "d", key="metWith", relation="metWith", sources=1,
               evidence=[{"text": "t4", "article": "z", "date": None}])
    return g


def test_network_dates_filter_by_evidence_date():
    g = _dated_graph()
    got = nw.view(g, since="2022-11", until="2022-12-31").graph
    assert set(got.edges()) == {("a", "b")}
    got = nw.view(g, since="2023-06-01").graph  # a year-only date overlaps the range
    assert set(got.edges()) == {("a", "c")}
    assert [e["text"] for e in got.edges["a", "c", "visited"]["evidence"]] == ["t2"]
    assert got.edges["a", "c", "visited"]["sources"] == 1
    assert nw.view(g, until="2018").graph.number_of_edges() == 0  # undated evidence never matches a range
    assert nw.parse_date("2024-02", end=True) == date(2024, 2, 29)
    for bad in ("2023-13", "23-01-01", "yesterday"):
        with pytest.raises(nw.ViewError, match="bad date"):
            nw.parse_date(bad)
    with pytest.raises(nw.ViewError, match="after"):
        nw.view(g, since="2024", until="2023")


def test_network_min_sources():
    g = nw.view(_dated_graph(), min_sources=2).graph
    assert set(g.edges()) == {("a", "c")} and set(g) == {"a", "c"}


def test_network_cap_keeps_the_most_central(seed_graph):
    full = nw.view(seed_graph, max_nodes=None)
    v = nw.view(seed_graph, max_nodes=12)
    assert v.graph.number_of_nodes() == 12 and v.total_nodes == full.graph.number_of_nodes()
    assert TOKAYEV in v.graph and PUTIN in v.graph
    assert f"left out {full.graph.number_of_nodes() - 12} nodes" in v.notice
    focused = nw.view(seed_graph, focus_on="Mishustin", depth=2, max_nodes=3)
    assert R + "person_mikhail-mishustin" in focused.graph  # the focus always stays
    assert nw.view(seed_graph).notice is None  # the seeds fit under the default cap


def test_viz_cli_filters_and_reports(seed_store_path, tmp_path):
    runner = CliRunner()
    out = tmp_path / "v.html"
    result = runner.invoke(app, ["viz", "-o", str(out), "--store", str(seed_store_path), "--focus", "putin",
                                 "--relations", "visited,metWith", "--max-nodes", "4"])
    assert result.exit_code == 0, result.output
    data = _data(out.read_text("utf-8"))
    assert len(data["nodes"]) == 4
    assert {e["relation"] for e in data["edges"]} <= {"visited", "metWith"}
    assert "Vladimir Putin" in {n["fullLabel"] for n in data["nodes"]}
    assert "left out" in result.output and "left out" in out.read_text("utf-8")
    for args, message in ((["--focus", "Nobody Atall"], "no entity called"),
                          (["--relations", "hugged"], "unknown relation"),
                          (["--since", "last week"], "bad date")):
        result = runner.invoke(app, ["viz", "-o", str(out), "--store", str(seed_store_path), *args])
        assert result.exit_code == 1 and message in result.output
        assert "Traceback" not in result.output


def test_viz_edge_tooltip_has_claim_and_sources(seed_graph, tmp_path):
    html = render_html(seed_graph, tmp_path / "s.html").read_text("utf-8")
    said = [e for e in _data(html)["edges"] if e["relation"] == "said"]
    assert said and all(any(isinstance(line, dict) and line["ev"].startswith("claim: “") for line in e["tip"])
                        for e in said)
    assert all(any(isinstance(line, str) and line.startswith("sources: ") for line in e["tip"]) for e in said)
