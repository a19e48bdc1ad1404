"""The HTML view in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright).

Loads each page from file://, refuses every other request, hovers every node and every edge,
and checks nothing throws, nothing reaches the network, and no article text runs as script.
"""
from __future__ import annotations

import os
from pathlib import Path

import networkx as nx
import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

if not os.path.exists(CHROMIUM):
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium; .ci/run installs it)",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api",
                               reason="playwright is missing (pip install -e '.[test]')")

R = "https://w3id.org/kzru-kg/resource/"
INJECT = [
    "<img src=x onerror=\"window.pwned='img'\">",
    "</script><script>window.pwned='script'</script>",
    "\"><svg onload=window.pwned='svg'>",
    "' onmouseover='window.pwned=1' x='",
    "<a href=\"javascript:window.pwned='href'\">href</a>",
    "{{ window.pwned }} ${window.pwned='tpl'}",
]
TEXTS = ["Тоқаев и Путин", "الرئيس قاسم جومارت توكاييف", "Kazakhstan 🇰🇿 🤝 🇷🇺 Russia",
         "«ёлки» „quotes“ ‘single’ \"double\" 'apos'", "\u202eRTL override\u202c & <b>bold</b>"]


def hostile_graph() -> nx.MultiDiGraph:
    g = nx.MultiDiGraph()
    labels = INJECT + TEXTS
    types = ["Person", "Country", "City", "Organization", "Region", "Claim", "Mystery"]
    for i, label in enumerate(labels):
        g.add_node(f"{R}n{i}", label=label, type=types[i % len(types)], aliases=[labels[-1 - i]],
                   wikidata=f"Q{i}\"><img src=x onerror=window.pwned=1>")
    nodes = list(g.nodes)
    rels = ["visited", "said", "memberOf", "metWith", "holdsPosition", "<script>rel</script>"]
    for i, u in enumerate(nodes):
        v = nodes[(i + 1) % len(nodes)]
        text = labels[(i + 3) % len(labels)]
        g.add_edge(u, v, key=rels[i % len(rels)], relation=rels[i % len(rels)], label=text, claim=text,
                   sources=2, evidence=[{"text": f"He said {text} here.", "article": labels[(i + 5) % len(labels)],
                                         "date": "2023-11-09"},
                                        {"text": "href=\"http://evil.example/\" " + text, "article": "a", "date": None}])
    g.add_edge(nodes[0], nodes[1], key="metWith", relation="metWith")  # a parallel edge, no evidence
    return g


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


class Page:
    """One page loaded from file://, recording console errors and every request."""

    def __init__(self, browser, path: Path):
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page = browser.new_page(viewport={"width": 1400, "height": 900})
        self.page.on("console", lambda m: self.errors.append(f"console {m.type}: {m.text}")
                     if m.type in ("error", "assert") else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        self.page.on("dialog", lambda d: (self.errors.append(f"dialog: {d.message}"), d.dismiss()))
        self.page.route("**/*", self._route)
        self.page.goto(path.resolve().as_uri())
        self.page.wait_for_function("document.body.dataset.ready === '1'", timeout=30_000)
        self.page.evaluate("window.kgNetwork.setOptions({interaction: {tooltipDelay: 0}})")

    def _route(self, route):
        url = route.request.url
        self.requests.append(url)
        if url.startswith("file://") or url.startswith("data:"):
            route.continue_()
        else:
            route.abort()

    def counts(self) -> tuple[int, int]:
        return tuple(self.page.evaluate("[window.kgNodes.length, window.kgEdges.length]"))

    def hover_all(self) -> dict[str, int]:
        """Move the mouse onto every node and every edge; returns how many showed a tooltip
        naming the thing under the mouse."""
        page = self.page
        box = page.locator("#kg-graph canvas").bounding_box()
        targets = page.evaluate("""() => {
          const net = window.kgNetwork, out = [];
          window.kgNodes.getIds().forEach(id => {
            const p = net.canvasToDOM(net.getPosition(id));
            out.push({kind: "node", id: id, x: p.x, y: p.y, text: window.kgNodes.get(id).fullLabel});
          });
          window.kgEdges.getIds().forEach(id => {
            const e = net.body.edges[id];
            const p = net.canvasToDOM(e.edgeType.getPoint(0.5));
            out.push({kind: "edge", id: id, x: p.x, y: p.y, text: null});
          });
          return out;
        }""")
        shown = {"node": 0, "edge": 0, "nodes": 0, "edges": 0}
        self.tips: list[str] = []
        for t in targets:
            shown[t["kind"] + "s"] += 1
            page.mouse.move(box["x"] + t["x"], box["y"] + t["y"])
            got = page.evaluate("""async ([k, x, y]) => {
              for (let i = 0; i < 3; i++) await new Promise(r => setTimeout(r, 0));  // the popup timer
              const net = window.kgNetwork;
              const under = k === "node" ? net.getNodeAt({x, y}) : net.getEdgeAt({x, y});
              const d = document.querySelector("div.vis-tooltip");
              const tip = d && d.style.visibility !== "hidden" ? d.textContent : "";
              return {under, tip};
            }""", [t["kind"], t["x"], t["y"]])
            if got["under"] != t["id"]:
                continue  # something else lies on top here; hovering it is still checked
            tip = got["tip"]
            self.tips.append(tip)
            if t["kind"] == "node" and t["text"] in tip or t["kind"] == "edge" and " — " in tip:
                shown[t["kind"]] += 1
        return shown

    def pwned(self):
        return self.page.evaluate("window.pwned === undefined ? null : String(window.pwned)")

    def injected_elements(self) -> int:
        return self.page.evaluate("document.querySelectorAll('img, svg, iframe, a[href]').length")


def _check_clean(pg: Page):
    assert pg.errors == []
    assert all(u.startswith(("file://", "data:")) for u in pg.requests), pg.requests
    assert pg.pwned() is None
    assert pg.injected_elements() == 0


def test_browser_seed_graph(browser, seed_store, tmp_path):
    from kg.network import to_networkx, view
    from kg.viz import render_html

    v = view(to_networkx(seed_store))
    out = render_html(v.graph, tmp_path / "seed.html", title="kzru-kg", notice=v.notice)
    pg = Page(browser, out)
    assert pg.counts() == (v.graph.number_of_nodes(), v.graph.number_of_edges())
    assert pg.counts()[0] > 20
    pg.page.screenshot(path=str(tmp_path / "seed.png"))
    shown = pg.hover_all()
    assert shown["nodes"] == v.graph.number_of_nodes() and shown["edges"] == v.graph.number_of_edges()
    assert shown["node"] > shown["nodes"] // 2 and shown["edge"] > 0
    _check_clean(pg)
    assert (tmp_path / "seed.png").stat().st_size > 20_000


def test_browser_hostile_text_stays_text(browser, tmp_path):
    from kg.viz import render_html

    g = hostile_graph()
    out = render_html(g, tmp_path / "hostile.html", title=INJECT[0] + TEXTS[0], notice=INJECT[1])
    pg = Page(browser, out)
    assert pg.counts() == (g.number_of_nodes(), g.number_of_edges())
    shown = pg.hover_all()
    assert shown["node"] > 0 and shown["edge"] > 0
    _check_clean(pg)
    assert any("He said " in tip for tip in pg.tips)  # evidence sentences in edge tooltips
    assert any(any(x in tip for x in INJECT) for tip in pg.tips)  # markup shown as text
    page = pg.page
    assert page.title() == INJECT[0] + TEXTS[0]
    assert page.locator("#kg-notice").text_content() == INJECT[1]
    options = page.locator("#kg-select option").all_text_contents()
    for label in INJECT + TEXTS:
        assert any(o.startswith(label) for o in options), label
    # the tooltip of the <img> node shows the markup as text
    net_id = page.evaluate("window.kgNodes.get().find(n => n.fullLabel.startsWith('<img')).id")
    page.evaluate("id => window.kgNetwork.selectNodes([id])", net_id)
    page.screenshot(path=str(tmp_path / "hostile.png"))


def test_browser_capped_view_says_what_was_left_out(browser, seed_store, tmp_path):
    from kg.network import to_networkx, view
    from kg.viz import render_html

    v = view(to_networkx(seed_store), max_nodes=15)
    out = render_html(v.graph, tmp_path / "capped.html", notice=v.notice)
    pg = Page(browser, out)
    assert pg.counts()[0] == 15
    notice = pg.page.locator("#kg-notice")
    assert notice.is_visible() and "left out" in notice.text_content()
    # the filter menu hides a relation's edges
    pg.page.locator("#kg-relations input").first.uncheck()
    hidden = pg.page.evaluate("window.kgEdges.get().filter(e => e.hidden).length")
    assert hidden > 0
    _check_clean(pg)
