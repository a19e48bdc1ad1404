"""The ``kg`` command: a thin typer layer that parses, calls one library function, prints."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from kg.store import DEFAULT_STORE, KGStore, StoreError

app = typer.Typer(help="kzru-kg: a knowledge graph of Kazakhstan–Russia relations from news articles.",
                  no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False)
out = Console()
err = Console(stderr=True)

StoreOpt = typer.Option(DEFAULT_STORE, "--store",
                        help="Store directory (embedded Oxigraph), or a SPARQL endpoint URL (http://HOST:7878/store).")


def fail(message: str, code: int = 1) -> None:
    err.print(f"[red]error:[/red] {message}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(code)


def open_store(path: str, read_only: bool = True) -> KGStore:
    from kg.remote import connect

    try:
        kg = connect(path, read_only=read_only, create=not read_only)
        if read_only and kg.derived_flagged():
            err.print(kg.STALE_NOTE, highlight=False, markup=False, soft_wrap=True)
        return kg
    except StoreError as exc:
        fail(str(exc))


@app.command()
def build(paths: List[Path] = typer.Argument(None, help="Article files or folders (default: the bundled seeds/)."),
          store: str = StoreOpt,
          force: bool = typer.Option(False, help="Re-extract articles even if unchanged."),
          strict: bool = typer.Option(False, help="Write nothing if any input file is bad."),
          validate: bool = typer.Option(True, "--validate/--no-validate",
                                        help="Check the graphs written against ontology/shapes.ttl (SHACL)."),
          max_chars: int = typer.Option(1_000_000, "--max-chars", min=1,
                                        help="Leave out (and report) articles with more characters of text."),
          workers: int = typer.Option(1, "--workers", min=1,
                                      help="Worker processes for NLP and extraction (each loads the pipeline once)."),
          engine: str = typer.Option("local", "--engine", help="local | dask (with --scheduler; see docs/cluster.md)."),
          scheduler: Optional[str] = typer.Option(None, "--scheduler", help="The dask scheduler, e.g. tcp://10.0.0.5:8786."),
          retries: int = typer.Option(3, "--retries", min=0,
                                      help="Retry an article whose worker died, or a store request that failed, this many times.")):
    """Read articles, extract facts and store them with their evidence."""
    from kg.engines import EngineError, make_engine
    from kg.pipeline import build as run_build
    from kg.remote import connect
    from kg.validate import ValidationError

    try:
        make_engine(engine, workers=workers, scheduler=scheduler)  # check the options first
        kg = connect(store, retries=retries)
    except (EngineError, StoreError) as exc:
        fail(str(exc))
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err, transient=False, disable=not err.is_terminal) as bar:
        task = bar.add_task("extracting", total=None)

        def progress(done: int, total: int, article_id: str) -> None:
            bar.update(task, completed=done, total=total, description=f"extracting {article_id}")

        try:
            report = run_build(paths or None, kg, force=force, strict=strict, validate=validate,
                               progress=progress, max_chars=max_chars, workers=workers,
                               engine=engine, scheduler=scheduler, retries=retries)
        except (ValidationError, StoreError, EngineError) as exc:
            fail(str(exc))
        finally:
            kg.close()
    for line in report.failures:
        err.print(f"[yellow]skipped:[/yellow] {line}", highlight=False, soft_wrap=True)
    table = Table(title="kg build", caption="this build's writes; `kg stats` describes the whole store",
                  show_header=True)
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("articles written", str(report.articles))
    table.add_row("articles unchanged", str(report.skipped))
    table.add_row("articles failed", str(len(report.failures)))
    table.add_row("entities mentioned", str(len(report.entities)))
    for rel in ("visited", "said", "memberOf", "metWith", "holdsPosition"):
        table.add_row(f"fact mentions: {rel}", str(report.facts.get(rel, 0)))
    table.add_row("quads written", str(report.quads))
    table.add_row("SHACL violations", str(len(report.violations)) if report.validated else "not checked")
    table.add_row("seconds", f"{report.seconds:.1f}")
    out.print(table)
    for line in report.violations[:5]:
        err.print(f"[yellow]violation:[/yellow] {line}", highlight=False, markup=True, soft_wrap=True)
    if len(report.violations) > 5:
        err.print(f"... and {len(report.violations) - 5} more (run `kg validate`)", highlight=False)
    if report.failures:
        raise typer.Exit(1)


@app.command()
def export(format: str = typer.Option(..., "--format", "-f", help="turtle | trig | nquads | jsonld | facts | graphml | gexf"),
           output: Path = typer.Option(..., "--output", "-o", help="File to write."),
           store: str = StoreOpt):
    """Export the graph (RDF formats) or the flat facts table (JSONL)."""
    from kg.export import FORMATS, export as run_export

    if format in ("graphml", "gexf"):  # the networkx projection, for Gephi and Cytoscape
        from kg import network as nw

        n_nodes, n_edges = nw.write_network(nw.to_networkx(open_store(store)), format, output)
        err.print(f"wrote {n_nodes} nodes and {n_edges} edges to {output}")
        return
    if format not in FORMATS:
        fail(f"unknown format {format!r} (choose from {', '.join(FORMATS)})", 2)
    kg = open_store(store)
    try:
        n = run_export(kg, format, output)
    except ValueError as exc:
        fail(str(exc))
    err.print(f"wrote {n} {'facts' if format == 'facts' else 'statements'} to {output}")


@app.command()
def query(sparql: Optional[str] = typer.Argument(None, help="A SPARQL query."),
          file: Optional[Path] = typer.Option(None, "--file", help="Read the query from a .rq file."),
          name: Optional[str] = typer.Option(None, "--name", help="A named query (see --list)."),
          list_: bool = typer.Option(False, "--list", help="List the named queries."),
          param: List[str] = typer.Option([], "--param", help="NAME=VALUE bound as an RDF term: a string literal, or an IRI written <...> or kzr:..."),
          format: str = typer.Option("table", "--format", help="table | csv | tsv | json | xml; CONSTRUCT/DESCRIBE: turtle (default) | ntriples"),
          timeout: float = typer.Option(30.0, "--timeout", min=0, help="Stop the query after this many seconds (0: no limit, run in-process)."),
          allow_service: bool = typer.Option(False, help="Allow SERVICE (outbound requests)."),
          store: str = StoreOpt):
    """Run SPARQL over the store (the default graph is the union of all articles)."""
    from kg import query as q

    if list_:
        for qname, desc, params in q.describe_named():
            out.print(f"[bold]{qname}[/bold]  {desc}", highlight=False)
            for line in params:
                out.print(f"    {line}", highlight=False)
        return
    try:
        text, params, entity_params = q.prepare(sparql, file, name, param)
        res = q.run_isolated(store, text, params, format=format, timeout=timeout,
                             allow_service=allow_service, entity_params=entity_params)
    except q.QueryError as exc:
        fail(str(exc))
    for note in res.notes:
        err.print(note, highlight=False, markup=False, soft_wrap=True)
    if res.table is not None:
        from rich.text import Text

        t = Table(show_lines=False)
        for var in res.table.variables:
            t.add_column(Text(var))
        for row in res.table.rows:  # Text: article text is never read as rich markup
            t.add_row(*[Text("" if v is None else v) for v in row])
        out.print(t)
        err.print(f"{len(res.table.rows)} rows")
    else:
        sys.stdout.buffer.write(res.data)


@app.command()
def serve(host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
          port: int = typer.Option(7878, "--port", help="TCP port."),
          timeout: float = typer.Option(30.0, "--timeout", min=0, help="Seconds a query may run (0: no limit)."),
          limit: int = typer.Option(10_000, "--limit", min=0,
                                    help="Most solutions or triples one answer holds (0: no limit); a cut answer has the header X-KG-Truncated: true."),
          writable: bool = typer.Option(False, "--writable", help="Accept SPARQL updates (default: refused)."),
          allow_service: bool = typer.Option(False, "--allow-service",
                                             help="Run SERVICE (and, with --writable, LOAD): outbound requests (default: refused)."),
          store: str = StoreOpt):
    """A SPARQL 1.1 Protocol endpoint over the store (Oxigraph's server behind a filtering proxy), read-only by default."""
    from kg import serve as sv

    if not sv.is_loopback(host):
        err.print(f"[yellow]warning:[/yellow] listening on {host}: other machines can query this store",
                  highlight=False)
    try:
        sv.serve(store, host, port, timeout, writable, limit, allow_service,
                 say=lambda m: err.print(m, highlight=False, markup=False, soft_wrap=True))
    except sv.ServeError as exc:
        fail(str(exc))


@app.command()
def viz(output: Path = typer.Option(Path("graph.html"), "--output", "-o", help="HTML file to write."),
        focus: Optional[str] = typer.Option(None, "--focus", help="Centre on an entity (label, alias or IRI)."),
        depth: int = typer.Option(1, "--depth", min=0, help="With --focus: links away from it to show."),
        relations: Optional[str] = typer.Option(None, "--relations", help="Comma-separated: visited,said,memberOf,metWith,holdsPosition."),
        since: Optional[str] = typer.Option(None, "--since", help="Only evidence dated on/after (YYYY[-MM[-DD]]): visit date, else article date."),
        until: Optional[str] = typer.Option(None, "--until", help="Only evidence dated on/before (YYYY[-MM[-DD]])."),
        min_sources: int = typer.Option(1, "--min-sources", min=1, help="Only facts stated by at least N articles."),
        max_nodes: int = typer.Option(150, "--max-nodes", min=1, help="Keep the N most central nodes (PageRank)."),
        store: str = StoreOpt):
    """Draw the graph as an interactive HTML page (works offline)."""
    from kg import network as nw
    from kg.viz import render_html

    kg = open_store(store)
    try:
        v = nw.view(nw.to_networkx(kg), focus_on=focus, depth=depth, relations=relations, since=since,
                    until=until, min_sources=min_sources, max_nodes=max_nodes)
    except nw.ViewError as exc:
        fail(str(exc))
    g = v.graph
    render_html(g, output, title="kzru-kg" + (f": {g.nodes[v.focus]['label']}" if v.focus else ""),
                notice=v.notice)
    if v.notice:
        err.print(v.notice, highlight=False, markup=False)
    err.print(f"wrote {output}: {g.number_of_nodes()} nodes, {g.number_of_edges()} edges")


@app.command()
def validate(store: str = StoreOpt,
             engine: str = typer.Option("pyshacl", "--engine",
                                        help="pyshacl (the reference) or sparql (the shapes compiled to SPARQL, "
                                             "what a build uses: the same violations, faster).")):
    """Check the whole store against ontology/shapes.ttl (SHACL); one line per violation."""
    from kg.validate import ENGINES, ValidationError, validate_store

    if engine not in ENGINES:
        fail(f"--engine: {engine!r} is not one of {', '.join(ENGINES)}", code=2)
    kg = open_store(store)
    try:
        violations = validate_store(kg, engine=engine)
    except ValidationError as exc:
        fail(str(exc))
    for v in violations:
        out.print(v.line(), highlight=False, markup=False, soft_wrap=True)
    if violations:
        err.print(f"{len(violations)} violations", highlight=False)
        raise typer.Exit(1)
    err.print(f"conforms: {len(kg)} statements checked against the shapes", highlight=False)


@app.command()
def remove(article_ids: List[str] = typer.Argument(..., help="Article ids (schema:identifier: a .txt file's name without the extension)."),
           store: str = StoreOpt):
    """Remove articles: drop their named graphs, then recompute entity labels and corroboration."""
    from kg.pipeline import RemoveError, remove as run_remove
    from kg.remote import connect

    try:
        kg = connect(store, create=False)
    except StoreError as exc:
        fail(str(exc))
    try:
        removed = run_remove(article_ids, kg)
    except RemoveError as exc:
        fail(str(exc))
    finally:
        kg.close()
    err.print(f"removed {len(removed)} article(s): {', '.join(removed)}", highlight=False)


@app.command()
def stats(as_json: bool = typer.Option(False, "--json", help="Print JSON."),
          top: int = typer.Option(10, "--top", min=1, help="How many entities in each ranking."),
          store: str = StoreOpt):
    """Counts, central entities (degree, PageRank, betweenness), communities, and Kazakhstan–Russia facts by year."""
    from kg.stats import compute, render

    rep = compute(open_store(store), top=top)
    if as_json:
        out.print_json(json.dumps(rep, ensure_ascii=False))
    else:
        render(rep, out)


@app.command("eval")
def eval_(gold: Path = typer.Option(..., "--gold", help="gold.jsonl"),
          entities: Path = typer.Option(..., "--entities", help="entities.jsonl"),
          entities_only: bool = typer.Option(False, "--entities-only", help="Score entity resolution only."),
          as_json: bool = typer.Option(False, "--json", help="Print JSON."),
          show_errors: bool = typer.Option(False, "--errors", help="List missed and spurious facts."),
          markdown: bool = typer.Option(False, "--markdown", help="Print the scores as a Markdown table (the README's)."),
          store: str = StoreOpt):
    """Score the graph against gold facts: P/R/F1 per relation, micro-averaged."""
    from kg import evaluate as ev
    from kg.export import iter_facts

    kg = open_store(store)
    try:
        g = ev.load_gold(gold, entities)
    except ev.GoldError as exc:
        fail(str(exc))
    if entities_only:
        nodes, wd = kg.entity_labels()
        rep = ev.evaluate_entities(nodes, wd, g)
        if as_json:
            out.print_json(json.dumps(rep.as_dict()))
            return
        t = Table(title="entities")
        t.add_column("measure")
        t.add_column("value", justify="right")
        t.add_row("gold entities", str(rep.gold_entities))
        t.add_row("gold entities found", str(rep.found))
        t.add_row("split over several nodes", str(len(rep.split)))
        t.add_row("nodes merging gold entities", str(len(rep.merged)))
        t.add_row("nodes matching no gold entity", str(rep.unmatched_nodes))
        out.print(t)
        for k, v in rep.split.items():
            out.print(f"split {k}: {', '.join(v)}", highlight=False)
        for k, v in rep.merged.items():
            out.print(f"merged {k}: {', '.join(v)}", highlight=False)
        return
    rep = ev.evaluate(iter_facts(kg), g)
    if markdown:
        print(ev.markdown_table(rep))
        return
    if as_json:
        out.print_json(json.dumps(rep.as_dict()))
        return
    t = Table(title="kg eval")
    for col in ("relation", "P", "R", "F1", "tp", "fp", "fn"):
        t.add_column(col, justify="right" if col != "relation" else "left")
    for rel, s in list(rep.relations.items()) + [("micro", rep.micro)]:
        t.add_row(rel, f"{s.precision:.3f}", f"{s.recall:.3f}", f"{s.f1:.3f}", str(s.tp), str(s.fp), str(s.fn))
    out.print(t)
    for k, (c, n) in sorted(rep.attributes.items()):
        out.print(f"{k} accuracy: {c}/{n}", highlight=False)
    if show_errors:
        for m in rep.misses:
            out.print(f"[red]missed[/red] {json.dumps(m, ensure_ascii=False)}", highlight=False)
        for p in rep.spurious:
            brief = {k: p[k] for k in ("article", "predicate", "subject", "object", "claim") if p.get(k)}
            out.print(f"[yellow]spurious[/yellow] {json.dumps(brief, ensure_ascii=False)}", highlight=False)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
