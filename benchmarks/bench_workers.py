"""Process parallelism: `kg build --workers 2` vs `--workers 1` on the same corpus.

    python benchmarks/bench_workers.py --n 1000          # or --corpus /tmp/kzbench/corpus-1k

When ``kg build`` has a ``--workers`` option, both builds run as ``kg build`` processes into
fresh stores and the speed-up is printed (issue #9 target: >= 1.7x on 1,000 articles).
Until it has one, that line says "not available", and what exists is measured instead:
one ``kg build`` process (the baseline --workers 2 must beat), and spaCy's own process
parallelism over the same cleaned texts, ``nlp.pipe(n_process=2)`` vs ``n_process=1`` - the
most a second process can give the NLP stage on this machine.
"""
from __future__ import annotations

import argparse
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

KG = Path(sys.executable).parent / "kg"  # the kg of the Python running this


def has_workers_option() -> bool:
    out = subprocess.run([str(KG), "build", "--help"], capture_output=True, text=True,
                         env={**os.environ, "COLUMNS": "200"})
    return "--workers" in out.stdout


def kg_build(corpus: Path, store: Path, extra: list[str], validate: bool) -> float:
    cmd = [str(KG), "build", str(corpus), "--store", str(store), *extra]
    if not validate:
        cmd.append("--no-validate")
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    secs = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    return secs


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--corpus", type=Path)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", default="1,2", help="worker counts to compare")
    ap.add_argument("--validate", action=argparse.BooleanOptionalAction, default=False,
                    help="include SHACL validation (off: it is single-process either way)")
    ap.add_argument("--batch-size", type=int, default=64)
    args = ap.parse_args(argv)
    counts = [int(x) for x in args.workers.split(",")]

    print(machine_summary())
    work = Path(tempfile.mkdtemp(prefix="kzbench-workers-"))
    try:
        corpus = args.corpus
        if corpus is None:
            import corpus as gen
            corpus = work / "corpus"
            gen.generate(args.n, corpus, args.seed)
        n = sum(1 for p in corpus.iterdir() if p.suffix == ".txt")
        print(f"corpus: {corpus} ({n} articles); validation {'on' if args.validate else 'off'}")

        if has_workers_option():
            times = {}
            for w in counts:
                times[w] = kg_build(corpus, work / f"store-w{w}", ["--workers", str(w)], args.validate)
                print(f"kg build --workers {w}: {times[w]:.1f} s")
            for w in counts[1:]:
                print(f"SPEED-UP --workers {w} vs {counts[0]}: {times[counts[0]] / times[w]:.2f}x "
                      f"(target >= 1.7x for 2)")
        else:
            print("kg build --workers: not available (no such option yet)")
            secs = kg_build(corpus, work / "store", [], args.validate)
            print(f"kg build (one process, as now): {secs:.1f} s")

        # what process parallelism can give the NLP stage on this machine
        from kg.nlp import load_pipeline
        from kg.pipeline import read_articles, reread

        texts = [a.text for a in reread(list(read_articles([corpus], [])), [])]
        words = sum(len(t.split()) for t in texts)
        nlp = load_pipeline()
        res = {}
        for p in counts:
            t = time.perf_counter()
            for _ in nlp.pipe(texts, batch_size=args.batch_size, n_process=p):
                pass
            res[p] = time.perf_counter() - t
            print(f"nlp.pipe(n_process={p}): {res[p]:.1f} s = {words / res[p]:,.0f} words/s")
        for p in counts[1:]:
            print(f"spaCy n_process={p} vs {counts[0]}: {res[counts[0]] / res[p]:.2f}x "
                  f"(the NLP stage's ceiling for --workers {p} here)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
