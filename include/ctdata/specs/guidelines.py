"""The state's writing rules for metadata, as functions over plain text: acronyms must be
explained (titles use none), person-first language, plain sentences, field names that work in
SoQL, temporal coverage written as an interval. `ctdata.specs.lint` applies them to specs."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

# Abbreviations every reader knows; anything else in capitals must be written out once.
# "CT" is the state, as in the portal's own name "CT Open Data Portal".
COMMON_ABBREVIATIONS = frozenset({"CT", "ID", "US", "USA", "ZIP", "COVID"})

_ACRONYM = re.compile(r"\b([A-Z][A-Z0-9&]*[A-Z0-9])(?:s)?\b")
_WORD = re.compile(r"[A-Za-z][\w'&-]*")
_SMALL_WORDS = frozenset({"of", "the", "and", "for", "on", "in", "to", "a", "an", "&"})

# Person-first language ("person who is incarcerated", not "inmate"): term -> what to write.
PERSON_FIRST: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), suggestion)
    for pattern, suggestion in (
        (r"\binmates?\b", "person (people) who is (are) incarcerated"),
        (r"\bprisoners?\b", "person (people) who is (are) incarcerated"),
        (r"\b(?:ex-)?convicts\b|\bex-convict\b", "person (people) with a conviction"),
        (r"\bfelons?\b", "person (people) with a felony conviction"),
        (r"\b(?:ex-)?offenders?\b", "person (people) who committed an offense"),
        (r"\b(?:drug )?addicts?\b|\bjunkies?\b", "person (people) with a substance use disorder"),
        (r"\b(?:drug|substance) abusers?\b", "person (people) who use(s) drugs"),
        (r"\balcoholics?\b", "person (people) with an alcohol use disorder"),
        (
            r"\bthe homeless\b|\bhomeless (?:people|persons?|individuals)\b",
            "people experiencing homelessness",
        ),  # fmt: skip
        (
            r"\bthe (?:disabled|handicapped)\b|\bhandicapped\b|\bdisabled (?:people|persons?)\b",
            "person (people) with a disability",
        ),  # fmt: skip
        (r"\bwheelchair[- ]bound\b|\bconfined to a wheelchair\b", "person who uses a wheelchair"),
        (r"\b(?:the )?mentally ill\b|\blunatics?\b", "person (people) with a mental illness"),
        (r"\billegal (?:aliens?|immigrants?)\b|\billegals\b", "undocumented immigrant(s)"),
        (r"\bjuvenile delinquents?\b", "young person (people) involved with the justice system"),
        (r"\bthe elderly\b", "older adults"),
        (r"\bsuffers? from\b|\bafflicted (?:with|by)\b", "has, lives with"),
    )
)

SENTENCE_WORD_LIMIT = 40
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+")

# SoQL words a field name must not be (queries naming such a column fail or mislead).
SOQL_RESERVED = frozenset(
    [
        "select",
        "where",
        "order",
        "group",
        "having",
        "limit",
        "offset",
        "search",
        "and",
        "or",
        "not",
        "null",
        "true",
        "false",
        "is",
        "in",
        "like",
        "between",
        "as",
        "by",
        "asc",
        "desc",
        "distinct",
        "case",
        "when",
        "then",
        "else",
        "end",
    ]
)
FIELD_NAME_MAX = 40  # short names (the portal allows 63)
COLUMN_NAME_MAX = 50

# Temporal coverage: "2012", "2012 - 2018", "2012 - present", "2024-01-01 - 2024-03-31".
_POINT = r"\d{4}(?:-\d{2}(?:-\d{2})?)?"
_COVERAGE = re.compile(rf"^\s*({_POINT})\s*(?:(?:-|–|to)\s*({_POINT}|present)\s*)?$", re.I)
AUTO = "auto"
CURRENT = frozenset({"current", "present"})  # a reference list describing only the present


def acronyms(text: str) -> list[str]:
    """Words written in capitals (two letters or more), in order of first use."""
    seen: dict[str, None] = {}
    for match in _ACRONYM.finditer(text):
        seen.setdefault(match.group(1), None)
    return list(seen)


def _initials(words: list[str]) -> str:
    return "".join(w[0].lower() for w in words if w.lower() not in _SMALL_WORDS)


def _spells(acronym: str, words: list[str]) -> bool:
    """Do the words' initials spell the acronym (small words such as "of" may be skipped)?"""
    letters = "".join(c for c in acronym.lower() if c.isalpha())
    every = "".join(w[0].lower() for w in words)
    return _initials(words).endswith(letters) or every.endswith(letters)


def is_explained(acronym: str, text: str) -> bool:
    """True when the text spells the acronym out: "Office of the Chief Medical Examiner
    (OCME)" or "OCME (Office of the Chief Medical Examiner)"."""
    escaped = re.escape(acronym)
    for match in re.finditer(rf"\(\s*{escaped}s?\s*\)", text):
        before = _WORD.findall(text[: match.start()])[-(2 * len(acronym) + 2) :]
        if before and any(_spells(acronym, before[i:]) for i in range(len(before))):
            return True
    for match in re.finditer(rf"\b{escaped}s?\s*\(([^)]*)\)", text):
        words = _WORD.findall(match.group(1))
        if words and any(_spells(acronym, words[: i + 1]) for i in range(len(words))):
            return True
    return False


def unexplained_acronyms(text: str, glossary: str = "") -> list[str]:
    """Acronyms of `text` explained neither in it nor in `glossary` (e.g. the description)."""
    return [
        a
        for a in acronyms(text)
        if a not in COMMON_ABBREVIATIONS
        and not is_explained(a, text)
        and not (glossary and is_explained(a, glossary))
    ]


@dataclass(frozen=True)
class Wording:
    found: str
    suggestion: str


def person_first_issues(text: str) -> list[Wording]:
    """Terms that label people by a condition or circumstance, with what to write instead."""
    issues = []
    for pattern, suggestion in PERSON_FIRST:
        for match in pattern.finditer(text):
            issues.append(Wording(match.group(0), suggestion))
    return issues


def long_sentences(text: str, limit: int = SENTENCE_WORD_LIMIT) -> list[str]:
    """Sentences (or clauses ending in ';') longer than `limit` words, by their first words."""
    out = []
    for sentence in _SENTENCE_END.split(text.strip()):
        words = sentence.split()
        if len(words) > limit:
            out.append(" ".join(words[:6]) + " ...")
    return out


def field_name_issues(field: str) -> list[str]:
    """What makes a column's API field name hard to use (beyond the portal's own pattern)."""
    issues = []
    if field.lower() in SOQL_RESERVED:
        issues.append(f"{field!r} is a SoQL keyword: queries naming it fail; choose another name")
    if field.startswith("_") or field.endswith("_") or "__" in field:
        issues.append(f"{field!r}: no leading, trailing or doubled underscores")
    if len(field) > FIELD_NAME_MAX:
        issues.append(f"{field!r} is {len(field)} characters: keep field names short (≤ 40)")
    return issues


@dataclass(frozen=True)
class Coverage:
    start: str
    end: str | None  # None: a single period; "present": still going


def parse_coverage(text: str) -> Coverage | None:
    """The interval a temporal coverage states, or None when it is not written as one."""
    match = _COVERAGE.match(text)
    if not match:
        return None
    end = match.group(2)
    return Coverage(match.group(1), end.lower() if end else None)


def coverage_issues(text: str, today: dt.date) -> list[str]:
    """Problems of a written temporal coverage ('auto' is checked against the columns)."""
    if text.strip().lower() in CURRENT | {AUTO}:
        return []
    coverage = parse_coverage(text)
    if coverage is None:
        return [
            f"{text!r} is not an interval: write e.g. '2012 - 2018' or '2012 - present' "
            "('current' for a list of how things are now), or 'auto' to derive it from the data"
        ]
    issues = []
    if coverage.end not in (None, "present"):
        if coverage.end < coverage.start:
            issues.append(f"{text!r} ends before it starts")
        if int(coverage.end[:4]) > today.year:
            issues.append(f"{text!r} ends in the future: use 'present' for data still collected")
    return issues


def format_coverage(start: str, end: str) -> str:
    """The interval text the portal shows ('2012 - 2018'; one value when start == end)."""
    return start if start == end else f"{start} - {end}"
