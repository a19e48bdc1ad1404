"""More sentence -> fact tables: titles, memberships and dates in the forms news uses."""
from __future__ import annotations

import datetime as dt

import pytest

from kg.dates import estimate_reference, resolve_date


def _positions(facts):
    return {(f.subject.name, f.object.name) for f in facts if f.predicate == "holdsPosition"}


def _roles(facts):
    return {f.subject.name: f.role for f in facts if f.predicate == "holdsPosition"}


def _members(facts):
    return {(f.subject.name, f.object.name) for f in facts if f.predicate == "memberOf"}


# --------------------------------------------------------------------------- holdsPosition

POSITIONS = [
    # post-positive "General", hyphenated titles
    ("Rosatom Director General Alexei Likhachev signed the contract.", ("Alexei Likhachev", "Rosatom")),
    ("CSTO Secretary General Imangali Tasmagambetov opened the session.",
     ("Imangali Tasmagambetov", "Collective Security Treaty Organization")),
    ("UN Secretary-General António Guterres addressed the forum.", ("António Guterres", "United Nations")),
    # capitalised portfolio words between the demonym and the role noun
    ("Kazakh Energy Minister Bolat Akchulakov met investors.", ("Bolat Akchulakov", "Kazakhstan")),
    ("Indian External Affairs Minister S. Jaishankar arrived.", ("Subrahmanyam Jaishankar", "India")),
    ("Russian Emergency Situations Minister Alexander Kurenkov flew in.", ("Alexander Kurenkov", "Russia")),
    # hyphenated role, "Republic (of)" before the country
    ("The guests were met by the Prime-minister of Republic Kazakhstan Alikhan Smailov.",
     ("Alikhan Smailov", "Kazakhstan")),
    ("Vice-prime minister of the Republic of Armenia Mher Grigoryan also spoke.", ("Mher Grigoryan", "Armenia")),
    ("Talks were led by Chairman of the Government of the Russian Federation Mikhail Mishustin.",
     ("Mikhail Mishustin", "Russia")),
    ("Deputy Prime Minister and Trade Minister Serik Zhumangarin held talks.", ("Serik Zhumangarin", "Kazakhstan")),
    # "X-based" modifiers; a job with an explicit employer is a position
    ("“It will pass,” said Dana Ospanova, an Almaty-based analyst at the Steppe Policy Forum.",
     ("Dana Ospanova", "Steppe Policy Forum")),
    ("“Prices will rise,” said John Carver, head of oil research at consultancy Steppe Energy Analytics.",
     ("John Carver", "Steppe Energy Analytics")),
    ("Erlan Sadykov, a senior research fellow at the Institute of World Economics and Politics, disagreed.",
     ("Erlan Sadykov", "Institute of World Economics and Politics")),
    ("Anna Reed, a Central Asia analyst at the London-based consultancy Silk Road Risk Partners, agrees.",
     ("Anna Reed", "Silk Road Risk Partners")),
    ("David O’Sullivan, the European Union’s special envoy for sanctions, came to Astana.",
     ("David O’Sullivan", "European Union")),
    # a verb of office in a relative clause
    ("Nikol Pashinyan, who at the time chaired the CSTO, announced the deployment.",
     ("Nikol Pashinyan", "Collective Security Treaty Organization")),
    # the country the official represents
    ("India was represented by External Affairs Minister Subrahmanyam Jaishankar.",
     ("Subrahmanyam Jaishankar", "India")),
    # an editor's bracketed given name
    ("He spoke of President [Nursultan] Nazarbayev stepping down.", ("Nursultan Nazarbayev", "Kazakhstan")),
]


@pytest.mark.parametrize("text,expected", POSITIONS)
def test_extract_more_positions(extract, text, expected):
    assert expected in _positions(extract(text))


@pytest.mark.parametrize("text,person,role", [
    ("UN Secretary-General António Guterres addressed the forum.", "António Guterres", "Secretary-General"),
    ("Rosatom Director General Alexei Likhachev signed the contract.", "Alexei Likhachev", "Director General"),
    ("Kazakh Energy Minister Bolat Akchulakov met investors.", "Bolat Akchulakov", "Energy Minister"),
    ("The guests were met by the Prime-minister of Republic Kazakhstan Alikhan Smailov.",
     "Alikhan Smailov", "Prime-minister"),
    ("“Prices will rise,” said John Carver, head of oil research at consultancy Steppe Energy Analytics.",
     "John Carver", "head of oil research"),
    ("Talks were led by Chairman of the Government of the Russian Federation Mikhail Mishustin.",
     "Mikhail Mishustin", "Chairman of the Government"),
])
def test_extract_more_position_roles(extract, text, person, role):
    assert _roles(extract(text))[person] == role


@pytest.mark.parametrize("text", [
    # descriptive nouns without an employer are no office
    "Astana will keep its course, said political expert Yermukhamet Yertysbayev.",
    "“Both sides know it,” said Zhanar Temirbekova, an Almaty-based political analyst.",
    "Pavel Gorin, a military analyst in Moscow, was more cautious.",
    # a portfolio is not an organisation
    "External Affairs Minister Subrahmanyam Jaishankar spoke.",
    # a weekday is no part of a title
    "He said on Tuesday Minister Ivan Petrov would resign.",
])
def test_extract_more_no_position(extract, text):
    facts = extract(text)
    assert not {o for _, o in _positions(facts)} - {"India", "Russia"}
    assert "External Affairs" not in {o for _, o in _positions(facts)}
    assert not [f for f in facts if f.predicate == "holdsPosition" and f.subject.name in (
        "Yermukhamet Yertysbayev", "Zhanar Temirbekova", "Pavel Gorin", "Ivan Petrov")]


def test_extract_more_portfolio_is_not_an_organisation(extract):
    facts = extract("Indian External Affairs Minister S. Jaishankar arrived.")
    assert _positions(facts) == {("Subrahmanyam Jaishankar", "India")}


# --------------------------------------------------------------------------- memberOf

MEMBERS = [
    # long lists: the path is measured from the first conjunct
    ("Belarus joined China, India, Iran, Kazakhstan, Kyrgyzstan, Russia, Tajikistan and "
     "Uzbekistan in the Shanghai Cooperation Organisation.",
     {("Uzbekistan", "Shanghai Cooperation Organisation"), ("India", "Shanghai Cooperation Organisation"),
      ("Belarus", "Shanghai Cooperation Organisation")}),
    # "the organisation" refers to the last organisation named, in an earlier sentence too
    ("The SCO met in Astana on Thursday. Belarus joined China, Iran, Russia and Uzbekistan in the organisation.",
     {("Iran", "Shanghai Cooperation Organisation"), ("Uzbekistan", "Shanghai Cooperation Organisation")}),
    ("The EAEU held a summit. The Union now has five members: Armenia, Belarus, Kazakhstan, "
     "Kyrgyzstan and Russia.", {("Armenia", "Eurasian Economic Union"), ("Russia", "Eurasian Economic Union")}),
    # a companion shares the membership
    ("Kazakhstan is a member, along with Russia, of the Eurasian Economic Union.",
     {("Kazakhstan", "Eurasian Economic Union"), ("Russia", "Eurasian Economic Union")}),
    ("Kazakhstan, which together with Russia is part of the OPEC+ group, cut output.",
     {("Kazakhstan", "OPEC+"), ("Russia", "OPEC+")}),
    # working within an organisation
    ("Armenia and Belarus cooperate closely within the Eurasian Economic Union and the "
     "Commonwealth of Independent States.",
     {("Armenia", "Eurasian Economic Union"), ("Belarus", "Commonwealth of Independent States")}),
    # troops on the organisation's mission
    ("Tokayev asked the CSTO to send a peacekeeping mission. Some 2,000 troops from Russia, "
     "Belarus and Tajikistan arrived within days.",
     {("Russia", "Collective Security Treaty Organization"),
      ("Tajikistan", "Collective Security Treaty Organization")}),
    # leaders taking part in the organisation's own council
    ("The Collective Security Council of the CSTO met in Minsk. Leaders of Armenia, Belarus and "
     "Russia took part in the session of the Collective Security Council.",
     {("Armenia", "Collective Security Treaty Organization"),
      ("Russia", "Collective Security Treaty Organization")}),
]


@pytest.mark.parametrize("text,expected", MEMBERS)
def test_extract_more_membership(extract, text, expected):
    assert expected <= _members(extract(text))


@pytest.mark.parametrize("text", [
    "Belarus will join the Shanghai Cooperation Organisation next year.",
    "Iran applied to join the Eurasian Economic Union.",
    "Belarus is set to join the SCO.",
    "Uzbekistan is an observer in the Eurasian Economic Union.",
    "Azerbaijan is not a member of the CSTO.",
    "Ukraine wants to join the European Union.",
    "Kazakhstan and Russia discussed the EAEU.",
    "NATO said it was watching closely. Troops from Russia crossed the border.",
    "Turkish President Recep Tayyip Erdoğan took part in the SCO Plus meeting in Astana.",
])
def test_extract_more_no_membership(extract, text):
    assert not _members(extract(text))


def test_extract_more_floating_both_is_not_a_pronoun(extract):
    text = ("Few countries were hit harder by the war in Ukraine than Kazakhstan. "
            "Kazakhstan and Russia are both members of the Eurasian Economic Union.")
    assert _members(extract(text)) == {("Kazakhstan", "Eurasian Economic Union"),
                                       ("Russia", "Eurasian Economic Union")}


# --------------------------------------------------------------------------- dates

REF = dt.date(2023, 11, 8)  # a Wednesday

DATES = [
    ("in October 2022", {}, "2022-10"),
    ("March 1994", {}, "1994-03"),
    ("2 February 2023", {}, "2023-02-02"),
    ("November 9, 2023", {}, "2023-11-09"),
    ("3 February", {}, "2023-02-03"),
    ("Tomorrow, 3 February", {}, "2023-02-03"),
    ("on November 9", {}, "2023-11-09"),
    ("Nov 9", {}, "2023-11-09"),
    ("November last year", {}, "2022-11"),
    ("May 9 next year", {}, "2024-05-09"),
    ("on Monday evening", {}, "2023-11-06"),
    ("Wednesday", {}, "2023-11-08"),  # the article's own day
    ("on Monday", {"future": True}, "2023-11-13"),
    ("last Wednesday", {}, "2023-11-01"),
    ("next Friday", {}, "2023-11-10"),
    ("earlier this month", {}, "2023-11"),
    ("last month", {}, "2023-10"),
    ("in July", {}, "2023-07"),
    ("in early July", {"future": True}, "2024-07"),
    ("January 15", {"future": True}, "2024-01-15"),
    ("2019", {}, "2019"),
    ("the spring of 2022", {}, "2022"),
    ("the following days", {}, None),
]


@pytest.mark.parametrize("expr,kwargs,expected", DATES)
def test_dates_resolve(expr, kwargs, expected):
    assert resolve_date(expr, REF, **kwargs) == expected


def test_dates_past_day_month_read_in_january_is_last_year():
    assert resolve_date("on December 28", dt.date(2024, 1, 10)) == "2023-12-28"


def test_dates_weekday_needs_a_real_reference():
    assert resolve_date("on Monday", REF, estimated=True) is None
    assert resolve_date("on Monday", None) is None


def test_dates_estimate_reference_reads_day_month_year():
    assert estimate_reference("ALMATY, 2 February 2023. The premier arrived.") == dt.date(2023, 2, 2)
    assert estimate_reference("No date here.") is None
