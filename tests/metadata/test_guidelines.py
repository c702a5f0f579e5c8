"""The writing rules as functions: acronyms, person-first language, sentences, coverage."""

from __future__ import annotations

import datetime as dt

import pytest

from ctdata.specs import guidelines as g


@pytest.mark.parametrize(
    ("text", "acronym", "explained"),
    [
        ("Office of the Chief Medical Examiner (OCME) counts", "OCME", True),
        ("the OCME (Office of the Chief Medical Examiner) counts", "OCME", True),
        ("application programming interface (API)", "API", True),
        ("Department of Mental Health and Addiction Services (DMHAS)", "DMHAS", True),
        ("the OCME counts deaths", "OCME", False),
        ("Office of Policy (OCME)", "OCME", False),
    ],
)
def test_is_explained(text: str, acronym: str, explained: bool) -> None:
    assert g.is_explained(acronym, text) is explained


def test_unexplained_acronyms_use_a_glossary_and_know_common_ones() -> None:
    assert g.unexplained_acronyms("Record ID in the US and CT") == []
    assert g.unexplained_acronyms("API Calls") == ["API"]
    assert g.unexplained_acronyms("API Calls", "reads through the application programming interface (API)") == []  # fmt: skip


def test_person_first_language() -> None:
    found = {w.found.lower() for w in g.person_first_issues(
        "Inmates, the homeless and drug addicts; an alcoholic who suffers from it")}  # fmt: skip
    assert found == {"inmates", "the homeless", "drug addicts", "alcoholic", "suffers from"}
    assert g.person_first_issues("people who are incarcerated, people experiencing homelessness") == []  # fmt: skip


def test_long_sentences() -> None:
    long = " ".join(["word"] * 41) + ". Short one."
    assert len(g.long_sentences(long)) == 1
    assert g.long_sentences(" ".join(["word"] * 40) + ".") == []


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("2012 - 2018", True),
        ("2012 - present", True),
        ("2024-01-01 - 2024-03-31", True),
        ("current", True),
        ("auto", True),
        ("2018 - 2012", False),
        ("2012 - 2099", False),
        ("since the first measurement", False),
    ],
)
def test_coverage(text: str, ok: bool) -> None:
    assert (g.coverage_issues(text, dt.date(2025, 1, 1)) == []) is ok


def test_field_names() -> None:
    assert g.field_name_issues("deaths") == []
    assert "SoQL keyword" in g.field_name_issues("group")[0]
    assert g.field_name_issues("_x") and g.field_name_issues("a__b")
