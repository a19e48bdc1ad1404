"""Latency of every named query (kg/queries/*.rq) at 10k, 100k and 1M facts, Oxigraph vs rdflib.

    python benchmarks/bench_query.py [--sizes 10000,100000,1000000] [--rdflib-max 1000000]

A "fact" here is one quad (one RDF statement) of article graphs; each size also reports how
many fact mentions (``kzo:Assertion`` nodes) and article graphs that is. The stores are made
synthetically at the quad level (synth.py: real article graphs replicated with renamed IRIs,
then the derived graphs computed as a build does), not by running NLP.

Each named query runs as ``kg query --name X`` runs it, through ``KGStore.query`` with the
union default graph, results fully read, ``--reps`` times after one warm-up run: first without
parameters (what a user gets by default, and the heaviest case), then with a typical value
(``TYPICAL`` below, the examples the query headers give; entity names are resolved to labels as
``kg query`` does, inside the timed run, then once more resolved beforehand). The parameterless
text also runs over the same quads loaded into rdflib's in-memory ``Dataset`` (default graph =
union of the named graphs), fewer times and with a per-run time limit. Oxigraph runs happen in
a worker process (killed after ``--limit`` seconds: a pyoxigraph query cannot be interrupted
from Python); rdflib runs are stopped by SIGALRM. Printed: p50 / p95 wall-clock milliseconds,
the Oxigraph worker's CPU time p50 (a shared machine stretches wall time, not CPU time) and the
rdflib / Oxigraph ratio of the p50s, and the p50 of the same query with its rows counted inside
Oxigraph (``SELECT (COUNT(*) AS ?rows) WHERE { query }``): what is left when no row is read
out into Python, so the difference is the cost of the result's size alone. ``kg query`` runs a query in a worker process
(``run_isolated``); that fixed cost is measured once per size as well. Issue #9 target: every
named query p50 < 100 ms at 1M facts.

The stores are kept under ``--stores`` (default /tmp/kzbench/stores), one per size, pipeline
version and synth version, and reused by later runs (``--fresh``: temporary stores instead).
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from machine import machine_summary, peak_rss_mb, percentile  # noqa: E402

#: a typical parameter value per named query (the examples in the query headers)
TYPICAL = {
    "claims-by-speaker": {"speaker": "Putin"},
    "evidence": {"subject": "Tokayev", "predicate": "visited"},
    "kz-ru-by-year": {"relation": "visited"},
    "memberships": {"organisation": "CSTO"},
    "most-mentioned": {"type": "Country"},
    "visits-timeline": {"visitor": "Tokayev"},
    "who-met-whom": {"person": "Putin"},
}


class Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise Timeout()


def timed_runs(fn, reps: int, budget_s: float, limit_s: float | None = None, cpu: list | None = None
               ) -> tuple[list[float], int, str | None]:
    """Latencies (s) of up to ``reps`` runs (after one warm-up), stopping when ``budget_s`` is
    spent; with ``limit_s`` each run is interrupted after that long (SIGALRM). The third value
    says why runs stopped early ("timeout", or the error), else None. ``cpu`` receives the
    process CPU time of each kept run."""
    times, rows, timed_out = [], 0, None
    start = time.perf_counter()
    for i in range(reps + 1):
        if limit_s:
            signal.setitimer(signal.ITIMER_REAL, limit_s)
        t = time.perf_counter()
        c = time.process_time()
        try:
            rows = fn()
        except Timeout:
            timed_out = "timeout"
            break
        except Exception as exc:  # rdflib fails on some queries Oxigraph answers
            timed_out = f"error: {type(exc).__name__}"
            break
        finally:
            if limit_s:
                signal.setitimer(signal.ITIMER_REAL, 0)
        dt = time.perf_counter() - t
        dc = time.process_time() - c
        if i > 0 or reps == 0 or dt > budget_s / 2:  # a slow query: keep the warm-up run too
            times.append(dt)
            if cpu is not None:
                cpu.append(dc)
        if time.perf_counter() - start > budget_s and times:
            break
    return times, rows, timed_out


def _worker(store_path: str) -> None:
    """Worker process: JSON requests on stdin, one JSON reply line each on stdout."""
    import json

    from kg.query import bind, resolve_entity_names
    from kg.store import KGStore
    from kg.vocab import PREFIXES

    kg = KGStore(store_path, read_only=True)
    for line in sys.stdin:
        req = json.loads(line)

        params, entity = req.get("params") or {}, req.get("entity_params") or []
        if not req.get("resolve", True):  # time the query alone: names resolved beforehand
            params, entity = resolve_entity_names(kg.ox, params, entity, PREFIXES)[0], []

        def run(text=req["text"], params=params, entity=entity):
            # as `kg query --name X --param ...` does it: names resolved to labels, then bound
            names, _ = resolve_entity_names(kg.ox, params, entity, PREFIXES)
            return sum(1 for _ in kg.query(text, bind(names, PREFIXES)))

        cpu: list[float] = []
        times, rows, why = timed_runs(run, req["reps"], req["budget"], cpu=cpu)
        sys.stdout.write(json.dumps({"times": times, "cpu": cpu, "rows": rows, "why": why}) + "\n")
        sys.stdout.flush()


class OxWorker:
    """Runs Oxigraph queries in a child process that can be killed: a pyoxigraph query does
    not return to Python (so no signal is handled) until it has its first results."""

    def __init__(self, store_path: Path):
        self.store_path = store_path
        self.proc = None

    def start(self):
        import subprocess

        self.proc = subprocess.Popen([sys.executable, __file__, "--worker", str(self.store_path)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def run(self, text: str, reps: int, budget: float, limit: float, params: dict | None = None,
            entity_params: list | None = None, resolve: bool = True
            ) -> tuple[list[float], int, str | None, list[float]]:
        import json
        import selectors

        if self.proc is None or self.proc.poll() is not None:
            self.start()
        self.proc.stdin.write(json.dumps({"text": text, "reps": reps, "budget": budget, "params": params or {},
                                          "entity_params": entity_params or [], "resolve": resolve}) + "\n")
        self.proc.stdin.flush()
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        # the worker stops starting new runs after `budget`; one run may take `limit`
        ready = sel.select(timeout=budget + limit)
        sel.close()
        if not ready:
            self.close()
            return [], 0, "timeout", []
        reply = self.proc.stdout.readline()
        if not reply:
            self.close()
            return [], 0, "error: worker died", []
        r = json.loads(reply)
        return r["times"], r["rows"], r["why"], r["cpu"]

    def close(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


def fmt_ms(times: list[float], q: float) -> str:
    return f"{1000 * percentile(times, q):.1f}" if times else "-"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10000,100000,1000000", help="facts (quads) per store, comma-separated")
    ap.add_argument("--reps", type=int, default=20, help="timed runs per query on Oxigraph")
    ap.add_argument("--budget", type=float, default=20.0, help="seconds per query and store at most")
    ap.add_argument("--limit", type=float, default=120.0,
                    help="seconds before one Oxigraph run is stopped (its worker process is killed)")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--rdflib-reps", type=int, default=5)
    ap.add_argument("--rdflib-limit", type=float, default=60.0, help="seconds before one rdflib run is stopped")
    ap.add_argument("--rdflib-max", type=int, default=1_000_000, help="largest size also loaded into rdflib (0: never)")
    ap.add_argument("--base-articles", type=int, default=40)
    ap.add_argument("--stores", type=Path, default=Path("/tmp/kzbench/stores"),
                    help="where the synthetic stores are kept and reused (default /tmp/kzbench/stores)")
    ap.add_argument("--fresh", action="store_true", help="build temporary stores and delete them after")
    ap.add_argument("--no-params", action="store_true", help="skip the runs with a typical parameter value")
    ap.add_argument("--only", help="named queries to run, comma-separated (default: all)")
    ap.add_argument("--extra", type=Path, help="also time these .rq files (e.g. benchmarks/candidates: "
                    "rewrites of named queries), each as 'NAME*'")
    args = ap.parse_args(argv)
    if args.worker:
        return _worker(args.worker)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]

    import synth
    from kg.query import named_queries, run_isolated
    from kg.vocab import PREFIXES

    print(machine_summary())
    named = named_queries()
    queries = {name: nq.text for name, nq in named.items()}
    if args.only:
        queries = {k: v for k, v in queries.items() if k in args.only.split(",")}
    if args.extra:
        for rq in sorted(args.extra.glob("*.rq")):
            queries[rq.stem + "*"] = rq.read_text(encoding="utf-8")
    print(f"named queries: {', '.join(queries)}")
    base, base_n = synth.article_graphs(args.base_articles)
    work = Path(tempfile.mkdtemp(prefix="kzbench-query-")) if args.fresh else args.stores
    work.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGALRM, _alarm)
    summary = []
    try:
        for size in sizes:
            print(f"\n== {size:,} facts (quads of article graphs)")
            path, info = synth.cached_store(work, size, base, base_n)
            worker = OxWorker(path)
            results = {}
            for name, text in queries.items():
                times, rows, why, cpu = worker.run(text, args.reps, args.budget, args.limit)
                results[name] = {"ox": times, "cpu": cpu, "rows": rows, "ox_why": why}
                # the same evaluation with no row read out: the result's own cost is the difference
                counted, _, _, _ = worker.run(f"SELECT (COUNT(*) AS ?rows) WHERE {{\n{text}\n}}",
                                              args.reps, args.budget, args.limit)
                results[name]["counted"] = counted
                print(f"   oxigraph {name}: {len(times)} runs, {sum(times):.2f} s"
                      + (f" ({why})" if why else ""), flush=True)
                params = TYPICAL.get(name.rstrip("*"))
                if params and not args.no_params:
                    nq = named.get(name.rstrip("*"))
                    entity = [p.name for p in nq.params if p.entity] if nq else []
                    times, rows, why, cpu = worker.run(text, args.reps, args.budget, args.limit, params, entity)
                    results[name]["param"] = {"ox": times, "cpu": cpu, "rows": rows, "ox_why": why,
                                              "values": params}
                    print(f"   oxigraph {name} {params}: {len(times)} runs, {sum(times):.2f} s"
                          + (f" ({why})" if why else ""), flush=True)
                    if entity:  # the same without the name lookup (kg.query.resolve_entity_names)
                        times, rows, why, cpu = worker.run(text, args.reps, args.budget, args.limit, params,
                                                           entity, resolve=False)
                        results[name]["param"]["bare"] = {"ox": times, "cpu": cpu, "ox_why": why}
            worker.close()
            # what `kg query --name X` adds: a worker process opening the store read-only
            iso = []
            for _ in range(5):
                t = time.perf_counter()
                run_isolated(path, "ASK { ?s ?p ?o }", timeout=30)
                iso.append(time.perf_counter() - t)

            rdf_s = None
            if args.rdflib_max and size <= args.rdflib_max:
                from rdflib import Dataset

                data = synth.dataset_nquads(path)
                t = time.perf_counter()
                ds = Dataset(default_union=True)
                ds.parse(data=data, format="nquads")
                rdf_s = time.perf_counter() - t
                del data
                for name, qtext in queries.items():
                    def run_rdf(text=qtext):
                        return sum(1 for _ in ds.query(text, initNs=PREFIXES))
                    times, rows, timed_out = timed_runs(
                        run_rdf, args.rdflib_reps, max(args.budget, args.rdflib_limit), args.rdflib_limit)
                    results[name]["rdf"] = times
                    results[name]["rdf_rows"] = rows
                    results[name]["rdf_timeout"] = timed_out
                    print(f"   rdflib {name}: {len(times)} runs, {sum(times):.1f} s"
                          + (f" ({timed_out})" if timed_out else ""), flush=True)
                del ds

            print(f"   {info['quads']:,} quads in the store incl. derived graphs, "
                  f"{info['assertions']:,} fact mentions, {info['articles']:,} article graphs; "
                  f"derived graphs computed in {info.get('derived_s', 0):.1f} s"
                  + (f"; rdflib parse {rdf_s:.1f} s" if rdf_s is not None else ""))
            print(f"   {'query':20s} {'rows':>6s} {'ox p50':>9s} {'ox p95':>9s} {'cpu p50':>8s} {'n':>3s}"
                  f" {'counted':>8s} {'rdflib p50':>11s} {'rdflib p95':>11s} {'n':>3s} {'ratio':>7s}")
            for name, r in results.items():
                ox_p50 = percentile(r["ox"], 50) if r["ox"] else args.limit
                if "rdf" in r:
                    if r["rdf_timeout"] and r["rdf_timeout"].startswith("error"):
                        rdf_p50, rdf_p95, ratio = r["rdf_timeout"], "-", "-"
                    elif r["rdf"]:
                        rdf_p50, rdf_p95 = fmt_ms(r["rdf"], 50), fmt_ms(r["rdf"], 95)
                        ratio = f"{percentile(r['rdf'], 50) / ox_p50:.1f}x"
                        if not r["ox"]:
                            ratio = f"<{percentile(r['rdf'], 50) / ox_p50:.1f}x"
                    else:
                        rdf_p50, rdf_p95 = f">{args.rdflib_limit * 1000:.0f}", "-"
                        ratio = f">{args.rdflib_limit / ox_p50:.1f}x" if r["ox"] else "?"
                    rdf_n = str(len(r["rdf"]))
                    if r["rdf"] and not r["rdf_timeout"] and r.get("rdf_rows") != r["rows"]:
                        ratio += f" (rdflib rows {r['rdf_rows']})"
                else:
                    rdf_p50 = rdf_p95 = rdf_n = ratio = "-"
                ok = "" if size < 1_000_000 or ox_p50 < 0.1 else "  > 100 ms"
                ox50 = fmt_ms(r["ox"], 50) if r["ox"] else f">{args.limit * 1000:.0f}"
                if r["ox_why"] and r["ox_why"].startswith("error"):
                    ox50 = r["ox_why"]
                print(f"   {name:20s} {r['rows']:>6} {ox50:>9s} {fmt_ms(r['ox'], 95):>9s}"
                      f" {fmt_ms(r['cpu'], 50):>8s} {len(r['ox']):>3} {fmt_ms(r['counted'], 50):>8s} {rdf_p50:>11s} {rdf_p95:>11s}"
                      f" {rdf_n:>3s} {ratio:>7s}{ok}")
                summary.append((size, name, r))
            with_params = [(name, r["param"]) for name, r in results.items() if "param" in r]
            if with_params:
                print("   with a typical parameter value (Oxigraph; entity names resolved in the run):")
                for name, pr in with_params:
                    ox50 = fmt_ms(pr["ox"], 50) if pr["ox"] else (pr["ox_why"] or f">{args.limit * 1000:.0f}")
                    ok = "" if size < 1_000_000 or (pr["ox"] and percentile(pr["ox"], 50) < 0.1) else "  > 100 ms"
                    values = " ".join(f"{k}={v}" for k, v in pr["values"].items())
                    bare = pr.get("bare")
                    if bare and bare["ox"]:
                        values += (f"  (without the name lookup: p50 {fmt_ms(bare['ox'], 50)}, p95 "
                                   f"{fmt_ms(bare['ox'], 95)}, cpu {fmt_ms(bare['cpu'], 50)})")
                    print(f"   {name:20s} {pr['rows']:>6} {ox50:>9s} {fmt_ms(pr['ox'], 95):>9s}"
                          f" {fmt_ms(pr['cpu'], 50):>8s} {len(pr['ox']):>3}   {values}{ok}")
            print(f"   kg query worker process (run_isolated, trivial ASK): "
                  f"p50 {fmt_ms(iso, 50)} ms, p95 {fmt_ms(iso, 95)} ms")
            print(f"   peak RSS so far: {peak_rss_mb():.0f} MB")
            if args.fresh:
                shutil.rmtree(path, ignore_errors=True)
        print("\ntarget: every named query p50 < 100 ms at 1M facts (Oxigraph, in process)")
    finally:
        if args.fresh:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
