"""The state's metadata guidelines applied to one dataset's spec (or an agency's own fields).

Checks read plain mappings (a spec's YAML, or a validated model dumped to JSON) and tolerate
missing or mistyped fields, so a spec that fails validation still gets every guideline problem
reported beside its schema errors. Each check yields (field path, message) pairs; the path is
relative to the dataset.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ctdata.specs import guidelines as g

Found = tuple[str, str]  # (field path, message)

# Text fields a dataset needs filled in, not merely present (schema checks presence).
REQUIRED_TEXT = (
    "title",
    "description",
    "row_label",
    "source_link",
    "temporal_coverage",
    "attribution",
    "contact_email",
)
TITLE_MAX = 100
DESCRIPTION_MIN = 80
FREE_MAIL = frozenset({"gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "aol.com"})
PLACEHOLDER_MAIL = frozenset({"example.com", "example.org", "example.net", "test.com"})
PORTAL_HOSTS = ("data.ct.gov",)
REASON_NEEDS_REPLACEMENT = "discontinued, consolidated or replaced"
DATE_TYPES = frozenset({"calendar_date"})


def dataset_problems(dataset: Mapping[str, Any], today: dt.date | None = None) -> list[Found]:
    """Every guideline the dataset's metadata, columns and retirement block break."""
    today = today or dt.date.today()
    meta = _mapping(dataset.get("metadata"))
    columns = [c for c in _list(dataset.get("columns")) if isinstance(c, Mapping)]
    description = _text(meta.get("description"))
    found: list[Found] = []
    found += _prefixed("metadata.", _metadata(meta, today))
    found += _temporal_coverage(meta, columns)
    found += _columns(columns, description)
    found += _retirement(dataset)
    return found


def agency_problems(agency: Mapping[str, Any]) -> list[Found]:
    """The agency's own fields: its data officer's address and its open data access plan."""
    found = list(_email("data_officer.email", _mapping(agency.get("data_officer")).get("email")))
    titles: set[str] = set()
    for i, entry in enumerate(_list(agency.get("access_plan"))):
        if not isinstance(entry, Mapping):
            continue
        where = f"access_plan[{i}]"
        title = _text(entry.get("title"))
        if title.lower() in titles:
            found.append((f"{where}.title", f"{title!r} is listed twice in the access plan"))
        titles.add(title.lower())
        if not entry.get("portal_id") and not entry.get("target_date"):
            found.append(
                (
                    where,
                    f"{title!r} is planned (no portal_id) but has no target_date: give the "
                    "date by which it will be published",
                )  # fmt: skip
            )
    return found


# -- dataset metadata --------------------------------------------------------------------------


def _metadata(meta: Mapping[str, Any], today: dt.date) -> Iterator[Found]:
    for name in REQUIRED_TEXT:
        if name in meta and not _text(meta.get(name)):
            yield name, "required field is blank"
    title, description = _text(meta.get("title")), _text(meta.get("description"))
    yield from _prefixed("title", _title(title))
    yield from _prefixed("description", _description(description, title))
    for name in ("row_label",):
        yield from _prefixed(name, _wording(_text(meta.get(name)), glossary=description))
    yield from _tags(_list(meta.get("tags")))
    yield from _source_link(_text(meta.get("source_link")))
    yield from _email("contact_email", meta.get("contact_email"))
    coverage = _text(meta.get("temporal_coverage"))
    for issue in g.coverage_issues(coverage, today) if coverage else []:
        yield "temporal_coverage", issue


def _title(title: str) -> Iterator[Found]:
    if not title:
        return
    if title.upper().startswith("ARCHIVE"):
        yield "", "'ARCHIVE' is added by the retirement process: give the dataset a retire: block"
    elif title.isupper():
        yield "", "written in capitals: use normal capitalization"
    else:
        for acronym in g.acronyms(title):
            if acronym not in g.COMMON_ABBREVIATIONS:
                yield "", f"uses the acronym {acronym!r}: titles use plain words, no acronyms"
    if "_" in title or title.lower().endswith((".csv", ".xlsx", ".json")):
        yield "", "reads like a file name: write it in plain words"
    if title.endswith("."):
        yield "", "ends with a full stop: titles do not"
    if len(title) > TITLE_MAX:
        yield "", f"is {len(title)} characters: keep titles under {TITLE_MAX}"
    yield from _person_first(title)


def _description(description: str, title: str) -> Iterator[Found]:
    if not description:
        return
    if len(description) < DESCRIPTION_MIN or description.strip(" .").lower() == title.lower():
        yield (
            "",
            (
                "too short to be useful: say what one row holds, where the data comes from, how it "
                "was made and its limits"
            ),
        )
    for start in g.long_sentences(description):
        yield (
            "",
            (
                f"the sentence {start!r} is longer than {g.SENTENCE_WORD_LIMIT} words: split it "
                "for readers who are not specialists"
            ),
        )
    yield from _wording(description, glossary="")


def _wording(text: str, *, glossary: str) -> Iterator[Found]:
    """Unexplained acronyms and labels that are not person-first."""
    for acronym in g.unexplained_acronyms(text, glossary):
        yield (
            "",
            (
                f"the acronym {acronym!r} is not explained: spell it out at its first use "
                "with the acronym in brackets, e.g. 'application programming interface (API)'"
            ),
        )
    yield from _person_first(text)


def _person_first(text: str) -> Iterator[Found]:
    for wording in g.person_first_issues(text):
        yield "", f"{wording.found!r}: use person-first language, e.g. {wording.suggestion!r}"


def _tags(tags: Sequence[Any]) -> Iterator[Found]:
    seen: set[str] = set()
    for i, tag in enumerate(tags):
        where = f"tags[{i}]"
        text = _text(tag)
        if not text:
            yield where, "empty tag"
            continue
        if text != text.lower():
            yield where, f"{text!r}: tags are lower case"
        if "," in text or len(text) > 40:
            yield where, f"{text!r}: one short keyword or phrase per tag"
        if text.lower() in seen:
            yield where, f"{text!r} is given twice"
        seen.add(text.lower())
        yield from _prefixed(where, _person_first(text))


def _source_link(link: str) -> Iterator[Found]:
    if link.startswith("http://"):
        yield "source_link", f"{link!r}: use the https address"
    if any(host in link for host in PORTAL_HOSTS):
        yield "source_link", "must be the program's own web page, not the portal"


def _email(where: str, value: Any) -> Iterator[Found]:
    domain = _text(value).rpartition("@")[2].lower()
    if domain in FREE_MAIL:
        yield where, f"{value!r} is a personal mail service: use the agency's team mailbox"
    elif domain in PLACEHOLDER_MAIL or domain.endswith((".test", ".invalid", ".example")):
        yield where, f"{value!r} is a placeholder: give the agency's team mailbox"


def _temporal_coverage(
    meta: Mapping[str, Any], columns: Sequence[Mapping[str, Any]]
) -> list[Found]:
    if _text(meta.get("temporal_coverage")).lower() != g.AUTO:
        return []
    if coverage_column(columns) is None:
        return [
            (
                "metadata.temporal_coverage",
                "'auto' needs a column to derive it from: a column whose field is 'year' (or "
                "ends in '_year'), or a calendar_date column",
            )
        ]
    return []


def coverage_column(columns: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The column `temporal_coverage: auto` reads: a year column (field 'year' or ending in
    '_year'), else the first date column."""
    for column in columns:
        field = _text(column.get("field"))
        if field == "year" or field.endswith("_year"):
            return column
    for column in columns:
        if column.get("type") in DATE_TYPES:
            return column
    return None


# -- columns -------------------------------------------------------------------------------


def _columns(columns: Sequence[Mapping[str, Any]], glossary: str) -> Iterator[Found]:
    names: dict[str, str] = {}
    for i, column in enumerate(columns):
        field, name = _text(column.get("field")), _text(column.get("name"))
        where = f"columns[{i}] ({field or name or '?'})"
        yield from _column_name(where, name, _text(column.get("description")), glossary)
        yield from _column_description(where, name, _text(column.get("description")), glossary)
        for issue in g.field_name_issues(field) if field else []:
            yield f"{where}.field", issue
        if name and name.lower() in names:
            yield f"{where}.name", f"{name!r} is also the name of {names[name.lower()]}"
        names.setdefault(name.lower(), where)


def _column_name(where: str, name: str, description: str, glossary: str) -> Iterator[Found]:
    if not name:
        yield f"{where}.name", "required field is blank"
        return
    if "_" in name:
        yield f"{where}.name", f"{name!r} reads like a field name: write plain words"
    if len(name) > g.COLUMN_NAME_MAX:
        yield f"{where}.name", f"is {len(name)} characters: keep column names short"
    yield from _prefixed(f"{where}.name", _wording(name, glossary=f"{description}\n{glossary}"))


def _column_description(where: str, name: str, description: str, glossary: str) -> Iterator[Found]:
    if not description:
        yield f"{where}.description", "every column needs a plain-language description"
        return
    if description.strip(" .").lower() == name.lower() or len(description.split()) < 2:
        yield (
            f"{where}.description",
            (
                f"{description!r} only repeats the name: say what the column holds, its units and "
                "what special values ('Total', blanks) mean"
            ),
        )
    yield from _prefixed(f"{where}.description", _wording(description, glossary=glossary))


# -- retirement ------------------------------------------------------------------------------


def _retirement(dataset: Mapping[str, Any]) -> Iterator[Found]:
    retire = dataset.get("retire")
    replaced = isinstance(retire, Mapping) and retire.get("reason") == REASON_NEEDS_REPLACEMENT
    if replaced and not retire.get("replacement"):
        yield (
            "retire.replacement",
            ("the reason says the dataset was replaced: link the dataset that replaces it"),
        )
    own = dataset.get("portal_id")
    if own and own in _list(dataset.get("supersedes")):
        yield "supersedes", f"{own!r} is this dataset's own id"


# -- helpers -------------------------------------------------------------------------------


def _prefixed(prefix: str, found: Iterator[Found] | list[Found]) -> list[Found]:
    """Join a parent path and the checks' relative paths ("" = the parent itself)."""
    out = []
    for where, message in found:
        if not where:
            path = prefix.rstrip(".")
        elif prefix.endswith("."):
            path = prefix + where
        else:
            path = f"{prefix}.{where}" if prefix else where
        out.append((path, message))
    return out


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []
