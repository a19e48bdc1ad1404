"""Dates in text, resolved against the article's date, never the machine's clock.

``resolve_date(expr, ref, estimated=False, future=False)`` reads one date expression:

- absolute dates: "2023-11-09", "November 9, 2023", "9 November 2023", "October 2022";
- a day and month, in either order, in the reference year ("on November 9", "3 February"),
  or the year before/after when the text says so ("May 9 next year") or when the day is
  far from the reference in the direction the clause points (a past clause reading
  "December 28" in January means last December; a future one reading "January 15" in
  November means next January);
- a month alone ("in October", "in early July", "November last year"), likewise;
- a weekday ("on Monday evening"): the latest such day on or before the reference, or the
  next one on or after it when the clause is about the future (``future=True``);
- relative expressions ("last month", "earlier this month", "yesterday");
- a year ("in 2019").

An ``estimated`` reference (inferred from the text, not the article's date) only supports
month precision for relative days, and no weekdays.
"""
from __future__ import annotations

import datetime as dt
import re
from collections import Counter

import dateparser

MONTHS = ("january february march april may june july august september october november "
          "december").split()
WEEKDAYS = "monday tuesday wednesday thursday friday saturday sunday".split()
_MONTH_RX = "|".join(m.capitalize() for m in MONTHS) + "|" + "|".join(m.upper() for m in MONTHS)
_MON_ABBR = r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec"
_ANY_MONTH = rf"(?:{_MONTH_RX}|(?:{_MON_ABBR})\.?)"
_FULL_DATE = re.compile(rf"\b({_ANY_MONTH})\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+((?:19|20)\d\d)\b")
_DMY_DATE = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_ANY_MONTH}),?\s+((?:19|20)\d\d)\b")
_DAY_MONTH = re.compile(rf"\b(?:on\s+)?({_ANY_MONTH})\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?!,?\s*(?:19|20)\d\d)")
_MONTH_DAY = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_ANY_MONTH})\b(?!,?\s*(?:19|20)\d\d)")
_MONTH_YEAR = re.compile(rf"\b({_ANY_MONTH}),?\s+(?:of\s+)?((?:19|20)\d\d)\b")
_MONTH = re.compile(rf"\b({_MONTH_RX})\b")
_WEEKDAY = re.compile(r"\b(last|this|next|coming|past)?\s*(" + "|".join(WEEKDAYS) + r")\b", re.I)
_YEAR_SHIFT = re.compile(r"\b(last|previous|this|next|following|coming)\s+year\b", re.I)
_YEAR = re.compile(r"\b(?:in|of|since|during|for)\s+((?:19|20)\d\d)\b")
_ISO = re.compile(r"\b((?:19|20)\d\d)-(\d\d)-(\d\d)\b")

#: relative expressions and how precise their resolved date can be
RELATIVE = {
    "yesterday": ("day", -1), "today": ("day", 0), "tomorrow": ("day", 1),
    "last week": ("day", -7), "this week": ("day", 0), "next week": ("day", 7),
    "last month": ("month", -1), "this month": ("month", 0), "next month": ("month", 1),
    "last year": ("year", -1), "this year": ("year", 0), "next year": ("year", 1),
    # machine-translated news ("final month", "final week") appears in the wild
    "final week": ("day", -7), "final month": ("month", -1), "final year": ("year", -1),
    "earlier this year": ("year", 0), "past week": ("day", -7),
    "earlier this month": ("month", 0), "later this month": ("month", 0),
    "later this year": ("year", 0), "previous month": ("month", -1),
    "previous year": ("year", -1),
}
_RELATIVE_RX = re.compile(r"\b(" + "|".join(sorted(map(re.escape, RELATIVE), key=len, reverse=True))
                          + r")\b", re.I)
#: a day-month this many days after the reference, in a past clause, is last year's
PAST_SLACK = 200
#: a day-month this many days before the reference, in a future clause, is next year's
FUTURE_SLACK = 7


def estimate_reference(text: str) -> dt.date | None:
    """For an article with no date: the latest full date it mentions, else the latest
    'Month D' in the year it mentions most, else None."""
    full = [_mk(y, m, d) for m, d, y in _FULL_DATE.findall(text)]
    full += [_mk(y, m, d) for d, m, y in _DMY_DATE.findall(text)]
    full = [d for d in full if d]
    if full:
        return max(full)
    years = Counter(int(y) for y in _YEAR.findall(text))
    if not years:
        return None
    year = years.most_common(1)[0][0]
    days = [_mk(str(year), m, d) for m, d in _DAY_MONTH.findall(text)]
    days = [d for d in days if d]
    return min(days) if days else dt.date(year, 1, 1)


def resolve_date(expr: str, ref: dt.date | None, estimated: bool = False,
                 future: bool = False) -> str | None:
    """'on November 9' -> '2023-11-09' given a 2023 reference; 'last month' -> '2023-10';
    '2019' -> '2019'; 'on Monday' -> the Monday on or before the reference (or after it,
    with ``future``). Returns None when nothing can be known."""
    expr = expr.strip()
    m = _ISO.search(expr)
    if m:
        return m.group(0)
    m = _FULL_DATE.search(expr)
    if m:
        d = _mk(m.group(3), m.group(1), m.group(2))
        return d.isoformat() if d else None
    m = _DMY_DATE.search(expr)
    if m:
        d = _mk(m.group(3), m.group(2), m.group(1))
        return d.isoformat() if d else None
    m = _MONTH_YEAR.search(expr)
    if m:
        month = _month(m.group(1))
        return f"{int(m.group(2)):04d}-{month:02d}" if month else None
    shift = _year_shift(expr)
    m = _DAY_MONTH.search(expr)
    day_month = (m.group(1), m.group(2)) if m else None
    if day_month is None:
        m = _MONTH_DAY.search(expr)
        day_month = (m.group(2), m.group(1)) if m else None
    if day_month is not None:
        if ref is None:
            return None
        d = _mk(str(ref.year + (shift or 0)), *day_month)
        if d is None:
            return None
        if shift is None:
            d = _nearest_year(d, ref, estimated, future)
        return d.isoformat() if d else None
    m = _MONTH.search(expr) if not _RELATIVE_RX.fullmatch(expr) else None
    if m and ref is not None:
        month = _month(m.group(1))
        year = ref.year + shift if shift is not None else _month_year(month, ref, future)
        return f"{year:04d}-{month:02d}"
    m = _WEEKDAY.search(expr)
    if m and ref is not None:
        if estimated:
            return None
        return _weekday(ref, WEEKDAYS.index(m.group(2).lower()), (m.group(1) or "").lower(),
                        future).isoformat()
    m = _RELATIVE_RX.search(expr)
    if m and ref is not None:
        unit, n = RELATIVE[m.group(1).lower()]
        if unit == "day":
            d = ref + dt.timedelta(days=n)
            return d.strftime("%Y-%m") if estimated else d.isoformat()
        if unit == "month":
            month = ref.month + n
            year = ref.year + (month - 1) // 12
            return f"{year:04d}-{(month - 1) % 12 + 1:02d}"
        return f"{ref.year + n:04d}"
    m = re.search(r"\b((?:19|20)\d\d)\b", expr)
    if m:
        return m.group(1)
    if ref is not None and re.search(rf"\b({_MONTH_RX})\b", expr, re.I):
        parsed = dateparser.parse(expr, settings={
            "RELATIVE_BASE": dt.datetime.combine(ref, dt.time()),
            "PREFER_DATES_FROM": "future" if future else "past"})
        if parsed:
            return parsed.strftime("%Y-%m")
    return None


def _year_shift(expr: str) -> int | None:
    m = _YEAR_SHIFT.search(expr)
    if not m:
        return None
    word = m.group(1).lower()
    return -1 if word in ("last", "previous") else 1 if word in ("next", "following", "coming") else 0


def _nearest_year(d: dt.date, ref: dt.date, estimated: bool, future: bool) -> dt.date | None:
    """Move a day-month read in the reference year to the year the clause means."""
    if estimated:
        return d
    try:
        if future and (ref - d).days > FUTURE_SLACK:  # "will visit on January 15" in November
            return d.replace(year=d.year + 1)
        if not future and (d - ref).days > PAST_SLACK:  # "on December 28" read in January
            return d.replace(year=d.year - 1)
    except ValueError:  # 29 February
        return None
    return d


def _month_year(month: int, ref: dt.date, future: bool) -> int:
    """A month named alone: the latest one up to the reference month, or with ``future``
    the next one from it."""
    if future:
        return ref.year if month >= ref.month else ref.year + 1
    return ref.year if month <= ref.month else ref.year - 1


def _weekday(ref: dt.date, weekday: int, which: str, future: bool) -> dt.date:
    """'on Monday': the latest Monday on or before the reference; 'last Monday' strictly
    before; 'next Monday' / a future clause: the first on or after it."""
    if which in ("next", "coming") or (future and which not in ("last", "past")):
        ahead = (weekday - ref.weekday()) % 7
        if which in ("next", "coming") and ahead == 0:
            ahead = 7
        return ref + dt.timedelta(days=ahead)
    back = (ref.weekday() - weekday) % 7
    if which in ("last", "past") and back == 0:
        back = 7
    return ref - dt.timedelta(days=back)


def _month(name: str) -> int | None:
    key = name.lower().rstrip(".")[:3]
    for i, m in enumerate(MONTHS):
        if m.startswith(key):
            return i + 1
    return None


def _mk(year: str, month: str, day: str) -> dt.date | None:
    number = _month(month)
    if number is None:
        return None
    try:
        return dt.date(int(year), number, int(day))
    except ValueError:
        return None


def parse_iso(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None
