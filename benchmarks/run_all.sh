#!/usr/bin/env bash
# Every benchmark of benchmarks/README.md, one after another (about 1.5 hours on 2 cores).
# Usage: benchmarks/run_all.sh [RESULTS_DIR]   (default /tmp/kzbench/results)
# Corpora are generated once under /tmp/kzbench (corpus-1k, corpus-10k) and reused.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
OUT=${1:-/tmp/kzbench/results}
mkdir -p "$OUT"
[ -d /tmp/kzbench/corpus-1k ] || $PY benchmarks/corpus.py --n 1000 --out /tmp/kzbench/corpus-1k
[ -d /tmp/kzbench/corpus-10k ] || $PY benchmarks/corpus.py --n 10000 --out /tmp/kzbench/corpus-10k

run() { local name=$1; shift; echo "== $name: $*"; "$@" 2>&1 | tee "$OUT/$name.txt"; }

run store       $PY benchmarks/bench_store.py --quads 300000
run query       $PY benchmarks/bench_query.py --sizes 10000,100000,1000000 --limit 60 --rdflib-limit 60
run incremental $PY benchmarks/bench_incremental.py --articles 10000 --reps 3
run build       $PY benchmarks/bench_build.py --corpus /tmp/kzbench/corpus-1k --profile-n 100
run memory      $PY benchmarks/bench_memory.py --corpus /tmp/kzbench/corpus-10k --sizes 250,1000,2000
run workers     $PY benchmarks/bench_workers.py --corpus /tmp/kzbench/corpus-1k
run candidates  $PY benchmarks/bench_query.py --sizes 1000000 --only claims-by-speaker --extra benchmarks/candidates --rdflib-max 0 --limit 60
