"""Dates in text, resolved against the article's date, never the machine's clock."""
from __future__ import annotations

import datetime as dt
import re
from collections import Counter

import dateparser

MONTHS = ("january february march april may june july august september october november "
          "december").split()
_MONTH_RX = "|".join(m.capitalize() for m in MONTHS) + "|" + "|".join(m.upper() for m in MONTHS)
_FULL_DATE = re.compile(rf"\b({_MONTH_RX})\.?\s+(\d{{1,2}}),?\s+((?:19|20)\d\d)\b")
_DAY_MONTH = re.compile(rf"\b(?:on\s+)?({_MONTH_RX})\s+(\d{{1,2}})\b(?!,?\s*(?:19|20)\d\d)")
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
}
_RELATIVE_RX = re.compile(r"\b(" + "|".join(sorted(map(re.escape, RELATIVE), key=len, reverse=True))
                          + r")\b", re.I)


def estimate_reference(text: str) -> dt.date | None:
    """For an article with no date: the latest full date it mentions, else the latest
    'Month D' in the year it mentions most, else None."""
    full = [_mk(y, m, d) for m, d, y in _FULL_DATE.findall(text)]
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


def resolve_date(expr: str, ref: dt.date | None, estimated: bool = False) -> str | None:
    """'on November 9' -> '2023-11-09' given a 2023 reference; 'last month' -> '2023-10';
    '2019' -> '2019'. Returns None when nothing can be known."""
    expr = expr.strip()
    m = _ISO.search(expr)
    if m:
        return m.group(0)
    m = _FULL_DATE.search(expr)
    if m:
        d = _mk(m.group(3), m.group(1), m.group(2))
        return d.isoformat() if d else None
    m = _DAY_MONTH.search(expr)
    if m and ref is not None:
        d = _mk(str(ref.year), m.group(1), m.group(2))
        if d is None:
            return None
        if not estimated and (d - ref).days > 200:  # "on December 28" read in January
            d = d.replace(year=d.year - 1)
        return d.isoformat()
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
        parsed = dateparser.parse(expr, settings={"RELATIVE_BASE": dt.datetime.combine(ref, dt.time()),
                                                  "PREFER_DATES_FROM": "past"})
        if parsed:
            return parsed.strftime("%Y-%m")
    return None


def _mk(year: str, month: str, day: str) -> dt.date | None:
    try:
        return dt.date(int(year), MONTHS.index(month.lower()) + 1, int(day))
    except (ValueError, IndexError):
        return None


def parse_iso(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None
