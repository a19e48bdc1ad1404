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

StoreOpt = typer.Option(DEFAULT_STORE, "--store", help="Store directory (embedded Oxigraph).")


def fail(message: str, code: int = 1) -> None:
    err.print(f"[red]error:[/red] {message}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(code)


def open_store(path: str, read_only: bool = True) -> KGStore:
    try:
        return KGStore(path, read_only=read_only, create=not read_only)
    except StoreError as exc:
        fail(str(exc))


@app.command()
def build(paths: List[Path] = typer.Argument(None, help="Article files or folders (default: the bundled seeds/)."),
          store: str = StoreOpt,
          force: bool = typer.Option(False, help="Re-extract articles even if unchanged."),
          strict: bool = typer.Option(False, help="Write nothing if any input file is bad.")):
    """Read articles, extract facts and store them with their evidence."""
    from kg.pipeline import build as run_build

    try:
        kg = KGStore(store)
    except StoreError as exc:
        fail(str(exc))
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err, transient=False, disable=not err.is_terminal) as bar:
        task = bar.add_task("extracting", total=None)

        def progress(done: int, total: int, article_id: str) -> None:
            bar.update(task, completed=done, total=total, description=f"extracting {article_id}")

        try:
            report = run_build(paths or None, kg, force=force, strict=strict, progress=progress)
        finally:
            kg.close()
    for line in report.failures:
        err.print(f"[yellow]skipped:[/yellow] {line}", highlight=False, soft_wrap=True)
    table = Table(title="kg build", show_header=True)
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("articles written", str(report.articles))
    table.add_row("articles unchanged", str(report.skipped))
    table.add_row("articles failed", str(len(report.failures)))
    table.add_row("entities", str(report.entities))
    for rel in ("visited", "said", "memberOf", "metWith", "holdsPosition"):
        table.add_row(f"facts: {rel}", str(report.facts.get(rel, 0)))
    table.add_row("quads", str(report.quads))
    table.add_row("seconds", f"{report.seconds:.1f}")
    out.print(table)
    if report.failures:
        raise typer.Exit(1)


@app.command()
def export(format: str = typer.Option(..., "--format", "-f", help="turtle | trig | nquads | jsonld | facts"),
           output: Path = typer.Option(..., "--output", "-o", help="File to write."),
           store: str = StoreOpt):
    """Export the graph (RDF formats) or the flat facts table (JSONL)."""
    from kg.export import FORMATS, export as run_export

    if format not in FORMATS:
        fail(f"unknown format {format!r} (choose from {', '.join(FORMATS)})", 2)
    kg = open_store(store)
    n = run_export(kg, format, output)
    err.print(f"wrote {n} {'facts' if format == 'facts' else 'statements'} to {output}")


@app.command()
def query(sparql: Optional[str] = typer.Argument(None, help="A SPARQL query."),
          file: Optional[Path] = typer.Option(None, "--file", help="Read the query from a .rq file."),
          name: Optional[str] = typer.Option(None, "--name", help="A named query (see --list)."),
          list_: bool = typer.Option(False, "--list", help="List the named queries."),
          param: List[str] = typer.Option([], "--param", help="NAME=VALUE bound as an RDF literal (or <IRI>)."),
          format: str = typer.Option("table", "--format", help="table | csv | tsv | json | xml"),
          allow_service: bool = typer.Option(False, help="Allow SERVICE (outbound requests)."),
          store: str = StoreOpt):
    """Run SPARQL over the store (the default graph is the union of all articles)."""
    from kg import query as q

    if list_:
        for nq in q.named_queries().values():
            out.print(f"[bold]{nq.name}[/bold]  {nq.description}", highlight=False)
        return
    params = {}
    for p in param:
        if "=" not in p:
            fail(f"--param {p!r}: expected NAME=VALUE", 2)
        k, v = p.split("=", 1)
        params[k] = v
    kg = open_store(store)
    try:
        text = q.load_query(sparql, file, name)
        result = q.run(kg, text, params, allow_service=allow_service)
        if format == "table":
            table = q.as_table(result)
            t = Table(*table.variables, show_lines=False)
            for row in table.rows:
                t.add_row(*[("" if v is None else v) for v in row])
            out.print(t)
            err.print(f"{len(table.rows)} rows")
        else:
            sys.stdout.buffer.write(q.serialize(result, format))
    except q.QueryError as exc:
        fail(str(exc))


@app.command()
def viz(output: Path = typer.Option(Path("graph.html"), "--output", "-o", help="HTML file to write."),
        store: str = StoreOpt):
    """Draw the graph as an interactive HTML page (works offline)."""
    from kg.network import to_networkx
    from kg.viz import render_html

    kg = open_store(store)
    g = to_networkx(kg)
    render_html(g, output, title="kzru-kg")
    err.print(f"wrote {output}: {g.number_of_nodes()} nodes, {g.number_of_edges()} edges")


@app.command("eval")
def eval_(gold: Path = typer.Option(..., "--gold", help="gold.jsonl"),
          entities: Path = typer.Option(..., "--entities", help="entities.jsonl"),
          entities_only: bool = typer.Option(False, "--entities-only", help="Score entity resolution only."),
          as_json: bool = typer.Option(False, "--json", help="Print JSON."),
          show_errors: bool = typer.Option(False, "--errors", help="List missed and spurious facts."),
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
