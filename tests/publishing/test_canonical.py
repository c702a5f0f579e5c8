"""Canonical form: a row read back from the portal fingerprints exactly like its source row."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow as pa

from ctdata.portal.schema import PortalColumn
from ctdata.publishing import canonical as canon
from ctdata.publishing.encoding import row_json
from ctdata.publishing.fingerprints import row_hashes

COLS = [
    PortalColumn("id", "ID", "text"),
    PortalColumn("n", "N", "number"),
    PortalColumn("d", "D", "calendar_date"),
    PortalColumn("b", "B", "checkbox"),
    PortalColumn("p", "P", "point"),
]


def _canon(source: dict[str, pa.Array], problems=None) -> dict[str, pa.Array]:
    return {
        c.field_name: canon.canonicalize(source[c.field_name], c, problems=problems) for c in COLS
    }


def test_typed_and_text_sources_round_trip_through_the_portal_form() -> None:
    typed = {
        "id": pa.array(['a "quoted"', "line\nbreak", "tab\tctl\x01", "plain", None]),
        "n": pa.array([5, -0.0, 0.1, 1e20, None], pa.float64()),
        "d": pa.array([dt.datetime(2014, 3, 26, 22, 38, 0, 123000), dt.datetime(2020, 1, 1),
                       None, dt.datetime(1999, 12, 31, 23, 59, 59), dt.datetime(2001, 2, 3)]),
        "b": pa.array([True, False, None, True, False]),
        "p": pa.array(["POINT (-72.68 41.76)", None, None, '{"type":"Point","coordinates":[1,2]}', ""]),
    }  # fmt: skip
    text = {
        "id": typed["id"],
        "n": pa.array(["5", "0", " 0.1 ", "100000000000000000000", ""]),
        "d": pa.array(["2014-03-26T22:38:00.123", "01/01/2020", "", "1999-12-31 23:59:59",
                       "2001-02-03"]),
        "b": pa.array(["TRUE", "no", None, "1", "f"]),
        "p": typed["p"],
    }  # fmt: skip
    a, b = _canon(typed), _canon(text)
    assert row_hashes(a, COLS).tolist() == row_hashes(b, COLS).tolist()
    sent = row_json(a, COLS).to_pylist()
    decoded = [json.loads(r) for r in sent]  # valid JSON, empty values as explicit nulls
    assert decoded[0] == {
        "b": True, "d": "2014-03-26T22:38:00.123", "id": 'a "quoted"', "n": 5,
        "p": {"type": "Point", "coordinates": [-72.68, 41.76]},
    }  # fmt: skip
    assert decoded[2] == {"b": None, "d": None, "id": "tab\tctl\x01", "n": 0.1, "p": None}
    # The portal answers with numbers as strings and its own date format.
    back = canon.portal_rows_to_arrays(  # and leaves empty fields out
        [{k: (str(v) if k == "n" else v) for k, v in r.items() if v is not None} for r in decoded],
        COLS,
    )
    assert row_hashes(back, COLS).tolist() == row_hashes(a, COLS).tolist()


def test_any_change_changes_the_fingerprint() -> None:
    base = {"id": pa.array(["x"] * 4), "n": pa.array([1.0, 1.0, 1.0, 2.0]),
            "d": pa.array(["2020-01-01", "2020-01-02", "2020-01-01", "2020-01-01"]),
            "b": pa.array([True, True, None, True]), "p": pa.array([None] * 4, pa.string())}  # fmt: skip
    hashes = row_hashes(_canon(base), COLS).tolist()
    assert len(set(hashes)) == 4


def test_type_problems_name_rows_and_values() -> None:
    problems = canon.TypeProblems()
    canon.canonicalize(pa.array(["1", "x", "", "2,5"]), COLS[1], first_row=10, problems=problems)
    canon.canonicalize(pa.array(["2020-13-45"]), COLS[2], problems=problems)
    assert problems.counts == {"n": 2, "d": 1}
    assert problems.examples["n"] == [(11, "x"), (13, "2,5")]


def test_all_null_row_sends_every_field_as_null() -> None:
    """Socrata keeps the old value of an omitted field, so clearing needs an explicit null."""
    arrays = _canon({c.field_name: pa.array([None, None], pa.string()) for c in COLS})
    expected = "{" + ",".join(f'"{n}":null' for n in sorted(c.field_name for c in COLS)) + "}"
    assert row_json(arrays, COLS).to_pylist() == [expected, expected]


def test_links_read_back_as_objects_hash_like_their_source() -> None:
    """The portal answers a url column as {"url": ...}; the source gives the bare link."""
    link = PortalColumn("u", "Link", "url")
    source = canon.canonicalize(pa.array(["https://ct.gov/a", "", None, "ftp://x"]), link)
    back = canon.portal_rows_to_arrays([{"u": {"url": "https://ct.gov/a"}}, {}, {}, {}], [link])[
        "u"
    ]
    assert (
        source.to_pylist()[:3] == back.to_pylist()[:3] == ['{"url":"https://ct.gov/a"}', None, None]
    )
    assert row_json({"u": source.slice(0, 1)}, [link]).to_pylist() == [
        '{"u":{"url":"https://ct.gov/a"}}'
    ]
    problems = canon.TypeProblems()
    canon.canonicalize(pa.array(["ftp://x"]), link, problems=problems)
    assert problems.counts == {"u": 1}


def test_rows_are_valid_json_whatever_mix_of_plain_and_escaped_text() -> None:
    """Plain text columns are quoted inside the one join; the others through json_string."""
    cols = [PortalColumn(name, name, "text") for name in ("a", "b", "c")]
    cols.append(PortalColumn("n", "N", "number"))
    cols.append(PortalColumn("d", "D", "calendar_date"))
    source = {
        "a": pa.array(["plain", "Ünïcode ✓", "x"]),  # plain, no nulls
        "b": pa.array(['say "hi"', "back\\slash", "tab\tnew\nline\x02"]),  # needs escaping
        "c": pa.array(["z", None, "y"]),  # plain with a null
        "n": pa.array(["1", "", "2.5"]),
        "d": pa.array(["2014-03-26T22:38:00.123", "", "0001-01-01"]),
    }
    arrays = {c.field_name: canon.canonicalize(source[c.field_name], c) for c in cols}
    decoded = [json.loads(r) for r in row_json(arrays, cols, trailer="").to_pylist()]
    assert decoded == [
        {"a": "plain", "b": 'say "hi"', "c": "z", "d": "2014-03-26T22:38:00.123", "n": 1},
        {"a": "Ünïcode ✓", "b": "back\\slash", "c": None, "d": None, "n": None},
        {"a": "x", "b": "tab\tnew\nline\x02", "c": "y", "d": "0001-01-01T00:00:00.000", "n": 2.5},
    ]


def test_dictionary_encoded_columns_type_hash_and_serialize_like_plain_ones() -> None:
    """Parquet's repetitive text is read as Arrow dictionaries (one conversion per distinct
    value): fingerprints, JSON and misfit reports must not depend on that."""
    raw = {
        "id": pa.array(["a", "b", "", None, "a", "c"]),
        "n": pa.array(["1", "2", "", "x", "1", None]),
        "d": pa.array(["2020-01-01", "", "2020-01-01", None, "bad", "2020-01-02"]),
        "b": pa.array(["true", "false", "", None, "yes", "maybe"]),
        "p": pa.array(["POINT (1 2)", "", None, "POINT (1 2)", "nope", "POINT (3 4)"]),
    }
    dense, encoded = canon.TypeProblems(), canon.TypeProblems()
    plain_arrays = _canon(raw, dense)
    dict_arrays = _canon({k: v.dictionary_encode() for k, v in raw.items()}, encoded)
    assert pa.types.is_dictionary(dict_arrays["id"].type)
    assert dict_arrays["id"].null_count == plain_arrays["id"].null_count == 2  # "" is empty
    assert row_hashes(dict_arrays, COLS).tolist() == row_hashes(plain_arrays, COLS).tolist()
    assert row_json(dict_arrays, COLS).to_pylist() == row_json(plain_arrays, COLS).to_pylist()
    assert encoded.counts == dense.counts == {"n": 1, "d": 1, "b": 1, "p": 1}
    assert encoded.examples == dense.examples
