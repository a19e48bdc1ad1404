"""Peak memory (RSS) of a build as the corpus grows: one fresh process per size.

    python benchmarks/bench_memory.py --corpus /tmp/kzbench/corpus-10k --sizes 250,1000,2000
    python benchmarks/bench_memory.py --sizes 1000,10000 --cli     # plain `kg build` processes

For each size N a child process builds the first N articles of the corpus into a fresh store
(``kg.pipeline.build``, as ``kg build`` does, SHACL validation included unless
``--no-validate``). The parent reads the child's peak RSS from ``os.wait4`` (ru_maxrss); the
child also samples its RSS after the pipeline load, at every 10% of the articles, and before
and after the derived graphs, validation and the report queries, so a growth can be pinned to
a stage. With ``--cli`` the child is ``kg build`` itself (peak only). The corpus is generated
(corpus.py) when --corpus is not given. Issue #9 target: flat peak RSS from 1,000 to 10,000.

The store's own memory grows with it: Oxigraph's RocksDB keeps each table file's index and
bloom filter in memory once the file is read (not in a bounded cache), about 20 bytes per quad
read. So after each build a third process opens the finished store, reads every quad and
reports how much its RSS grew: what any process reading that store holds for it. The
build's own memory is the peak less that.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from machine import machine_summary  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def child(corpus: Path, store: Path, validate: bool, out: Path) -> None:
    """Runs in the measured process: build, sampling RSS at progress points."""
    samples: list[tuple[str, float, float]] = []
    t0 = time.perf_counter()

    def mark(what: str) -> None:
        samples.append((what, round(time.perf_counter() - t0, 2), round(rss_mb(), 1)))

    mark("start")
    import kg.pipeline as pl
    import kg.validate
    from kg.nlp import load_pipeline

    load_pipeline()
    mark("pipeline loaded")

    def around(owner, attr, label):
        fn = getattr(owner, attr)

        def wrapped(*a, **k):
            mark(f"before {label}")
            try:
                return fn(*a, **k)
            finally:
                mark(f"after {label}")
        setattr(owner, attr, wrapped)

    around(pl, "refresh_derived", "derived graphs")
    around(kg.validate, "validate_written", "validation")
    around(pl, "_finish", "report queries")
    step = {"next": 0.1}

    def progress(done: int, total: int, _id: str) -> None:
        if total and done / total >= step["next"] - 1e-9:
            mark(f"{100 * done // total}% of articles")
            step["next"] += 0.1

    report = pl.build([corpus], store=store, validate=validate, progress=progress)
    mark("end")
    out.write_text(json.dumps({"samples": samples, "articles": report.articles, "words": report.words,
                               "quads": report.quads, "seconds": report.seconds}))


def read_through(store: Path) -> None:
    """Runs in a fresh process: open the store, read every quad, print the RSS in MB."""
    import pyoxigraph as ox

    st = ox.Store.read_only(str(store))
    opened = rss_mb()
    quads = sum(1 for _ in st)
    print(json.dumps({"quads": quads, "rss": rss_mb() - opened}))


def subset(corpus: Path, n: int, where: Path) -> Path:
    files = sorted(p for p in corpus.iterdir() if p.suffix == ".txt")
    if len(files) < n:
        raise SystemExit(f"{corpus} has {len(files)} articles, fewer than {n}")
    d = where / f"corpus-{n}"
    d.mkdir(parents=True, exist_ok=True)
    for p in files[:n]:
        (d / p.name).symlink_to(p.resolve())
    return d


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="250,1000,2000", help="articles per build, comma-separated")
    ap.add_argument("--corpus", type=Path, help="corpus folder with at least max(sizes) articles")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--validate", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--cli", action="store_true", help="measure `kg build` processes (peak only)")
    ap.add_argument("--child", nargs=3, metavar=("CORPUS", "STORE", "OUT"), help=argparse.SUPPRESS)
    ap.add_argument("--read-through", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.read_through:
        return read_through(args.read_through)
    if args.child:
        return child(Path(args.child[0]), Path(args.child[1]), args.validate, Path(args.child[2]))

    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    print(machine_summary())
    work = Path(tempfile.mkdtemp(prefix="kzbench-mem-"))
    try:
        corpus = args.corpus
        if corpus is None:
            import corpus as gen
            corpus = work / "corpus"
            gen.generate(max(sizes), corpus, args.seed)
        rows = []
        for n in sizes:
            sub = subset(corpus, n, work)
            store = work / f"store-{n}"
            out = work / f"samples-{n}.json"
            if args.cli:
                cmd = [str(Path(sys.executable).parent / "kg"), "build", str(sub), "--store", str(store)]
                if not args.validate:
                    cmd.append("--no-validate")
            else:
                cmd = [sys.executable, __file__, "--child", str(sub), str(store), str(out)]
                if not args.validate:
                    cmd.append("--no-validate")
            t = time.perf_counter()
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - t
            err = proc.stderr.read().decode("utf-8", "replace")
            if status != 0:
                print(f"build of {n} articles failed (status {status}):\n{err[-2000:]}")
                continue
            peak = usage.ru_maxrss / 1024
            print(f"\n== {n} articles: peak RSS {peak:,.0f} MB, {wall:.1f} s wall "
                  f"({usage.ru_utime + usage.ru_stime:.1f} s CPU)")
            info = json.loads(out.read_text()) if out.exists() else {}
            for what, secs, mb in info.get("samples", []):
                print(f"   {secs:8.1f} s  {mb:8.0f} MB  {what}")
            if info:
                print(f"   {info['articles']} articles, {info['words']} words, {info['quads']:,} quads")
            reader = subprocess.run([sys.executable, __file__, "--read-through", str(store)],
                                    capture_output=True, text=True, check=True)
            info["store"] = json.loads(reader.stdout)
            own = peak - info["store"]["rss"]
            print(f"   a fresh process reading the finished store through ({info['store']['quads']:,} quads) "
                  f"grows by {info['store']['rss']:,.0f} MB; the build's own: {own:,.0f} MB")
            rows.append((n, peak, wall, info))
            shutil.rmtree(store, ignore_errors=True)
        if len(rows) > 1:
            (n0, p0, *_), (n1, p1, *_) = rows[0], rows[-1]
            per_k = (p1 - p0) / (n1 - n0) * 1000
            print(f"\ngrowth: {p0:,.0f} MB at {n0} articles -> {p1:,.0f} MB at {n1} "
                  f"({p1 / p0:.2f}x; {per_k:+.0f} MB per 1,000 articles)")
            pre = []
            for n, _, _, info in rows:
                before = [mb for what, _, mb in info.get("samples", []) if what == "100% of articles"]
                if before:
                    pre.append((n, before[0]))
            if len(pre) > 1:
                print("RSS when the last article is written (before derived graphs / validation): "
                      + ", ".join(f"{n}: {mb:,.0f} MB" for n, mb in pre))
            (*_, i0), (*_, i1) = rows[0], rows[-1]
            o0, o1 = p0 - i0["store"]["rss"], p1 - i1["store"]["rss"]
            print(f"the build's own (peak less the store read through): {o0:,.0f} MB -> {o1:,.0f} MB "
                  f"({o1 / o0:.2f}x)")
            if n1 < 10_000:
                ext = p1 + per_k * (10_000 - n1) / 1000
                print(f"linear extrapolation to 10,000 articles: ~{ext:,.0f} MB (not measured)")
        print("target: flat peak RSS from 1,000 to 10,000 articles")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
