"""``kg eval``: score extracted facts against gold annotations (shared/eval/GUIDELINES.md).

Names match an entity by its name or aliases after normalisation, or by Wikidata id.
visited / memberOf / holdsPosition: subject and object must match (object: any key of the
gold list); metWith: either order; said: speaker matches and the claim's token-set F1 is
at least 0.5. Facts are matched one-to-one within an article; duplicate predictions count
once. Date, modality and role are scored as accuracy on matched facts.
"""
from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from kg.names import normalize

RELATIONS = ("visited", "said", "memberOf", "metWith", "holdsPosition")
CLAIM_F1 = 0.5
_TOKEN = re.compile(r"\w+")


class GoldError(Exception):
    """A gold or entities file that cannot be read; names the file and line."""


@dataclass
class Gold:
    entities: dict[str, dict]
    by_name: dict[str, set[str]]  # normalized name -> entity keys
    by_wikidata: dict[str, str]
    facts: list[dict]

    def keys_for(self, name: str | None, wikidata: str | None) -> set[str]:
        keys = set(self.by_name.get(normalize(name), ())) if name else set()
        if wikidata and wikidata in self.by_wikidata:
            keys.add(self.by_wikidata[wikidata])
        return keys


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict:
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "precision": round(self.precision, 4),
                "recall": round(self.recall, 4), "f1": round(self.f1, 4)}


@dataclass
class Report:
    relations: dict[str, Score] = field(default_factory=lambda: {r: Score() for r in RELATIONS})
    attributes: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    misses: list[dict] = field(default_factory=list)  # gold facts not found
    spurious: list[dict] = field(default_factory=list)  # predictions matching no gold

    @property
    def micro(self) -> Score:
        total = Score()
        for s in self.relations.values():
            total.tp += s.tp
            total.fp += s.fp
            total.fn += s.fn
        return total

    def as_dict(self) -> dict:
        return {
            "relations": {r: s.as_dict() for r, s in self.relations.items()},
            "micro": self.micro.as_dict(),
            "attributes": {k: {"correct": c, "total": t, "accuracy": round(c / t, 4) if t else None}
                           for k, (c, t) in sorted(self.attributes.items())},
        }


def markdown_table(report: Report) -> str:
    """The scores as the Markdown table the README shows."""
    lines = ["| relation | P | R | F1 | tp | fp | fn |", "|---|---|---|---|---|---|---|"]
    for rel, s in list(report.relations.items()) + [("micro", report.micro)]:
        lines.append(f"| {rel} | {s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} | {s.tp} | {s.fp} | {s.fn} |")
    for key, (correct, total) in sorted(report.attributes.items()):
        lines.append(f"\n{key} accuracy: {correct}/{total}" if key == min(report.attributes)
                     else f"{key} accuracy: {correct}/{total}")
    return "\n".join(lines)


def _read_jsonl(path: str | Path) -> list[dict]:
    out = []
    try:
        with open(path, encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if line.strip():
                    try:
                        out.append(json.loads(line))
                    except ValueError as exc:
                        raise GoldError(f"{path}:{lineno}: not JSON ({exc.msg})") from exc
    except OSError as exc:
        raise GoldError(f"{path}: {exc.strerror or exc}") from exc
    return out


def load_gold(gold_path: str | Path, entities_path: str | Path) -> Gold:
    entities = {}
    by_name: dict[str, set[str]] = defaultdict(set)
    by_wd = {}
    for e in _read_jsonl(entities_path):
        entities[e["key"]] = e
        for name in [e["name"], *e.get("aliases", [])]:
            by_name[normalize(name)].add(e["key"])
        if e.get("wikidata"):
            by_wd[e["wikidata"]] = e["key"]
    return Gold(entities, dict(by_name), by_wd, _read_jsonl(gold_path))


def tokens(text: str | None) -> set[str]:
    return set(_TOKEN.findall((text or "").lower()))


def claim_f1(a: str | None, b: str | None) -> float:
    ta, tb = tokens(a), tokens(b)
    common = len(ta & tb)
    if not common:
        return 0.0
    p, r = common / len(ta), common / len(tb)
    return 2 * p * r / (p + r)


def _as_list(value) -> list[str]:
    return value if isinstance(value, list) else [value]


def _dedupe(preds: Iterable[dict]) -> list[dict]:
    seen, out = set(), []
    for p in preds:
        ends = (p.get("subject_id") or p.get("subject"), p.get("object_id") or p.get("object"))
        if p["predicate"] == "metWith":  # symmetric: either order is the same fact
            ends = tuple(sorted(map(str, ends)))
        key = (p["article"], p["predicate"], *ends, p.get("claim"))
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def _matches(gold: Gold, g: dict, p: dict) -> float:
    """0 when the prediction does not match the gold fact, else a score (higher is better)."""
    subj = gold.keys_for(p.get("subject"), p.get("subject_wikidata"))
    obj = gold.keys_for(p.get("object"), p.get("object_wikidata"))
    rel = g["relation"]
    if rel == "said":
        if g["subject"] not in subj:
            return 0.0
        f1 = claim_f1(p.get("claim"), g.get("claim"))
        return f1 if f1 >= CLAIM_F1 else 0.0
    if rel == "metWith":
        a, b = g["subject"], g["object"]
        ok = (a in subj and b in obj) or (b in subj and a in obj)
        return 1.0 if ok else 0.0
    if g["subject"] not in subj:
        return 0.0
    objects = _as_list(g["object"])
    for rank, key in enumerate(objects):
        if key in obj:
            return 1.0 - rank * 0.01
    return 0.0


def evaluate(predictions: Iterable[dict], gold: Gold) -> Report:
    report = Report()
    preds = _dedupe(predictions)
    by_article: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for p in preds:
        if p["predicate"] in RELATIONS:
            by_article[(p["article"], p["predicate"])].append(p)
    gold_by: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for g in gold.facts:
        gold_by[(g["article"], g["relation"])].append(g)
    for key in sorted(set(by_article) | set(gold_by)):
        rel = key[1]
        ps, gs = by_article.get(key, []), gold_by.get(key, [])
        pairs = sorted(((_matches(gold, g, p), gi, pi) for gi, g in enumerate(gs)
                        for pi, p in enumerate(ps)), reverse=True)
        used_g, used_p = set(), set()
        for score, gi, pi in pairs:
            if score <= 0 or gi in used_g or pi in used_p:
                continue
            used_g.add(gi)
            used_p.add(pi)
            _attributes(report, gs[gi], ps[pi])
        score = report.relations[rel]
        score.tp += len(used_g)
        score.fn += len(gs) - len(used_g)
        score.fp += len(ps) - len(used_p)
        report.misses.extend(g for i, g in enumerate(gs) if i not in used_g)
        report.spurious.extend(p for i, p in enumerate(ps) if i not in used_p)
    return report


def _attributes(report: Report, g: dict, p: dict) -> None:
    if g["relation"] == "visited":
        if g.get("date"):
            report.attributes["visited.date"][1] += 1
            report.attributes["visited.date"][0] += int(p.get("date") == g["date"])
        if g.get("modality"):
            report.attributes["visited.modality"][1] += 1
            report.attributes["visited.modality"][0] += int(p.get("modality") == g["modality"])
    if g["relation"] == "holdsPosition" and g.get("role"):
        report.attributes["holdsPosition.role"][1] += 1
        pr, gr = normalize(p.get("role") or ""), normalize(g["role"])
        report.attributes["holdsPosition.role"][0] += int(bool(pr) and (pr in gr or gr in pr))


# ---- entities ----------------------------------------------------------------------------

@dataclass
class EntityReport:
    gold_entities: int
    found: int  # gold entities with at least one node
    split: dict[str, list[str]]  # gold key -> node IRIs (more than one)
    merged: dict[str, list[str]]  # node IRI -> gold keys (more than one)
    unmatched_nodes: int  # nodes matching no gold entity

    def as_dict(self) -> dict:
        return {"gold_entities": self.gold_entities, "found": self.found,
                "split": self.split, "merged": self.merged,
                "unmatched_nodes": self.unmatched_nodes}


def evaluate_entities(nodes: dict[str, set[str]], wikidata: dict[str, str], gold: Gold) -> EntityReport:
    """``nodes``: node IRI -> every label seen for it; ``wikidata``: node IRI -> Q-id."""
    gold_to_nodes: dict[str, set[str]] = defaultdict(set)
    merged = {}
    unmatched = 0
    for iri, labels in nodes.items():
        keys = set()
        for label in labels:
            keys |= gold.keys_for(label, None)
        if iri in wikidata and wikidata[iri] in gold.by_wikidata:
            keys.add(gold.by_wikidata[wikidata[iri]])
        if not keys:
            unmatched += 1
        if len(keys) > 1:
            merged[iri] = sorted(keys)
        for k in keys:
            gold_to_nodes[k].add(iri)
    split = {k: sorted(v) for k, v in gold_to_nodes.items() if len(v) > 1}
    return EntityReport(len(gold.entities), len(gold_to_nodes), split, merged, unmatched)
