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
