"""`ctdata suppress` / `ctdata audit` on CSV files, and aggregation of record-level rows."""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from ctdata.cli.disclosure import register
from ctdata.disclosure import AggregationSpec, aggregate, suppress
from ctdata.disclosure.spec import SuppressionSpec
from ctdata.errors import CtDataError, DisclosureError
from tests.disclosure.support import build_table


def main(argv: list[str]) -> int:
    """`ctdata` limited to this package's subcommands, with ctdata.cli.main's error handling."""
    parser = argparse.ArgumentParser(prog="ctdata")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CtDataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


BRIDGE = np.array([[3, 4, 2, 40], [5, 2, 30, 50], [60, 70, 4, 3], [80, 90, 5, 1]])


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump({"dimensions": ["r", "c"], "counts": ["n"], "seed": 1}))
    table = build_table(BRIDGE, ["r", "c"])
    table.insert(2, "label", "x")
    src = tmp_path / "in.csv"
    table.to_csv(src, index=False)
    return {"spec": spec, "input": src, "output": tmp_path / "out.csv", "dir": tmp_path}


def read_rows(path: Path) -> list[list[str]]:
    with path.open(newline="") as fh:
        return list(csv.reader(fh))


def test_suppress_writes_same_rows_and_columns_with_empty_fields(files, capsys) -> None:  # noqa: ANN001
    code = main(
        ["suppress", "--spec", str(files["spec"]), str(files["input"]), "-o", str(files["output"])]
    )
    assert code == 0
    src, out = read_rows(files["input"]), read_rows(files["output"])
    assert out[0][: len(src[0])] == src[0] and out[0][len(src[0]) :] == ["n_suppressed"]
    n = src[0].index("n")
    assert len(out) == len(src)
    for before, after in zip(src[1:], out[1:], strict=True):
        assert after[:n] == before[:n]  # same rows in the same order
        assert after[n] in ("", before[n])  # suppressed is empty, the rest an integer unchanged
        assert after[n] == "" or str(int(after[n])) == after[n]
        assert (after[n] == "") == (after[-1] == "True")
    assert "primary" in capsys.readouterr().out


def test_audit_exit_codes(files, capsys) -> None:  # noqa: ANN001
    main(
        ["suppress", "--spec", str(files["spec"]), str(files["input"]), "-o", str(files["output"])]
    )
    capsys.readouterr()
    args = ["audit", "--spec", str(files["spec"]), str(files["output"])]
    assert main([*args, "--original", str(files["input"])]) == 0
    printed = capsys.readouterr().out
    assert "r=r0, c=c2" in printed and "true=2" in printed and "safe" in printed
    # the row/column rule's pattern on the same table: the bridge is recoverable -> exit 1
    table = pd.read_csv(files["input"], dtype=str)
    small = table["n"].astype(int).between(1, 5)
    table.loc[small, "n"] = ""
    unsafe = files["dir"] / "unsafe.csv"
    table.to_csv(unsafe, index=False)
    assert main(["audit", "--spec", str(files["spec"]), str(unsafe)]) == 1
    captured = capsys.readouterr()
    assert "exact" in captured.out and "FAILED" in captured.err


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (lambda t: t.assign(n=t.n.where(t.index != 4, 999)), "do not add up"),
        (lambda t: t.assign(n=t.n.where(t.index != 0, -3)), "negative"),
        (lambda t: t.assign(n=t.n.astype(object).where(t.index != 0, "1.5")), "non-integers"),
        (lambda t: t.rename(columns={"n": "m"}), "lacks"),
    ],
)
def test_bad_input_exits_2_naming_rows(files, capsys, edit, needle) -> None:  # noqa: ANN001
    table = edit(pd.read_csv(files["input"]))
    table.to_csv(files["input"], index=False)
    code = main(
        ["suppress", "--spec", str(files["spec"]), str(files["input"]), "-o", str(files["output"])]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert needle in err and str(files["input"]) in err
    if needle != "lacks":
        assert "line " in err


def test_bad_spec_names_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text("dimensions: [r]\ncounts: [n]\nprotection: loose\n")
    with pytest.raises(DisclosureError, match=r"spec\.yaml: protection: .loose. is not allowed"):
        SuppressionSpec.from_yaml(path)
    path.write_text("dimensions: [r]\ncounts: [n]\nthreshhold: 3\n")
    with pytest.raises(DisclosureError, match="threshhold"):
        SuppressionSpec.from_yaml(path)


def test_aggregate_full_cube_with_hierarchy_and_rates(tmp_path: Path) -> None:
    pop = tmp_path / "pop.csv"
    pd.DataFrame({"sex": ["F", "M"], "pop": [1000, 900]}).to_csv(pop, index=False)
    records = pd.DataFrame(
        {
            "Town": ["Tolland", "Tolland", "Hartford", "Nowhere", None, "Andover"],
            "yr": [2012, 2013, 2013.0, 2012, 2012, 2014],
            "sex": ["F", "M", "F", "F", "M", "M"],
        }
    )
    spec = AggregationSpec.model_validate(
        {
            "dimensions": [
                {
                    "column": "town",
                    "source": "Town",
                    "missing_label": "Unknown",
                    "reference": {"path": "ct_towns.csv", "column": "town"},
                    "parent_map": {
                        "path": "ct_town_county.csv",
                        "child": "town",
                        "parent": "county",
                    },
                },
                {"column": "year", "source": "yr", "range": {"start": 2012, "stop": 2014}},
                {"column": "sex", "values": ["F", "M"]},
            ],
            "denominators": {"path": str(pop), "keys": ["sex"], "column": "pop"},
            "rates": [
                {"column": "rate", "numerator": "count", "denominator": "pop", "per": 100000}
            ],
        }
    )
    cube = aggregate(records, spec)
    towns = set(cube.town)
    assert len(towns) == 169 + 1 + 8 + 1  # towns, Unknown, counties, Total
    assert {"Tolland", "Tolland County", "Unknown"} <= towns
    assert len(cube) == len(towns) * 4 * 3  # every category present, margins included
    assert cube["count"].dtype == np.int64
    grand = cube[(cube.town == "Total") & (cube.year == "Total") & (cube.sex == "Total")]
    assert int(grand["count"].iloc[0]) == 6
    tolland_county = cube[
        (cube.town == "Tolland County") & (cube.year == "Total") & (cube.sex == "Total")
    ]
    assert int(tolland_county["count"].iloc[0]) == 3  # Tolland x2 + Andover
    unknown = cube[(cube.town == "Unknown") & (cube.year == "Total") & (cube.sex == "Total")]
    assert int(unknown["count"].iloc[0]) == 2
    row = cube[(cube.town == "Total") & (cube.year == "Total") & (cube.sex == "F")].iloc[0]
    assert row["pop"] == 1000 and row["rate"] == pytest.approx(3 / 1000 * 100000)
    sspec = spec.to_suppression_spec()
    assert sspec.hierarchy["town"]["Tolland"] == "Tolland County"
    assert sspec.hierarchy["town"]["Tolland County"] == "Total"
    result = suppress(cube, sspec)
    assert result.audit.passed
    assert result.table["rate"].isna().all()  # every numerator is 5 or less


def test_aggregate_refuses_values_outside_the_domain() -> None:
    spec = AggregationSpec.model_validate({"dimensions": [{"column": "sex", "values": ["F", "M"]}]})
    with pytest.raises(DisclosureError, match="missing_label"):
        aggregate(pd.DataFrame({"sex": ["F", "X"]}), spec)


def test_town_county_reference_is_complete() -> None:
    data = Path(__file__).resolve().parents[2] / "include" / "ctdata" / "data"
    towns = pd.read_csv(data / "ct_towns.csv")
    ref = pd.read_csv(data / "ct_town_county.csv")
    assert sorted(ref.town) == sorted(towns.town)
    counts = ref.county.value_counts().to_dict()
    assert counts == {
        "Hartford": 29,
        "New Haven": 27,
        "Litchfield": 26,
        "Fairfield": 23,
        "New London": 21,
        "Middlesex": 15,
        "Windham": 15,
        "Tolland": 13,
    }
    deaths = pd.read_csv(
        data / "accidental_drug_related_deaths_2012_2018.csv",
        encoding="utf-8-sig",
        usecols=["DeathCity", "DeathCounty"],
    ).dropna()
    county = dict(zip(ref.town.str.upper(), ref.county.str.upper(), strict=True))
    known = deaths[
        deaths.DeathCity.str.upper().isin(county) & (deaths.DeathCounty.str.upper() != "USA")
    ]
    assert len(known) > 3000
    assert (known.DeathCity.str.upper().map(county) == known.DeathCounty.str.upper()).all()


def test_aggregate_counted_batch_by_batch_equals_the_whole_table() -> None:
    from ctdata.disclosure.aggregation import aggregate_batches

    spec = AggregationSpec.model_validate(
        {"dimensions": [{"column": "sex", "values": ["F", "M"]},
                        {"column": "year", "source": "yr", "range": {"start": 2012, "stop": 2014}}]}
    )  # fmt: skip
    records = pd.DataFrame(
        {"sex": list("FMFFMMF"), "yr": [2012, 2013, 2012, 2013, 2013, 2012, 2013]}
    )
    batches = [records.iloc[i : i + 3] for i in range(0, len(records), 3)]
    assert aggregate_batches(iter(batches), spec).equals(aggregate(records, spec))


def test_values_outside_the_domain_are_counted_over_every_batch_by_table_row() -> None:
    from ctdata.disclosure.aggregation import aggregate_batches

    spec = AggregationSpec.model_validate({"dimensions": [{"column": "sex", "values": ["F", "M"]}]})
    batches = [pd.DataFrame({"sex": ["F", "X"]}), pd.DataFrame({"sex": ["M", "F", "Y"]})]
    with pytest.raises(DisclosureError, match=r"has 2 values outside .* \(rows 2, 5\)"):
        aggregate_batches(iter(batches), spec)
