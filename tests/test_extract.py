"""Sentence -> facts tables for each relation: general forms news uses."""
from __future__ import annotations

import pytest


def _rows(facts, predicate):
    out = set()
    for f in facts:
        if f.predicate != predicate:
            continue
        obj = f.claim if predicate == "said" else (f.object.name if f.object else None)
        out.add((f.subject.name, obj))
    return out


VISITS = [
    ("Tokayev's visit to Moscow was a success.", ("Kassym-Jomart Tokayev", "Moscow")),
    ("Putin travelled to Kazakhstan last week.", ("Vladimir Putin", "Kazakhstan")),
    ("Lavrov will fly to Astana on Monday for talks.", ("Sergey Lavrov", "Astana")),
    ("The visit of Mikhail Mishustin to Almaty lasted two days.", ("Mikhail Mishustin", "Almaty")),
    ("French President Emmanuel Macron hosted his Kazakh counterpart Kassym-Jomart Tokayev in Paris.",
     ("Kassym-Jomart Tokayev", "Paris")),
    ("Chinese President Xi Jinping chose Astana for his first foreign visit.", ("Xi Jinping", "Astana")),
]


@pytest.mark.parametrize("text,expected", VISITS)
def test_extract_visits(extract, text, expected):
    assert expected in _rows(extract(text), "visited")


def test_extract_visit_planned_and_dated(extract):
    facts = [f for f in extract("Russian President Vladimir Putin is expected to visit "
                                "Kazakhstan on November 9.", date="2023-11-06")
             if f.predicate == "visited"]
    assert [(f.object.name, f.modality, f.date) for f in facts] == [("Kazakhstan", "planned", "2023-11-09")]


def test_extract_visit_city_and_country_are_one_trip(extract):
    facts = extract("Tokayev traveled to Russia for a meeting with Putin in Moscow. "
                    "Tokayev's visit to Moscow was short.")
    assert {f.object.name for f in facts if f.predicate == "visited"} == {"Moscow"}


def test_extract_no_visit_when_negated(extract):
    assert not _rows(extract("Putin did not visit Kazakhstan this year."), "visited")


SAID = [
    ("“We will always be together,” Tokayev said.", ("Kassym-Jomart Tokayev", "We will always be together")),
    ("Peskov said that the talks were constructive and useful.",
     ("Dmitry Peskov", "the talks were constructive and useful")),
    ("According to Lavrov, the two countries share the longest land border in the world.",
     ("Sergey Lavrov", "the two countries share the longest land border in the world")),
    ("Kazakhstan will not help Russia circumvent sanctions, Tokayev told reporters.",
     ("Kassym-Jomart Tokayev", "Kazakhstan will not help Russia circumvent sanctions")),
]


@pytest.mark.parametrize("text,expected", SAID)
def test_extract_said(extract, text, expected):
    assert expected in _rows(extract(text), "said")


def test_extract_said_pronoun_speaker_and_split_quote(extract):
    text = ("Russian Foreign Minister Sergey Lavrov spoke to journalists.\n\n"
            "“Our relations are strong,” he said. “They will grow.”")
    claims = _rows(extract(text), "said")
    assert any(s == "Sergey Lavrov" and "Our relations are strong" in c for s, c in claims)


def test_extract_said_never_credits_an_outlet(extract):
    facts = extract("The Kremlin said on Monday that the talks would continue next year.")
    assert not [f for f in facts if f.predicate == "said"]


MEMBERS = [
    ("Kazakhstan and Russia are members of the Eurasian Economic Union.",
     {("Kazakhstan", "Eurasian Economic Union"), ("Russia", "Eurasian Economic Union")}),
    ("Armenia is a member of the CSTO.", {("Armenia", "Collective Security Treaty Organization")}),
]


@pytest.mark.parametrize("text,expected", MEMBERS)
def test_extract_membership(extract, text, expected):
    assert expected <= _rows(extract(text), "memberOf")


def test_extract_membership_negated_is_not_a_fact(extract):
    assert not _rows(extract("Kazakhstan is not a member of NATO."), "memberOf")


MEETINGS = [
    "Tokayev met Putin in Moscow.",
    "Putin held talks with Tokayev on Monday.",
    "Kazakh President Kassym-Jomart Tokayev attends a meeting with Russian President Vladimir Putin.",
]


@pytest.mark.parametrize("text", MEETINGS)
def test_extract_meetings(extract, text):
    rows = _rows(extract(text), "metWith")
    assert {frozenset(r) for r in rows} == {frozenset({"Kassym-Jomart Tokayev", "Vladimir Putin"})}


POSITIONS = [
    ("Kremlin spokesman Dmitry Peskov declined to comment.", ("Dmitry Peskov", "Kremlin")),
    ("Kazakh Deputy Prime Minister Serik Zhumangarin spoke on Tuesday.", ("Serik Zhumangarin", "Kazakhstan")),
    ("Aigerim Bekova, head of the Almaty Policy Institute, disagreed.",
     ("Aigerim Bekova", "Almaty Policy Institute")),
]


@pytest.mark.parametrize("text,expected", POSITIONS)
def test_extract_positions(extract, text, expected):
    assert expected in _rows(extract(text), "holdsPosition")


def test_extract_split_quotation_is_one_claim(extract):
    text = ("Kamran Bokhari of the Newlines Institute spoke to reporters.\n\n"
            "“We’re not talking about an established democracy,” he said. “We are talking about "
            "a post-Soviet state that is just starting its transition.”")
    claims = [f for f in extract(text) if f.predicate == "said"]
    assert len(claims) == 1
    assert claims[0].subject.name == "Kamran Bokhari"
    assert "democracy" in claims[0].claim and "transition" in claims[0].claim


def test_extract_separately_attributed_quotations_stay_two_claims(extract):
    text = ("Alexandra Perminova, a researcher at the Institute of China, spoke on Monday.\n\n"
            "“Russia and Kazakhstan are strategic partners,” she noted. "
            "“Most of all, these countries are friends,” she said.")
    claims = {f.claim for f in extract(text) if f.predicate == "said"}
    assert claims == {"Russia and Kazakhstan are strategic partners",
                      "Most of all, these countries are friends"}


def test_extract_description_speaker_resolves_to_the_expert(extract):
    text = ("Astana will keep its bet on Russia, said political expert Yermukhamet Yertysbayev.\n\n"
            "The Kazakhs are focusing on the near abroad, the analyst noted.")
    rows = _rows(extract(text), "said")
    assert ("Yermukhamet Yertysbayev", "The Kazakhs are focusing on the near abroad") in rows


def test_extract_nested_reported_speech_credits_both(extract):
    text = ("“Our first president, Nursultan Nazarbayev, said that Kazakhstan and Russia will "
            "always be together,” Tokayev added.")
    rows = _rows(extract(text), "said")
    assert any(s == "Nursultan Nazarbayev" and c.startswith("Kazakhstan and Russia") for s, c in rows)
    assert any(s == "Kassym-Jomart Tokayev" and "Nazarbayev" in c for s, c in rows)


def test_extract_two_leaders_held_talks(extract):
    text = ("Putin will visit Astana at the invitation of President Kassym-Jomart Tokayev. "
            "The two leaders will hold talks on trade.")
    rows = _rows(extract(text), "metWith")
    assert {frozenset(r) for r in rows} == {frozenset({"Vladimir Putin", "Kassym-Jomart Tokayev"})}


def test_extract_membership_relative_clause_binds_to_its_organisation(extract):
    text = ("They sit side by side in the CSTO and the Shanghai Cooperation Organisation, "
            "which also includes China.")
    rows = _rows(extract(text), "memberOf")
    assert ("China", "Shanghai Cooperation Organisation") in rows
    assert ("China", "Collective Security Treaty Organization") not in rows


def test_extract_headline_lines_are_separate_sentences(extract):
    text = "Expert explains Tokayev’s visit to Moscow\n\nAstana will continue to bet on Russia."
    rows = _rows(extract(text), "visited")
    assert rows == {("Kassym-Jomart Tokayev", "Moscow")}


def test_extract_visit_relative_month(extract):
    facts = extract("Putin made visits last month to Kyrgyzstan and China.", date="2023-11-07")
    assert {(f.object.name, f.date) for f in facts if f.predicate == "visited"} == {
        ("Kyrgyzstan", "2023-10"), ("China", "2023-10")}


def test_extract_description_with_country_states_an_office(extract):
    facts = extract("Vladimir Putin arrived on Monday. The Russian president called the talks useful.")
    rows = {(f.subject.name, f.object.name, f.role) for f in facts if f.predicate == "holdsPosition"}
    assert ("Vladimir Putin", "Russia", "president") in {(a, b, c.lower()) for a, b, c in rows}


ARRIVALS = [
    ("Putin, who arrived in Astana on July 3, held a series of meetings.", ("Vladimir Putin", "Astana")),
    ("Leaders who arrived in Astana for the summit included Russian President Vladimir Putin "
     "and Belarusian President Alexander Lukashenko.", ("Alexander Lukashenko", "Astana")),
    ("Belarusian President Alexander Lukashenko arrived in the Kazakh capital on Wednesday.",
     ("Alexander Lukashenko", "Astana")),
    ("Turkish President Recep Tayyip Erdoğan took part in the expanded meeting in Astana.",
     ("Recep Tayyip Erdoğan", "Astana")),
    ("The meeting in the Kremlin was attended by Belarusian President Alexander Lukashenko.",
     ("Alexander Lukashenko", "Russia")),
    ("Lavrov invited Nurtleu to pay a visit to Moscow at a convenient time.", ("Murat Nurtleu", "Moscow")),
    ("Tokayev told reporters that he had accepted Putin's invitation to visit Russia next year.",
     ("Kassym-Jomart Tokayev", "Russia")),
]


@pytest.mark.parametrize("text,expected", ARRIVALS)
def test_extract_arrivals_and_participation(extract, text, expected):
    assert expected in _rows(extract(text), "visited")


def test_extract_invited_visit_is_planned_and_not_the_host(extract):
    facts = [f for f in extract("Lavrov invited Nurtleu to pay a visit to Moscow.") if f.predicate == "visited"]
    assert [(f.subject.name, f.modality) for f in facts] == [("Murat Nurtleu", "planned")]


@pytest.mark.parametrize("text", [
    "Tokayev addressed the summit by video link from Moscow.",
    "Putin attended the meeting in Moscow.",  # his own capital: no visit
    "Putin did not travel to Astana.",
])
def test_extract_no_visit(extract, text):
    assert not _rows(extract(text), "visited")


SAID_MORE = [
    ("Maria Zakharova told a briefing that Moscow attaches great importance to the SCO.",
     ("Maria Zakharova", "Moscow attaches great importance to the SCO")),
    ("Kazakh President Kassym-Jomart Tokayev ordered his government to work out alternative export routes.",
     ("Kassym-Jomart Tokayev", "his government to work out alternative export routes")),
    ("According to M.Mishustin, Russia is ready to increase deliveries of gas.",
     ("Mikhail Mishustin", "Russia is ready to increase deliveries of gas")),
]


@pytest.mark.parametrize("text,expected", SAID_MORE)
def test_extract_said_more_forms(extract, text, expected):
    assert expected in _rows(extract(text), "said")


def test_extract_quotation_split_mid_sentence_is_one_claim(extract):
    text = "“Kazakhstan is our closest ally,” Putin said, “and we intend to deepen our cooperation.”"
    claims = _rows(extract(text), "said")
    assert claims == {("Vladimir Putin", "Kazakhstan is our closest ally, and we intend to deepen our cooperation")}


@pytest.mark.parametrize("text", [
    "Chevron, which owns a stake in the consortium, said it was monitoring the situation.",
    "Peskov declined to comment on whether the ruling was politically motivated.",
])
def test_extract_no_claim(extract, text):
    assert not _rows(extract(text), "said")


MEETINGS_MORE = [
    "Xi Jinping arrived in Astana. During the visit, he and Tokayev signed a joint statement.",
    "Tokayev returned to the subject. He had spoken with Vladimir Putin by telephone several times.",
    "The project was discussed by Tokayev and Russian President Vladimir Putin during the visit.",
]


@pytest.mark.parametrize("text", MEETINGS_MORE)
def test_extract_meetings_more_forms(extract, text):
    rows = {frozenset(r) for r in _rows(extract(text), "metWith")}
    assert len(rows) == 1 and "Kassym-Jomart Tokayev" in next(iter(rows))


def test_extract_phone_call_has_channel(extract):
    facts = extract("Tokayev held a phone call with Putin on Monday.")
    assert [f.channel for f in facts if f.predicate == "metWith"] == ["phone"]


def test_extract_reception_including_a_person(extract):
    rows = _rows(extract("President Kassym-Jomart Tokayev received the heads of the foreign affairs "
                         "agencies, including Lavrov."), "metWith")
    assert {frozenset(r) for r in rows} == {frozenset({"Kassym-Jomart Tokayev", "Sergey Lavrov"})}
