"""Render a networkx projection of the graph as one self-contained, offline HTML page.

vis-network's JavaScript and CSS are read from the installed pyvis package and inlined; the
page template (``kg/templates/graph.html``) is our own, so nothing is loaded from a CDN.
All article-derived text reaches the page either HTML-escaped or JSON-encoded inside a
``<script type="application/json">`` block and is put into the DOM with ``textContent``.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from markupsafe import Markup, escape

if TYPE_CHECKING:  # pragma: no cover
    import networkx as nx

__all__ = ["render_html", "NODE_STYLES", "RELATION_COLORS"]

VIS_DIR = "templates/lib/vis-9.1.2"
MAX_EVIDENCE = 5
MAX_LABEL = 40
SEED = 42

# type -> (vis shape, colour, legend glyph)
NODE_STYLES: dict[str, tuple[str, str, str]] = {
    "Person": ("dot", "#e15759", "●"),
    "Country": ("square", "#4e79a7", "■"),
    "City": ("triangle", "#59a14f", "▲"),
    "Region": ("triangleDown", "#8cd17d", "▼"),
    "Organization": ("hexagon", "#f28e2b", "⬢"),
    "Claim": ("diamond", "#b07aa1", "◆"),
    "Visit": ("star", "#edc948", "★"),
    "Position": ("dot", "#76b7b2", "●"),
    "Other": ("dot", "#9d9d9d", "●"),
}
DEFAULT_NODE_STYLE = NODE_STYLES["Other"]
RELATION_COLORS: dict[str, str] = {
    "visited": "#59a14f",
    "said": "#b07aa1",
    "memberOf": "#f28e2b",
    "metWith": "#e15759",
    "holdsPosition": "#76b7b2",
    "mentions": "#bab0ac",
}
DEFAULT_EDGE_COLOR = "#888888"

OPTIONS: dict[str, Any] = {
    "layout": {"randomSeed": SEED, "improvedLayout": True},
    "physics": {
        "enabled": True,
        "solver": "barnesHut",
        "barnesHut": {"gravitationalConstant": -8000, "springLength": 160,
                      "springConstant": 0.04, "damping": 0.3, "avoidOverlap": 0.2},
        "stabilization": {"enabled": True, "iterations": 400, "fit": True},
    },
    "interaction": {"hover": True, "tooltipDelay": 150, "navigationButtons": False},
    "nodes": {"font": {"size": 14}, "borderWidth": 1},
    "edges": {"arrows": {"to": {"enabled": True, "scaleFactor": 0.6}},
              "font": {"size": 10, "align": "middle"}, "width": 1.5},
}


def _html(text: Any) -> Markup:
    """HTML-escape, also ``/`` so that no URL-looking text survives verbatim."""
    return Markup(str(escape("" if text is None else str(text))).replace("/", "&#47;"))


def _script_json(obj: Any) -> Markup:
    """JSON safe to place inside a <script> element (no ``</``, ``<!--``, ``://``)."""
    text = json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    for raw, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("/", "\\/"),
                     ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(raw, esc)
    return Markup(text)


def _vis_asset(name: str) -> str:
    text = resources.files("pyvis").joinpath(VIS_DIR).joinpath(name).read_text("utf-8")
    if "</script" in text.lower() or "</style" in text.lower() or "<!--" in text:
        raise ValueError(f"{name} cannot be inlined safely")
    # Only licence comments and the SVG namespace string mention URLs; "\/" is "/" in JS.
    return text.replace("://", ":\\/\\/")


def _template() -> jinja2.Template:
    source = resources.files("kg").joinpath("templates").joinpath("graph.html").read_text("utf-8")
    env = jinja2.Environment(autoescape=True, keep_trailing_newline=True)
    env.filters["h"] = _html
    return env.from_string(source)


def _short(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1].rstrip() + "…"


def _evidence_lines(evidence: Any) -> list[dict[str, str]]:
    items = list(evidence or [])
    lines = []
    for ev in items[:MAX_EVIDENCE]:
        ev = ev if isinstance(ev, dict) else {"text": ev}
        source = ", ".join(str(ev[k]) for k in ("article", "date") if ev.get(k))
        text = f"“{ev.get('text') or ''}”" + (f" — {source}" if source else "")
        lines.append({"ev": text})
    if len(items) > MAX_EVIDENCE:
        lines.append({"ev": f"+{len(items) - MAX_EVIDENCE} more"})
    return lines


def _build(graph: "nx.MultiDiGraph") -> dict[str, Any]:
    node_ids = sorted(graph.nodes, key=str)
    index = {n: i for i, n in enumerate(node_ids)}
    degree = dict(graph.degree())
    scored = any(graph.nodes[n].get("size_score") is not None for n in node_ids)
    weight = {n: float(graph.nodes[n].get("size_score") or 0.0) if scored else float(degree[n])
              for n in node_ids}
    top = max(weight.values(), default=0.0) or 1.0

    nodes, type_count = [], Counter()
    for n in node_ids:
        attrs = graph.nodes[n]
        label = str(attrs.get("label") or n)
        ntype = str(attrs.get("type") or "Other")
        shape, color, _ = NODE_STYLES.get(ntype, DEFAULT_NODE_STYLE)
        type_count[ntype] += 1
        tip = [label, f"type: {ntype}", f"id: {n}"]
        if attrs.get("wikidata"):
            tip.append(f"wikidata: {attrs['wikidata']}")
        if attrs.get("aliases"):
            names = [str(a) for a in attrs["aliases"]]
            tip.append("also: " + ", ".join(names[:6]) + (f" (+{len(names) - 6})" if len(names) > 6 else ""))
        if ntype == "Claim" and attrs.get("text") and attrs["text"] != label:
            tip.append({"ev": f"“{attrs['text']}”"})
        tip.append(f"links: {degree[n]}")
        nodes.append({
            "id": index[n], "iri": str(n), "label": _short(label), "fullLabel": label,
            "kgType": ntype, "shape": shape, "tip": tip,
            "color": {"background": color, "border": "#555555",
                      "highlight": {"background": color, "border": "#000000"}},
            # entities' names grow with centrality; the many claim nodes stay small and grey
            "font": ({"color": "#666666", "size": 11} if ntype == "Claim" else
                     {"color": "#222222", "size": round(15 + 11 * math.sqrt(max(weight[n], 0.0) / top)),
                      "strokeWidth": 3, "strokeColor": "#ffffff"}),
            "size": round(10 + 22 * math.sqrt(max(weight[n], 0.0) / top), 2),
        })

    edges, rel_count, parallel = [], Counter(), Counter()
    for i, (u, v, key, attrs) in enumerate(
            sorted(graph.edges(keys=True, data=True), key=lambda e: (str(e[0]), str(e[1]), str(e[2])))):
        relation = str(attrs.get("relation") or "other")
        label = str(attrs.get("label") or relation)
        color = RELATION_COLORS.get(relation, DEFAULT_EDGE_COLOR)
        rel_count[relation] += 1
        pair = tuple(sorted((index[u], index[v])))
        k = parallel[pair]
        parallel[pair] += 1
        src, dst = graph.nodes[u].get("label") or u, graph.nodes[v].get("label") or v
        edges.append({
            "id": f"e{i}", "from": index[u], "to": index[v], "relation": relation,
            "label": _short(label), "color": {"color": color, "highlight": color, "hover": color},
            "font": {"color": "#444444", "strokeWidth": 3},
            "smooth": {"enabled": True, "type": "curvedCW" if k % 2 else "curvedCCW",
                       "roundness": round(0.1 + 0.12 * (k // 2), 2)} if k else
                      {"enabled": True, "type": "dynamic"},
            "tip": [f"{src} — {label} → {dst}",
                    *([{"ev": f"claim: “{attrs['claim']}”"}] if attrs.get("claim") else []),
                    *([f"sources: {attrs['sources']} article(s)"] if attrs.get("sources") else []),
                    *_evidence_lines(attrs.get("evidence"))],
        })

    legend = {
        "types": [{"name": t, "shape": NODE_STYLES.get(t, DEFAULT_NODE_STYLE)[0],
                   "color": NODE_STYLES.get(t, DEFAULT_NODE_STYLE)[1],
                   "glyph": NODE_STYLES.get(t, DEFAULT_NODE_STYLE)[2], "count": c}
                  for t, c in sorted(type_count.items())],
        "relations": [{"name": r, "color": RELATION_COLORS.get(r, DEFAULT_EDGE_COLOR), "count": c}
                      for r, c in sorted(rel_count.items())],
    }
    return {"nodes": nodes, "edges": edges, "legend": legend, "options": OPTIONS}


def render_html(graph: "nx.MultiDiGraph", path: str | Path, *, title: str = "kzru-kg",
                notice: str | None = None) -> Path:
    """Write an offline HTML view of ``graph`` to ``path`` and return the path."""
    data = _build(graph)
    page = _template().render(
        title=title, notice=notice, n_nodes=len(data["nodes"]), n_edges=len(data["edges"]),
        data_json=_script_json(data),
        vis_js=Markup(_vis_asset("vis-network.min.js")),
        vis_css=Markup(_vis_asset("vis-network.css")),
    )
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8", newline="\n")
    return out
