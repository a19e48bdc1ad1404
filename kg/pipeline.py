"""``kg build``: articles -> NLP -> facts -> the store, incremental and idempotent."""
from __future__ import annotations

import functools
import hashlib
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from kg import __version__
from kg.corpus import ARTICLE_SUFFIXES, CorpusError, iter_file, iter_paths
from kg.extract import VERSION as EXTRACTOR_VERSION
from kg.extract import extract_facts
from kg.gazetteer import GAZETTEER_PATH, load_gazetteer
from kg.model import Article, Fact
from kg.nlp import load_pipeline, parse
from kg.rdf import (ALT, BuildInfo, article_iri, article_quads, confidence_key, derived_keys, fact_mentions,
                    safe_id)
from kg.store import KGStore, StoreError

DEFAULT_CORPUS = Path(__file__).resolve().parent.parent / "seeds"
#: articles with more characters of text than this are reported and left out (``--max-chars``):
#: extraction time grows faster than the length (measured: 200,000 characters of dense news
#: text 30 s, 1,000,000 characters 12 min on 2 cores), and the parse is held in memory
DEFAULT_MAX_CHARS = 1_000_000
#: after this many articles in a row could not be written (a remote store that is down), the
#: build stops writing and reports the rest as not written
MAX_WRITE_FAILURES_IN_A_ROW = 3

#: a build updating the derived graphs by what changed applies what it has collected once
#: this many facts and entities have changed (and at its end), so what it holds is bounded
FLUSH_CHANGES = 50_000

#: article graphs validated together (SHACL holds them in memory at once)
VALIDATE_CHUNK = 200

#: called as progress(done, total, article_id) while building
Progress = Callable[[int, int, str], None]


@dataclass
class BuildReport:
    articles: int = 0  # articles (re)written
    skipped: int = 0  # unchanged since the last build
    entities: set = field(default_factory=set)  # the entities the articles written mention
    facts: Counter = field(default_factory=Counter)  # fact mentions written, by relation
    quads: int = 0  # quads written (article graphs; `kg stats` counts the whole store)
    seconds: float = 0.0
    words: int = 0
    failures: list[str] = field(default_factory=list)  # one line each: "file: problem"
    validated: bool = False  # whether the graphs written were checked against the shapes
    violations: list[str] = field(default_factory=list)  # SHACL violations, one line each

    @property
    def ok(self) -> bool:
        return not self.failures


@dataclass(frozen=True)
class ArticleRef:
    """What a build keeps of an article between reading it to decide whether to build it and
    reading it again to build it: no text, so memory does not grow with the corpus."""
    id: str
    sha256: str
    source: str | None


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


#: how an article stands in the store: its text stored under another id (a copy, unless this
#: build gives that id another text), new, stored with another text or software, stored as it is
COPY, NEW, STORED, UNCHANGED = -1, 0, 1, 2


def read_articles(paths: Iterable[str | Path], failures: list[str],
                  max_chars: int | None = DEFAULT_MAX_CHARS,
                  standing: Callable[[str, str], int] | None = None) -> Iterator[ArticleRef]:
    """The id and hash of every readable article under the paths, in the order read (its
    text is read again when its turn comes: :func:`reread`). Each file is read an article at
    a time and only these are kept, so a large .jsonl feed is never held. Problems are
    appended to ``failures``, one line each naming the file: missing, not a regular file,
    unreadable, empty, binary, too long (more than ``max_chars`` characters of text), invalid
    Unicode, a folder with no articles (a .jsonl file with a bad line is left out whole); and
    of two articles that clash — one id with two texts (two folders' ``x.txt``, a .jsonl id
    given twice), one text under two ids, two ids naming one graph — the one left out. An
    article read twice (the same id and text: a file given twice, a repeated line) comes once.

    ``standing(id, sha256)`` says how an article stands in the store (``COPY``, ``NEW``,
    ``STORED``, ``UNCHANGED``; all new without it). Clashes are decided once all is read:
    articles are taken by standing, then in the order read, each unless it clashes with one
    taken. An unchanged article (checked when it was built) is neither decoded nor cleaned nor
    checked again, so a rebuild reads mostly bytes."""
    read: set[tuple[str, str]] = set()  # (id, sha256) of every article read
    candidates: list[tuple[int, int, ArticleRef]] = []  # (-standing, order read, article)
    lines: list[tuple[int, str]] = []  # (order read, failure) of the articles left out
    for given in paths:
        try:
            files = list(iter_paths([given]))
        except CorpusError as exc:
            failures.append(str(exc))
            continue
        if not files and Path(given).is_dir():
            failures.append(f"{given}: no article files in this folder ({', '.join(ARTICLE_SUFFIXES)})")
        for path in files:
            problem = _oversized_file(path, max_chars)
            if problem:
                failures.append(f"{path}: {problem}")
                continue
            found: list[tuple[ArticleRef, str | None, int]] = []

            def want(id: str, sha: str, path=path, found=found) -> bool:
                rank = standing(id, sha) if standing else NEW
                if rank == UNCHANGED:
                    found.append((ArticleRef(id, sha, str(path)), None, rank))
                return rank != UNCHANGED

            try:  # the whole file first: one bad line leaves it out
                for a in iter_file(path, want):
                    found.append((ArticleRef(a.id, a.sha256, a.source), _article_problem(a, max_chars),
                                  standing(a.id, a.sha256) if standing else NEW))
            except CorpusError as exc:
                failures.append(str(exc))
                continue
            except UnicodeEncodeError as exc:  # a JSON escape of half a surrogate pair
                failures.append(f"{path}: invalid Unicode ({exc.reason}: {exc.object[exc.start:exc.end]!r})")
                continue
            except Exception as exc:  # an odd file never stops the build
                failures.append(f"{path}: cannot read ({_describe(exc)})")
                continue
            for ref, problem, rank in found:
                if (ref.id, ref.sha256) in read:
                    continue  # the same article again (a file given twice, a repeated line)
                read.add((ref.id, ref.sha256))
                if problem:
                    lines.append((len(read), f"{_where(ref)}: {problem}"))
                else:
                    candidates.append((-rank, len(read), ref))
    # clashes decided in one pass, standing first, then the order read: an article taken is
    # never given up for a later one, so no article is left out for a rival that is not taken
    taken: dict[str, tuple[int, ArticleRef]] = {}  # id -> (order read, article)
    by_sha: dict[str, str] = {}  # sha256 -> the id of the article taken with it
    owners: dict[str, str] = {}  # IRI segment -> the id of the article taken with it

    def rival(ref: ArticleRef) -> str | None:
        return by_sha.get(ref.sha256) or (ref.id if ref.id in taken else None) or owners.get(safe_id(ref.id))

    left_out = []
    for _, order, ref in sorted(candidates, key=lambda c: (c[0], c[1])):
        if rival(ref) is not None:
            left_out.append((order, ref))
            continue
        taken[ref.id] = (order, ref)
        by_sha[ref.sha256] = owners[safe_id(ref.id)] = ref.id
    # each named after a rival among all taken (same text, else id, else graph): a rerun that
    # takes the same articles gives the same lines
    lines.extend((order, _clash(ref, taken[rival(ref)][1])) for order, ref in left_out)
    failures.extend(line for _, line in sorted(lines))  # in the order read, whatever decided them
    for _, ref in sorted(taken.values(), key=lambda t: t[0]):
        yield ref


def _clash(loser: ArticleRef, winner: ArticleRef) -> str:
    """The line reporting an article left out for another this build takes."""
    if loser.id == winner.id:
        return f"{_where(loser)}: id {loser.id!r} is also the id of {_where(winner)}, with another text; skipped"
    if loser.sha256 == winner.sha256:
        return f"{_where(loser)}: same text as article {winner.id}; skipped"
    return f"{_where(loser)}: id {loser.id!r} names the same graph as article {winner.id!r}; skipped"


def _where(article: Article | ArticleRef) -> str:
    """How a message names an article: its file, and its id when the file holds several."""
    source = article.source or article.id
    return f"{source}: article {article.id}" if source.lower().endswith(".jsonl") else source


def _describe(exc: BaseException) -> str:
    msg = " ".join(str(exc).split())[:300]
    return f"{type(exc).__name__}: {msg}" if msg else type(exc).__name__


def _oversized_file(path: Path, max_chars: int | None) -> str | None:
    """A .txt file too big to hold at most ``max_chars`` characters in any encoding (UTF-32
    takes 4 bytes a character) is refused before it is read."""
    if not max_chars or path.suffix.lower() != ".txt":
        return None
    try:
        size = path.stat().st_size
    except OSError:
        return None  # reading it names the problem
    if size > 4 * max_chars + 4:
        return (f"too long ({size:,} bytes: more than {max_chars:,} characters in any encoding; "
                "raise --max-chars)")
    return None


def _article_problem(article: Article, max_chars: int | None) -> str | None:
    if max_chars and len(article.text) > max_chars:
        return f"too long ({len(article.text):,} characters > {max_chars:,}; raise --max-chars)"
    for name in ("id", "text", "title", "date", "outlet", "url"):
        value = getattr(article, name)
        try:
            if isinstance(value, str):
                value.encode("utf-8")
        except UnicodeEncodeError:
            return f"invalid Unicode in its {name} (a lone surrogate, such as the JSON escape \\ud800)"
    return None


def _stored_elsewhere(kg: KGStore, articles: list[ArticleRef], failures: list[str]) -> Iterator[ArticleRef]:
    """Leave out an article whose text is stored under another id that keeps it after this
    build (a renamed or copied file: `kg remove` the old id first), or whose id names the
    graph of another stored article. An article left out keeps its stored text, which makes
    the articles with that text copies in turn (files renamed in a chain: b to c, a to b; a
    feed without ids that lost its first line): followed from each article left out, so the
    work stays linear. Looked up once per article, so the cost does not grow with the store."""
    given = {a.id: a.sha256 for a in articles}  # the texts this build would store
    out: dict[str, str] = {}  # id -> why it is left out
    waiting: dict[str, list[str]] = {}  # id -> the articles that are copies if it is left out
    for a in articles:
        others = [i for i in kg.article_ids_with_sha(a.sha256) if i != a.id]
        owner = kg.article_id_in(article_iri(a.id))
        # a stored article with this text keeps it unless this build gives it another
        other = next((i for i in others if given.get(i, a.sha256) == a.sha256), None)
        if other is not None:
            out[a.id] = f"same text as article {other}, already in the store; skipped"
        elif owner not in (None, a.id):
            out[a.id] = f"id {a.id!r} names the same graph as article {owner!r}, already in the store; skipped"
        else:
            for i in others:  # each given another text, which it loses if it is left out
                waiting.setdefault(i, []).append(a.id)
    todo = list(out)
    while todo:
        left = todo.pop()
        for copy in waiting.pop(left, []):
            if copy not in out:
                out[copy] = f"same text as article {left}, already in the store; skipped"
                todo.append(copy)
    for a in articles:
        if a.id in out:
            failures.append(f"{_where(a)}: {out[a.id]}")
        else:
            yield a


def reread(refs: list[ArticleRef], failures: list[str], lost: set[str] | None = None) -> Iterator[Article]:
    """The articles the refs name, read again from their files in order (each file once; a
    .jsonl line is cleaned only when wanted). One whose file changed or went away since it
    was first read is reported in ``failures``, its id added to ``lost``, and left out."""
    i = 0
    while i < len(refs):
        source = refs[i].source
        wanted: dict[str, ArticleRef] = {}
        while i < len(refs) and refs[i].source == source:
            wanted.setdefault(refs[i].id, refs[i])
            i += 1

        def want(id: str, sha: str, wanted=wanted) -> bool:
            return id in wanted and wanted[id].sha256 == sha

        try:
            if source is None:
                raise CorpusError("no file to read it from")
            for article in iter_file(Path(source), want):
                if want(article.id, article.sha256):  # the hash covers its text and metadata
                    del wanted[article.id]
                    yield article
                if not wanted:
                    break
        except Exception as exc:  # the file went away or turned bad: its other articles fail below
            problem = str(exc) if isinstance(exc, CorpusError) else _describe(exc)
        else:
            problem = "its content changed"
        for ref in wanted.values():
            failures.append(f"{_where(ref)}: not built: the file changed while the build ran ({problem})")
            if lost is not None:
                lost.add(ref.id)


def process(articles: Iterable[Article], batch_size: int = 16,
            failures: list[str] | None = None) -> Iterator[ArticleResult]:
    """NLP and extraction for a stream of articles (one pipeline load per process). Given
    ``failures``, an article whose processing raises is reported there (one line naming its
    file) and the others go on; without, the exception propagates."""
    nlp = load_pipeline()
    gaz = load_gazetteer()
    info = build_info()
    for article in articles:
        try:
            doc = next(parse(nlp, [article.text], batch_size=batch_size))
            facts, res = extract_facts(article, doc, gaz)
            quads = article_quads(article, facts, res.variants, res.entities, info, res.mentions)
        except Exception as exc:
            if failures is None:
                raise
            failures.append(f"{_where(article)}: extraction failed ({_describe(exc)})")
            continue
        yield ArticleResult(article, facts, quads)


def build(paths: Iterable[str | Path] | None = None, store: KGStore | str | Path = "kg-store",
          *, force: bool = False, strict: bool = False, validate: bool = True,
          progress: Progress | None = None, max_chars: int | None = DEFAULT_MAX_CHARS,
          workers: int = 1, engine: str = "local", scheduler: str | None = None,
          retries: int = 3) -> BuildReport:
    """Build (or update) the store from article files. Articles whose text and software
    are unchanged since the last build are skipped; changed ones replace their graph. Files
    are read twice: first for ids and hashes (what to build), then each text again when its
    turn comes (:func:`reread`), so memory does not grow with the corpus.
    The derived graphs are then brought up to date (for what changed only, unless much
    did), and the graphs written, with the labels of the entities they mention, are checked
    against ontology/shapes.ttl unless ``validate`` is false (``VALIDATE_CHUNK`` articles at a
    time; ``kg validate`` checks the whole store at once); violations are reported, not fatal.

    A bad file or article is reported in ``report.failures`` and the others go on; with
    ``strict``, nothing is written if any fails (every article is extracted before the first
    write). Article graphs are written in batches through the bulk loader (see
    :mod:`kg.store`), never half, and the derived graphs are flagged out of date before the
    first one changes, so a build stopped at any point leaves whole article graphs (a replaced
    one may be missing: the next build writes it) and derived graphs that are up to date or
    flagged (the next build recomputes them).

    ``workers`` > 1 processes the articles in that many local processes, ``engine="dask"`` on
    the dask cluster at ``scheduler`` (:mod:`kg.engines`); either way this process writes the
    store in input order, and the quads are those of ``workers=1``. ``store`` may be a SPARQL
    endpoint URL (:mod:`kg.remote`). An article whose worker dies is run again, and a failed
    store request sent again, up to ``retries`` times; an article still not written is
    reported, and after ``MAX_WRITE_FAILURES_IN_A_ROW`` such articles in a row the build stops
    writing."""
    from kg.remote import connect

    t0 = time.perf_counter()
    report = BuildReport()
    own = not isinstance(store, KGStore)
    kg = connect(store, retries=retries) if own else store
    try:
        tag = version_tag()
        todo = []
        # first read: which articles to build (only ids and hashes are kept; see reread)
        @functools.cache  # asked while reading and again below (a remote store answers each by HTTP)
        def standing(id: str, sha: str) -> int:
            stored = kg.article_sha(id)
            if stored is not None and kg.article_id_in(article_iri(id)) == id:  # ids 'a b' and 'a-b' share a graph
                return UNCHANGED if not force and stored == sha and kg.article_version(id) == tag else STORED
            return COPY if any(i != id for i in kg.article_ids_with_sha(sha)) else NEW

        articles = list(read_articles(paths or [DEFAULT_CORPUS], report.failures, max_chars, standing))
        for article in _stored_elsewhere(kg, articles, report.failures):
            if standing(article.id, article.sha256) == UNCHANGED:
                report.skipped += 1
                continue
            todo.append(article)
        if strict and report.failures:
            return _finish(report, kg, t0)
        lost: set[str] = set()  # ids of articles the second read reported (see reread)
        texts = reread(todo, report.failures, lost)
        if engine == "local" and workers == 1:
            results: Iterable[ArticleResult] = process(texts, failures=report.failures)
        else:
            from kg.engines import make_engine

            results = _from_engine(make_engine(engine, workers=workers, scheduler=scheduler,
                                               retries=retries), texts, report.failures)
        if strict:  # all or nothing: every article extracted before the first write
            results = list(results)
            if report.failures:
                return _finish(report, kg, t0)
        fresh = kg.derived_up_to_date()  # before this build flags them
        changed = Changes(exact=fresh and not force and kg.incremental)
        written: list = []
        in_a_row = 0  # articles the store could not take, in a row
        batch: list[ArticleResult] = []

        def write() -> bool:
            """Write the batch; False once the store has failed too many articles in a row."""
            nonlocal in_a_row
            graphs = [(article_iri(r.article.id), r.quads) for r in batch]
            try:
                kg.mark_derived_out_of_date()  # flagged, never silently stale, should the build stop
                if changed.exact and len(written) > 100 and 2 * len(written) > kg.article_count():
                    changed.drop()  # a store-wide recompute is cheaper now (see below): stop collecting
                if changed.exact:
                    for g, quads in graphs:
                        if kg.ox.contains_named_graph(g):
                            changed.add(kg.graph_keys(g), -1)
                        changed.add(derived_keys(quads))
                kg.write_graphs(graphs)
            except StoreError as exc:  # a full disk; a remote store that stayed down through the retries
                changed.drop()
                for r in batch:
                    report.failures.append(f"{_where(r.article)}: not written ({exc})")
                in_a_row += len(batch)
                return in_a_row < MAX_WRITE_FAILURES_IN_A_ROW
            in_a_row = 0
            written.extend(g for g, _ in graphs)
            for _, quads in graphs:
                report.quads += len(quads)
                report.facts.update(fact_mentions(quads))
                report.entities |= {q.subject for q in quads if q.predicate == ALT}
            report.articles += len(batch)
            report.words += sum(len(r.article.text.split()) for r in batch)
            if changed.exact and changed.size() >= FLUSH_CHANGES:
                try:
                    refresh_derived(kg, changed)  # the store is consistent again here
                    changed.clear()
                except StoreError:  # left flagged: recomputed store-wide at the end
                    changed.drop()
            return True

        quads_in_batch = 0
        for i, result in enumerate(results, 1):
            batch.append(result)
            quads_in_batch += len(result.quads)
            if quads_in_batch >= kg.write_batch_quads:
                going_on = write()
                last = batch[-1].article
                batch, quads_in_batch = [], 0
                if not going_on:
                    _stop_writing(results, todo, last, in_a_row, report.failures, lost)
                    texts.close()  # and the second read's open file
                    break
            if progress:
                progress(i, len(todo), result.article.id)
        if batch:
            write()
        try:
            if written or force or not fresh:
                # by what changed, unless more than half the store was written: a store-wide
                # recompute is then cheaper (measured: 51 s against 86 s over 10,000 articles),
                # and stays so (each later article adds one to `written` and at most one to
                # the count, which is why write() stops collecting early)
                incremental = changed.exact and (
                    len(written) <= 100 or 2 * len(written) <= kg.article_count())
                refresh_derived(kg, changed if incremental else None)
            if validate and written:
                from kg.validate import validate_written

                lines: dict[str, None] = {}
                for i in range(0, len(written), VALIDATE_CHUNK):  # memory bounded by a chunk
                    lines.update((v.line(), None) for v in validate_written(kg, written[i:i + VALIDATE_CHUNK]))
                report.violations = list(lines)
                report.validated = True
        except StoreError as exc:
            if not report.failures:
                raise
            report.failures.append(f"{kg.path}: entity labels and corroboration not recomputed "
                                   f"({exc}); run `kg build` again once the store is back")
        return _finish(report, kg, t0)
    finally:
        if own:
            kg.close()


def _from_engine(engine, articles: Iterable[Article], failures: list[str]) -> Iterator[ArticleResult]:
    """An engine's outcomes as results (quads only: facts stay in the workers); an article
    that failed there is reported in ``failures``, one line naming its file."""
    for outcome in engine.run(articles):
        if outcome.ok:
            yield ArticleResult(outcome.article, [], outcome.quads)
        else:
            failures.append(f"{_where(outcome.article)}: {outcome.error}")


def _stop_writing(results: Iterable[ArticleResult], todo: list[ArticleRef], last: Article,
                  in_a_row: int, failures: list[str], lost: set[str]) -> None:
    """The store failed ``in_a_row`` articles in a row: stop the workers and report every
    article after ``last`` as not written, but those already reported as ``lost`` (an engine
    reads ahead of what was written)."""
    close = getattr(results, "close", None)
    if close:
        close()  # a generator: stops the engine (its worker processes, its dask tasks)
    rest = todo[next((i for i, a in enumerate(todo) if a.id == last.id), len(todo)) + 1:]
    for article in (a for a in rest if a.id not in lost):
        failures.append(f"{_where(article)}: not written (the build stopped writing after the "
                        f"store failed {in_a_row} articles in a row)")


@dataclass
class Changes:
    """What the derived graphs depend on in the article graphs a build or removal changed:
    the entities, per fact the change in its sources by confidence, and per entity the change
    in its fact mentions and articles (see ``derived_keys``; graphs removed count negative).
    ``exact`` is False when the derived graphs will be recomputed store-wide: they were not
    up to date, the build forces it or has written more than half the store, or a write
    failed part-way (the counts cannot be trusted); nothing is collected then."""

    entities: set = field(default_factory=set)
    support: dict = field(default_factory=dict)
    mentions: dict = field(default_factory=dict)
    exact: bool = True

    def drop(self) -> None:
        """Stop collecting: the derived graphs will be recomputed store-wide."""
        self.clear()
        self.exact = False

    def clear(self) -> None:
        """Forget what was collected (once it has been applied)."""
        self.entities, self.support, self.mentions = set(), {}, {}

    def size(self) -> int:
        return len(self.entities) + len(self.support)

    def add(self, keys: tuple[set, dict, Counter], sign: int = 1) -> None:
        """Count in (sign 1) or out (sign -1) what one article graph contributes."""
        self.entities |= keys[0]
        for fact, best in keys[1].items():
            delta = self.support.setdefault(fact, Counter())
            if best is not None:
                delta[confidence_key(best)] += sign
        for e, n in keys[2].items():
            m, a = self.mentions.get(e, (0, 0))
            self.mentions[e] = (m + sign * n, a + sign)


def refresh_derived(kg: KGStore, changed: Changes | None = None) -> None:
    """Bring the derived graphs (entity labels, corroboration) up to date: for what changed
    only, or, without ``changed``, recomputed from all articles."""
    known = {e.entity.key: e.entity for e in load_gazetteer().entries.values()}
    if changed is None:
        kg.refresh_derived(known)
    else:
        kg.update_derived(changed.entities, changed.support, known, changed.mentions)


class RemoveError(Exception):
    """An article id that is not in the store; the message names it."""


def remove(article_ids: Iterable[str], store: KGStore | str | Path = "kg-store") -> list[str]:
    """Drop articles' named graphs (facts, assertions, description), then recompute the
    derived graphs, so entities no remaining article mentions lose their label and facts
    lose the corroboration those articles gave. All ids must be present, or nothing changes."""
    from kg.remote import connect

    own = not isinstance(store, KGStore)
    kg = connect(store, create=False) if own else store
    try:
        ids = list(dict.fromkeys(article_ids))
        missing = [i for i in ids if not kg.ox.contains_named_graph(article_iri(i))]
        if missing:
            raise RemoveError(f"{kg.path}: no article {', '.join(missing)} in the store")
        fresh = kg.derived_up_to_date()
        kg.mark_derived_out_of_date()  # flagged, never silently stale, should the removal stop
        changed = Changes(exact=fresh and kg.incremental)
        for article_id in ids:
            if changed.exact:
                changed.add(kg.graph_keys(article_iri(article_id)), -1)
            kg.remove_article(article_id)
        refresh_derived(kg, changed if changed.exact else None)
        kg.flush()
        return ids
    finally:
        if own:
            kg.close()


def _finish(report: BuildReport, kg: KGStore, t0: float) -> BuildReport:
    kg.flush()
    report.seconds = time.perf_counter() - t0
    return report
