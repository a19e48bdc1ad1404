"""Build throughput end to end against the spaCy floor, with a per-stage breakdown.

    python benchmarks/bench_build.py --n 1000            # generates the corpus first
    python benchmarks/bench_build.py --corpus /tmp/kzbench/corpus-1k

In one process, over the same article texts:

1. the floor: spaCy alone - the plain model (``spacy.load(kg.nlp.MODEL)``, nothing of ours
   added) run with ``nlp.pipe(texts, batch_size=B)`` and nothing else;
2. the build: ``kg.pipeline.build(corpus, fresh store)`` - read and clean, NLP, resolve,
   extract, quads, store writes, derived graphs, SHACL validation (as ``kg build`` does;
   ``--no-validate`` to leave it out), with timers around the library functions it calls;
3. the floor again (``--floors 2``, the default): on a shared machine the load changes
   during a run, so the build is compared with the mean of the floors around it, and the
   ratio is also given in CPU seconds of this process (``time.process_time``: all its
   threads, the store's included), which other processes' load disturbs much less;

and prints words/second of both and their ratio (issue #9 target: >= 0.8). Both pipelines
are loaded before anything is timed (``kg build`` pays about a second more for that).

Then, unless ``--profile-n 0``, it builds the first ``--profile-n`` articles again under
cProfile and lists the hotspots OUTSIDE spaCy / thinc / numpy (by own time, with their share
of the profiled build), and the time of each spaCy component over the same articles.
cProfile slows Python code more than compiled code, so those shares overstate Python a little.
"""
from __future__ import annotations

import argparse
import cProfile
import functools
import os
import pstats
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from machine import machine_summary, peak_rss_mb  # noqa: E402

#: where a profiled function lives decides whether it is "spaCy" (the floor) or ours
NLP_LIBS = ("spacy", "thinc", "numpy", "cymem", "preshed", "srsly", "blis", "murmurhash")


class Timers:
    """Wall-clock seconds and call counts per stage name. Times are exclusive: a timed
    function called inside another (replace_graph inside refresh_derived, resolve inside
    extract_facts) counts for its own stage only."""

    def __init__(self):
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._stack: list[list[float]] = []  # per active timer: [time of timed children]

    def _enter(self) -> float:
        self._stack.append([0.0])
        return time.perf_counter()

    def _exit(self, name: str, start: float) -> None:
        elapsed = time.perf_counter() - start
        children = self._stack.pop()[0]
        self.seconds[name] += elapsed - children
        if self._stack:
            self._stack[-1][0] += elapsed

    def wrap(self, name: str, fn):
        @functools.wraps(fn)
        def timed(*args, **kwargs):
            t = self._enter()
            try:
                return fn(*args, **kwargs)
            finally:
                self._exit(name, t)
                self.calls[name] += 1
        return timed

    def wrap_iter(self, name: str, fn):
        """For generator functions: time spent producing each item (not the consumer's)."""
        @functools.wraps(fn)
        def timed(*args, **kwargs):
            it = iter(fn(*args, **kwargs))
            while True:
                t = self._enter()
                try:
                    item = next(it)
                except StopIteration:
                    return
                finally:
                    self._exit(name, t)
                self.calls[name] += 1
                yield item
        return timed


def instrument(timers: Timers) -> list[tuple[object, str, object]]:
    """Put timers around the library functions kg.pipeline.build calls; returns what to undo."""
    import kg.extract
    import kg.pipeline as pl
    import kg.validate
    from kg.store import KGStore

    undo = []

    def patch(owner, attr, wrapper):
        undo.append((owner, attr, getattr(owner, attr)))
        setattr(owner, attr, wrapper)

    patch(pl, "read_articles", timers.wrap_iter("read + clean", pl.read_articles))
    patch(pl, "reread", timers.wrap_iter("read again + clean", pl.reread))
    patch(pl, "parse", timers.wrap_iter("nlp (spaCy)", pl.parse))
    patch(kg.extract, "resolve", timers.wrap("resolve", kg.extract.resolve))
    patch(pl, "extract_facts", timers.wrap("extract (rules)", pl.extract_facts))
    patch(pl, "article_quads", timers.wrap("facts -> quads", pl.article_quads))
    patch(KGStore, "write_graphs", timers.wrap("store write", KGStore.write_graphs))
    patch(KGStore, "article_sha", timers.wrap("skip check", KGStore.article_sha))
    patch(KGStore, "article_version", timers.wrap("skip check", KGStore.article_version))
    patch(pl, "refresh_derived", timers.wrap("derived graphs", pl.refresh_derived))
    patch(kg.validate, "validate_written", timers.wrap("SHACL validation", kg.validate.validate_written))
    patch(pl, "_finish", timers.wrap("report (stats queries)", pl._finish))
    return undo


def restore(undo) -> None:
    for owner, attr, original in reversed(undo):
        setattr(owner, attr, original)


def floor(nlp, texts: list[str], batch_size: int) -> float:
    return floor_times(nlp, texts, batch_size)[0]


def floor_times(nlp, texts: list[str], batch_size: int) -> tuple[float, float]:
    """Wall-clock and CPU seconds of ``nlp.pipe`` over the texts."""
    t, c = time.perf_counter(), time.process_time()
    for _ in nlp.pipe(texts, batch_size=batch_size):
        pass
    return time.perf_counter() - t, time.process_time() - c


def one_vs_pipe(nlp, texts: list[str], batch_size: int, chunk: int = 10) -> tuple[float, float]:
    """CPU seconds of ``nlp(text)`` per text and of ``nlp.pipe`` over the same texts, run
    alternately chunk by chunk (which goes first alternates too), so that neither gets the
    quieter minutes or the warmer caches."""
    one = piped = 0.0
    for n, k in enumerate(range(0, len(texts), chunk)):
        part = texts[k:k + chunk]
        for way in (("one", "pipe") if n % 2 == 0 else ("pipe", "one")):
            c = time.process_time()
            if way == "one":
                for x in part:
                    nlp(x)
                one += time.process_time() - c
            else:
                for _ in nlp.pipe(part, batch_size=batch_size):
                    pass
                piped += time.process_time() - c
    return one, piped


def component_times(nlp, texts: list[str], batch_size: int) -> dict[str, float]:
    """Each pipeline component's own CPU time over the texts (one component at a time)."""
    out = {}
    t = time.process_time()
    docs = [nlp.make_doc(x) for x in texts]
    out["tokenizer"] = time.process_time() - t
    for name, proc in nlp.pipeline:
        t = time.process_time()
        if hasattr(proc, "pipe"):
            docs = list(proc.pipe(docs, batch_size=batch_size))
        else:
            docs = [proc(d) for d in docs]
        out[name] = time.process_time() - t
    return out


def profile_build(paths: list[Path], store_dir: Path, validate: bool, top: int) -> None:
    import kg.pipeline as pl

    prof = cProfile.Profile()
    t = time.perf_counter()
    prof.enable()
    pl.build(paths, store=store_dir, force=True, validate=validate)
    prof.disable()
    wall = time.perf_counter() - t
    st = pstats.Stats(prof)
    total = st.total_tt
    rows, by_lib = [], defaultdict(float)
    for (file, line, func), (cc, nc, tt, ct, callers) in st.stats.items():
        where = file if file != "~" else func
        lib = _library(where)
        by_lib[lib] += tt
        if lib == "spaCy & co":
            continue
        rows.append((tt, ct, nc, _short(file, line, func)))
    rows.sort(reverse=True)
    print(f"\nprofile: {len(paths)} article files built under cProfile in {wall:.1f} s "
          f"(profiled time {total:.1f} s)")
    print("  own time by library:")
    for lib, tt in sorted(by_lib.items(), key=lambda kv: -kv[1]):
        print(f"    {lib:28s} {tt:7.2f} s  {100 * tt / total:5.1f}%")
    print(f"  top {top} hotspots outside spaCy (own time; share of the profiled build):")
    for tt, ct, nc, name in rows[:top]:
        print(f"    {100 * tt / total:5.1f}%  {tt:6.2f} s own  {ct:6.2f} s cum  {nc:8d} calls  {name}")
    # spaCy objects our code makes and walks (Token/Span creation, doc.sents, attribute
    # getters) count as spaCy above; charge each direct call from kg/ to its caller
    induced = defaultdict(float)
    for (file, line, func), (cc, nc, tt, ct, callers) in st.stats.items():
        if _library(file if file != "~" else func) != "spaCy & co":
            continue
        for (cfile, cline, cfunc), edge in callers.items():
            if "/kg/" in cfile and not cfile.endswith(("kg/nlp.py", "kg/pipeline.py")):
                induced[_short(cfile, cline, cfunc)] += edge[3]
    print("  spaCy API time spent on behalf of our code (direct calls from kg/ outside the "
          "pipeline run: Token/Span creation, doc.sents, ...):")
    for name, ct in sorted(induced.items(), key=lambda kv: -kv[1])[:top]:
        print(f"    {100 * ct / total:5.1f}%  {ct:6.2f} s  {name}")
    print("  our library functions (cumulative, includes the spaCy calls they make):")
    wanted = ("kg/extract/__init__.py:extract_facts", "kg/resolve.py:resolve",
              "kg/rdf.py:article_quads", "kg/store.py:write_graphs", "kg/corpus.py:read_file",
              "kg/pipeline.py:refresh_derived", "kg/validate.py:validate_written",
              "kg/pipeline.py:_finish", "kg/nlp.py:parse")
    cum = defaultdict(float)
    for (file, line, func), (cc, nc, tt, ct, callers) in st.stats.items():
        key = f"kg/{file.replace(chr(92), '/').split('/kg/', 1)[-1]}:{func}"
        if "/kg/" in file and key in wanted:
            cum[key] = max(cum[key], ct)
    for key in wanted:
        if key in cum:
            print(f"    {100 * cum[key] / total:5.1f}%  {cum[key]:6.2f} s  {key}")
    for (file, line, func), (cc, nc, tt, ct, callers) in st.stats.items():
        if "/kg/extract/" in file and func == "extract" and ct > 0:
            print(f"    {100 * ct / total:5.1f}%  {ct:6.2f} s  kg/extract/{Path(file).name}:extract")


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _library(where: str) -> str:
    w = where.replace("\\", "/")
    if "/kg/" in w:
        return "kg (ours): " + w.split("/kg/", 1)[1].split("/")[0].removesuffix(".py")
    if any(f"/{lib}/" in w or w.startswith(f"{lib}/") or f"'{lib}." in w or f" {lib}." in w
           for lib in NLP_LIBS):
        return "spaCy & co"
    if "pyoxigraph" in w:
        return "pyoxigraph"
    for lib in ("rdflib", "pyshacl", "dateparser", "rapidfuzz", "anyascii", "regex", "owlrl"):
        if f"/{lib}/" in w or f"{lib}." in w:
            return lib
    if w.startswith("<") or "{" in w or "built-in" in w or "method" in w:
        return "Python builtins"
    return "Python stdlib / other"


def _short(file: str, line: int, func: str) -> str:
    if file == "~":
        return func
    f = file.replace("\\", "/")
    for marker in ("/kg/", "/site-packages/", "/lib/python3"):
        if marker in f:
            f = f.split(marker, 1)[1]
            if marker == "/kg/":
                f = "kg/" + f
            break
    return f"{f}:{line}({func})"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=200, help="articles to generate (ignored with --corpus)")
    ap.add_argument("--corpus", type=Path, help="an existing corpus folder (from corpus.py)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch-size", type=int, default=64, help="nlp.pipe batch size for the floor")
    ap.add_argument("--validate", action=argparse.BooleanOptionalAction, default=True,
                    help="include SHACL validation in the build (kg build's default)")
    ap.add_argument("--profile-n", type=int, default=100, help="articles to profile (0: skip)")
    ap.add_argument("--top", type=int, default=12)
    ap.add_argument("--keep", type=Path, help="keep the built store here")
    ap.add_argument("--floors", type=int, choices=(1, 2), default=2,
                    help="floor runs: before the build, or before and after it (default)")
    args = ap.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="kzbench-build-"))
    try:
        print(machine_summary())
        corpus = args.corpus
        if corpus is None:
            import corpus as gen
            corpus = work / "corpus"
            gen.generate(args.n, corpus, args.seed)
        files = sorted(p for p in corpus.iterdir() if p.suffix == ".txt")
        print(f"corpus: {corpus} ({len(files)} files)")

        import spacy

        from kg.nlp import MODEL, load_pipeline
        from kg.pipeline import read_articles, reread

        t = time.perf_counter()
        nlp = load_pipeline()
        load_s = time.perf_counter() - t
        print(f"pipeline: {nlp.pipe_names} loaded in {load_s:.2f} s (not counted below)")
        plain = spacy.load(MODEL)
        print(f"floor pipeline: plain {MODEL} {plain.pipe_names}")

        failures: list[str] = []
        t = time.perf_counter()
        articles = list(reread(list(read_articles([corpus], failures)), failures))
        read_s = time.perf_counter() - t
        texts = [a.text for a in articles]
        words = sum(len(x.split()) for x in texts)
        print(f"read + clean: {len(articles)} articles, {words} words, {read_s:.2f} s "
              f"({len(failures)} skipped)")

        floors = [floor_times(plain, texts, args.batch_size)]
        print(f"floor 1: nlp.pipe(batch_size={args.batch_size}) {floors[0][0]:.1f} s "
              f"(cpu {floors[0][1]:.1f} s) = {words / floors[0][0]:,.0f} words/s; load {_load()}")

        import kg.pipeline as pl

        timers = Timers()
        undo = instrument(timers)
        store_dir = args.keep or work / "store"
        if args.keep and store_dir.exists():
            shutil.rmtree(store_dir)
        try:
            t, c = time.perf_counter(), time.process_time()
            report = pl.build([corpus], store=store_dir, validate=args.validate)
            build_s, build_cpu = time.perf_counter() - t, time.process_time() - c
        finally:
            restore(undo)
        build_wps = report.words / build_s
        print(f"build: {report.articles} articles, {report.words} words, {report.quads} quads, "
              f"{sum(report.facts.values())} fact mentions in {build_s:.1f} s (cpu {build_cpu:.1f} s) "
              f"= {build_wps:,.0f} words/s{'' if args.validate else ' (no validation)'}; load {_load()}")
        if args.floors == 2:
            floors.append(floor_times(plain, texts, args.batch_size))
            print(f"floor 2: {floors[1][0]:.1f} s (cpu {floors[1][1]:.1f} s) = "
                  f"{words / floors[1][0]:,.0f} words/s; load {_load()}")
        floor_s = sum(f[0] for f in floors) / len(floors)
        floor_cpu = sum(f[1] for f in floors) / len(floors)
        floor_wps = words / floor_s
        each = " / ".join(f"{(report.words / build_s) / (words / f[0]):.2f}" for f in floors)
        print(f"RATIO build / floor = {build_wps / floor_wps:.2f} wall (vs each floor: {each}), "
              f"{(report.words / build_cpu) / (words / floor_cpu):.2f} cpu   (target >= 0.80)")
        secs = dict(timers.seconds)
        accounted = sum(secs.values())
        secs["other (loop, bookkeeping)"] = build_s - accounted
        print("stages (wall clock, share of the build):")
        for name, s in sorted(secs.items(), key=lambda kv: -kv[1]):
            n = timers.calls.get(name, 0)
            print(f"  {name:28s} {s:8.2f} s  {100 * s / build_s:5.1f}%  {n or '':>6}")
        wr = timers.seconds.get("store write", 0.0)
        if wr:
            print(f"store write rate inside the build: {report.quads / wr:,.0f} quads/s "
                  f"(all replace_graph calls, derived graphs included)")
        print(f"peak RSS of this process: {peak_rss_mb():.0f} MB")

        if args.profile_n:
            sub = files[:args.profile_n]
            sample = texts[:args.profile_n]
            sw = sum(len(x.split()) for x in sample)
            for label, pipe in (("plain model (the floor)", plain), ("kg.nlp.load_pipeline()", nlp)):
                comp = component_times(pipe, sample, args.batch_size)
                tot = sum(comp.values())
                print(f"\nspaCy components, {label}, over the first {len(sample)} articles "
                      f"({sw} words, {sw / tot:,.0f} words/s all together):")
                for name, s in comp.items():
                    print(f"  {name:16s} {s:7.2f} s  {100 * s / tot:5.1f}%")
            one, piped = one_vs_pipe(nlp, sample, args.batch_size)
            print(f"  nlp(text) one article at a time (as kg.nlp.parse does): {sw / one:,.0f} words/s; "
                  f"nlp.pipe(batch_size={args.batch_size}): {sw / piped:,.0f} words/s "
                  f"({one / piped:.2f}x; CPU time, alternating in chunks of 10 articles)")
            profile_build(sub, work / "profile-store", args.validate, args.top)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
