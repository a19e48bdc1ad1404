"""``kg build``: articles -> NLP -> facts -> the store, incremental and idempotent."""
from __future__ import annotations

import hashlib
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from kg import __version__
from kg.corpus import CorpusError, iter_paths, read_file
from kg.extract import VERSION as EXTRACTOR_VERSION
from kg.extract import extract_facts
from kg.gazetteer import GAZETTEER_PATH, load_gazetteer
from kg.model import Article, Fact
from kg.nlp import load_pipeline, parse
from kg.rdf import ENTITY_GRAPH, BuildInfo, article_iri, article_quads
from kg.store import KGStore

DEFAULT_CORPUS = Path(__file__).resolve().parent.parent / "seeds"

#: called as progress(done, total, article_id) while building
Progress = Callable[[int, int, str], None]


@dataclass
class BuildReport:
    articles: int = 0  # articles (re)written
    skipped: int = 0  # unchanged since the last build
    entities: int = 0
    facts: Counter = field(default_factory=Counter)
    quads: int = 0
    seconds: float = 0.0
    words: int = 0
    failures: list[str] = field(default_factory=list)  # one line each: "file: problem"
    validated: bool = False  # whether the graphs written were checked against the shapes
    violations: list[str] = field(default_factory=list)  # SHACL violations, one line each

    @property
    def ok(self) -> bool:
        return not self.failures


@dataclass(frozen=True)
class ArticleResult:
    article: Article
    facts: list[Fact]
    quads: list


def build_info() -> BuildInfo:
    """The software and domain knowledge that produce facts (recorded with every fact)."""
    gaz = hashlib.sha256(GAZETTEER_PATH.read_bytes()).hexdigest()
    return BuildInfo(software=__version__, extractors=EXTRACTOR_VERSION, gazetteer=gaz)


def version_tag() -> str:
    """Identifies the software and domain knowledge that produced a fact."""
    return build_info().tag


def read_articles(paths: Iterable[str | Path], failures: list[str]) -> Iterator[Article]:
    """Every readable article under the paths; problems are appended to ``failures``."""
    seen_sha: dict[str, str] = {}
    for given in paths:
        try:
            files = list(iter_paths([given]))
        except CorpusError as exc:
            failures.append(str(exc))
            continue
        for path in files:
            try:
                articles = read_file(path)
            except CorpusError as exc:
                failures.append(str(exc))
                continue
            for article in articles:
                first = seen_sha.setdefault(article.sha256, article.id)
                if first != article.id:
                    failures.append(f"{path}: same text as article {first}; skipped")
                    continue
                yield article


def process(articles: Iterable[Article], batch_size: int = 16) -> Iterator[ArticleResult]:
    """NLP and extraction for a stream of articles (one pipeline load per process)."""
    nlp = load_pipeline()
    gaz = load_gazetteer()
    info = build_info()
    pending = list(articles) if not isinstance(articles, list) else articles
    docs = parse(nlp, (a.text for a in pending), batch_size=batch_size)
    for article, doc in zip(pending, docs):
        facts, res = extract_facts(article, doc, gaz)
        quads = article_quads(article, facts, res.variants, res.entities, info, res.mentions)
        yield ArticleResult(article, facts, quads)


def build(paths: Iterable[str | Path] | None = None, store: KGStore | str | Path = "kg-store",
          *, force: bool = False, strict: bool = False, validate: bool = True,
          progress: Progress | None = None) -> BuildReport:
    """Build (or update) the store from article files. Articles whose text and software
    are unchanged since the last build are skipped; changed ones replace their graph.
    The graphs written (and the entity labels) are then checked against ontology/shapes.ttl
    unless ``validate`` is false; violations are reported, not fatal."""
    t0 = time.perf_counter()
    report = BuildReport()
    own = not isinstance(store, KGStore)
    kg = KGStore(store) if own else store
    try:
        tag = version_tag()
        todo = []
        for article in read_articles(paths or [DEFAULT_CORPUS], report.failures):
            if not force and kg.article_sha(article.id) == article.sha256 \
                    and kg.article_version(article.id) == tag:
                report.skipped += 1
                continue
            todo.append(article)
        if strict and report.failures:
            return _finish(report, kg, t0)
        written = []
        for i, result in enumerate(process(todo), 1):
            written.append(article_iri(result.article.id))
            kg.replace_graph(written[-1], result.quads)
            report.articles += 1
            report.words += len(result.article.text.split())
            if progress:
                progress(i, len(todo), result.article.id)
        if written or force or not kg.has_derived_graphs():
            refresh_derived(kg)
        if validate and written:
            from kg.validate import validate_store

            report.violations = [v.line() for v in validate_store(kg, [*written, ENTITY_GRAPH])]
            report.validated = True
        return _finish(report, kg, t0)
    finally:
        if own:
            kg.close()


def refresh_derived(kg: KGStore) -> None:
    """Recompute the graphs derived from all articles: entity labels and corroboration."""
    kg.refresh_entities({e.entity.key: e.entity for e in load_gazetteer().entries.values()})
    kg.refresh_corroboration()


class RemoveError(Exception):
    """An article id that is not in the store; the message names it."""


def remove(article_ids: Iterable[str], store: KGStore | str | Path = "kg-store") -> list[str]:
    """Drop articles' named graphs (facts, assertions, description), then recompute the
    derived graphs, so entities no remaining article mentions lose their label and facts
    lose the corroboration those articles gave. All ids must be present, or nothing changes."""
    own = not isinstance(store, KGStore)
    kg = KGStore(store, create=False) if own else store
    try:
        ids = list(dict.fromkeys(article_ids))
        missing = [i for i in ids if not kg.ox.contains_named_graph(article_iri(i))]
        if missing:
            raise RemoveError(f"{kg.path}: no article {', '.join(missing)} in the store")
        for article_id in ids:
            kg.remove_article(article_id)
        refresh_derived(kg)
        kg.flush()
        return ids
    finally:
        if own:
            kg.close()


def _finish(report: BuildReport, kg: KGStore, t0: float) -> BuildReport:
    kg.flush()
    report.quads = len(kg)
    rows = kg.query("SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE { GRAPH ?g { ?e a ?t } "
                    "FILTER(?t IN (kzo:Person, kzo:Country, kzo:City, kzo:Region, "
                    "kzo:Organization, kzo:Agreement, kzo:Event, kzo:Other)) }")
    report.entities = int(next(iter(rows))["n"].value)
    report.facts = Counter()
    rows = kg.query("SELECT ?p (COUNT(*) AS ?n) WHERE { ?a a kzo:Assertion ; rdf:predicate ?p } GROUP BY ?p")
    for r in rows:
        report.facts[r["p"].value.rsplit("#", 1)[1]] = int(r["n"].value)
    report.seconds = time.perf_counter() - t0
    return report
