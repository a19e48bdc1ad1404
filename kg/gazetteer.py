"""The domain gazetteer (ontology/gazetteer.jsonl): canonical entities, aliases, demonyms."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from kg.model import Entity
from kg.names import normalize, skeleton

ONTOLOGY_DIR = Path(__file__).resolve().parent.parent / "ontology"
GAZETTEER_PATH = ONTOLOGY_DIR / "gazetteer.jsonl"

#: spaCy entity labels used for each entity type in the entity ruler
SPACY_LABEL = {"Person": "PERSON", "Country": "GPE", "City": "GPE", "Region": "LOC",
               "Organization": "ORG"}


@dataclass(frozen=True)
class Entry:
    entity: Entity
    aliases: tuple[str, ...] = ()
    demonyms: tuple[str, ...] = ()
    country: str | None = None  # key of the country a person, city or body belongs to
    capital: str | None = None
    acronym: str | None = None
    roles: tuple[str, ...] = ()


@dataclass
class Gazetteer:
    entries: dict[str, Entry] = field(default_factory=dict)
    by_name: dict[str, str] = field(default_factory=dict)  # normalized alias -> key
    by_skeleton: dict[str, str] = field(default_factory=dict)  # skeleton of full names -> key
    by_surname: dict[str, str] = field(default_factory=dict)  # person surname skeleton -> key
    by_demonym: dict[str, str] = field(default_factory=dict)  # normalized demonym -> country key

    def add(self, entry: Entry) -> None:
        key = entry.entity.key
        self.entries[key] = entry
        for name in (entry.entity.name, *entry.aliases):
            self.by_name.setdefault(normalize(name), key)
            if entry.entity.type == "Person":
                self.by_skeleton.setdefault(skeleton(name), key)
        if entry.entity.type == "Person":
            for name in (entry.entity.name, *entry.aliases):
                parts = normalize(name).split()
                if len(parts) > 1:
                    self.by_surname.setdefault(skeleton(parts[-1]), key)
        for dem in entry.demonyms:
            self.by_demonym.setdefault(normalize(dem), key)

    def get(self, key: str | None) -> Entity | None:
        entry = self.entries.get(key) if key else None
        return entry.entity if entry else None

    def lookup(self, name: str, type_: str | None = None) -> Entity | None:
        """The entity a name denotes, by alias, then by transliteration skeleton."""
        key = self.by_name.get(normalize(name))
        if key is None and (type_ in (None, "Person")):
            sk = skeleton(name)
            key = self.by_skeleton.get(sk)
            if key is None and " " not in sk:
                key = self.by_surname.get(sk)
        entity = self.get(key)
        if entity and type_ and entity.type != type_ and not _compatible(type_, entity.type):
            return None
        return entity

    def demonym(self, word: str) -> Entity | None:
        """'Kazakh' -> Kazakhstan, 'Russians' -> Russia."""
        return self.get(self.by_demonym.get(normalize(word)))

    def country_of(self, key: str) -> Entity | None:
        entry = self.entries.get(key)
        return self.get(entry.country) if entry else None

    def ruler_patterns(self) -> list[dict]:
        patterns = []
        for key, entry in sorted(self.entries.items()):
            label = SPACY_LABEL.get(entry.entity.type, "MISC")
            for name in sorted({entry.entity.name, *entry.aliases}):
                patterns.append({"label": label, "pattern": name, "id": key})
            for dem in sorted(set(entry.demonyms)):
                patterns.append({"label": "NORP", "pattern": dem, "id": key})
        return patterns


def _compatible(wanted: str, found: str) -> bool:
    places = {"Country", "City", "Region"}
    return wanted in places and found in places


def parse_entry(record: dict) -> Entry:
    entity = Entity(key=record["key"], name=record["name"], type=record["type"],
                    wikidata=record.get("wikidata"))
    return Entry(
        entity=entity,
        aliases=tuple(record.get("aliases", ())),
        demonyms=tuple(record.get("demonyms", ())),
        country=record.get("country"),
        capital=record.get("capital"),
        acronym=record.get("acronym"),
        roles=tuple(record.get("roles", ())),
    )


def load_gazetteer(path: str | Path | None = None) -> Gazetteer:
    path = Path(path) if path else GAZETTEER_PATH
    return _load(str(path))


@lru_cache(maxsize=4)
def _load(path: str) -> Gazetteer:
    gaz = Gazetteer()
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if line.strip():
                try:
                    gaz.add(parse_entry(json.loads(line)))
                except (ValueError, KeyError) as exc:
                    raise ValueError(f"{path}:{lineno}: bad gazetteer entry ({exc})") from exc
    return gaz
