"""Shared fixtures: one spaCy pipeline and one store built from the seeds per test session."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SHARED_EVAL = ROOT.parent / "shared" / "eval"


@pytest.fixture(scope="session")
def nlp():
    from kg.nlp import load_pipeline

    return load_pipeline()


@pytest.fixture(scope="session")
def gaz():
    from kg.gazetteer import load_gazetteer

    return load_gazetteer()


@pytest.fixture(scope="session")
def seed_store_path(tmp_path_factory):
    """The seeds built once into a store directory (closed after the build)."""
    from kg.pipeline import build

    path = tmp_path_factory.mktemp("seed-store") / "store"
    report = build([SEEDS], path)
    assert report.ok, report.failures
    return path


@pytest.fixture(scope="session")
def seed_store(seed_store_path):
    """The seed store opened read-only: tests cannot change it."""
    from kg.store import KGStore

    store = KGStore(seed_store_path, read_only=True)
    yield store
    store.close()


@pytest.fixture
def extract(nlp, gaz):
    """Facts from one text, as (predicate, subject, object-or-claim) tuples plus the facts."""
    from kg.extract import extract_facts
    from kg.model import Article

    def run(text: str, date: str | None = "2023-11-08"):
        article = Article(id="t", text=text, date=date)
        facts, _ = extract_facts(article, nlp(text), gaz)
        return facts

    return run
