"""Benchmark: the row/column rule alone (baseline) against the disclosure engine, same tables.

For each table: time, cells suppressed and audit failures (LP audit with the true values) for
(i) the Department of Education's row/column rule and (ii) `ctdata.disclosure.suppression`; on the
tables small enough, the engine's suppressed count against the optimum of a mixed-integer
program (scipy `milp`) that minimises suppressed cells subject to every relation holding zero
or at least two suppressed cells (a necessary condition, so its optimum is a lower bound on the
best safe pattern; the MILP pattern's own audit is reported too).

Then the population rows (bench/support/populations.py): the OCME town table's second release
protected from scratch against with its history, and the three OCME tables protected each
alone against jointly, with cells suppressed, records generalized and what the attacker
model finds over all of them.

Run: .venv/bin/python bench/suppression.py [--quick]
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from baseline import row_column_rule  # bench/baseline.py, beside this script
from scipy.optimize import Bounds, LinearConstraint, milp
from support.populations import population_rows

from ctdata.disclosure import AggregationSpec, SuppressionSpec, aggregate, suppress
from ctdata.disclosure.lp import feasible_intervals, is_safe
from ctdata.disclosure.reference import DATA_DIR
from ctdata.disclosure.structure import build_structure

MILP_MAX_CELLS = 6000
MILP_TIME_LIMIT = 120.0
ENGINE_TIMEOUT = 240.0


@dataclass
class Row:
    table: str
    cells: int
    primary: int
    method: str
    seconds: float
    suppressed: int
    failures: int


def audit_failures(structure, values: np.ndarray, mask: np.ndarray, spec) -> int:  # noqa: ANN001
    interval = spec.protection == "interval"
    res = feasible_intervals(
        structure.relations,
        values,
        mask,
        threshold=spec.threshold,
        interval=interval,
        fast=True,
        truth_known=True,
        structure=structure,
    )
    return int((~is_safe(res.lower, res.upper, spec.threshold, interval)).sum())


def deaths_records() -> pd.DataFrame:
    raw = pd.read_csv(
        DATA_DIR / "accidental_drug_related_deaths_2012_2018.csv",
        encoding="utf-8-sig",
        usecols=["ID", "Date", "Sex", "DeathCity"],
        dtype=str,
    )
    towns = {t.upper(): t for t in pd.read_csv(DATA_DIR / "ct_towns.csv").town}
    year = pd.to_datetime(raw["Date"], format="%m/%d/%Y %I:%M:%S %p", errors="coerce").dt.year
    year = year.fillna(2000 + pd.to_numeric(raw["ID"].str[:2], errors="coerce"))
    return pd.DataFrame(
        {
            "town": raw["DeathCity"].str.strip().str.upper().map(towns),
            "year": year,
            "sex": raw["Sex"].where(raw["Sex"].isin(["Male", "Female"]), "Unknown"),
        }
    )


def demo_table(hierarchy: bool) -> tuple[pd.DataFrame, SuppressionSpec]:
    town: dict = {
        "column": "town",
        "reference": {"path": "ct_towns.csv", "column": "town"},
        "missing_label": "Unknown",
    }
    if hierarchy:
        town["parent_map"] = {"path": "ct_town_county.csv", "child": "town", "parent": "county"}
    spec = AggregationSpec.model_validate(
        {
            "count_column": "deaths",
            "seed": 2018,
            "dimensions": [
                town,
                {"column": "year", "range": {"start": 2012, "stop": 2018}},
                {"column": "sex", "values": ["Male", "Female", "Unknown"]},
            ],
        }
    )
    return aggregate(deaths_records(), spec), spec.to_suppression_spec()


def synthetic_4d(seed: int = 7) -> tuple[pd.DataFrame, SuppressionSpec]:
    """169 towns x 10 years x 8 age groups x 3 sexes: town sizes spread like CT's."""
    rng = np.random.default_rng(seed)
    towns = list(pd.read_csv(DATA_DIR / "ct_towns.csv").town)
    size = rng.lognormal(mean=0.0, sigma=0.7, size=len(towns))
    age = np.array([0.3, 0.6, 1.4, 1.6, 1.3, 1.0, 0.6, 0.3])
    sex = np.array([1.0, 0.9, 0.15])
    years = np.linspace(0.8, 1.3, 10)
    lam = 30.0 * np.einsum("t,y,a,s->tyas", size, years, age, sex)
    counts = rng.poisson(lam)
    idx = np.nonzero(counts)
    reps = counts[idx]
    records = pd.DataFrame(
        {
            "town": np.repeat(np.array(towns)[idx[0]], reps),
            "year": np.repeat(2010 + idx[1], reps),
            "age": np.repeat(np.array([f"age{a}" for a in range(8)])[idx[2]], reps),
            "sex": np.repeat(np.array(["Male", "Female", "Unknown"])[idx[3]], reps),
        }
    )
    spec = AggregationSpec.model_validate(
        {
            "count_column": "n",
            "seed": 1,
            "dimensions": [
                {"column": "town", "reference": {"path": "ct_towns.csv", "column": "town"}},
                {"column": "year", "range": {"start": 2010, "stop": 2019}},
                {"column": "age", "values": [f"age{a}" for a in range(8)]},
                {"column": "sex", "values": ["Male", "Female", "Unknown"]},
            ],
        }
    )
    return aggregate(records, spec), spec.to_suppression_spec()


def milp_optimum(structure, values: np.ndarray, threshold: int) -> tuple[np.ndarray | None, str]:  # noqa: ANN001
    """Fewest suppressed cells with every relation at 0 or >= 2 suppressed cells."""
    rel = abs(structure.relations).tocoo()
    m, n = structure.relations.shape
    primary = (values >= 1) & (values <= threshold)
    # variables: y (n binaries), s (m relation sums); s_r = sum y_j; s_r - 2 y_i >= 0, i in r
    define = sp.hstack(
        [-sp.csr_matrix((rel.data, (rel.row, rel.col)), shape=(m, n)), sp.identity(m)]
    )
    pairs = rel.nnz
    link = sp.hstack(
        [
            sp.csr_matrix((np.full(pairs, -2.0), (np.arange(pairs), rel.col)), shape=(pairs, n)),
            sp.csr_matrix((np.ones(pairs), (np.arange(pairs), rel.row)), shape=(pairs, m)),
        ]
    )
    lb = np.concatenate([primary.astype(float), np.zeros(m)])
    ub = np.concatenate([np.where(values > 0, 1.0, 0.0), np.full(m, np.inf)])
    res = milp(
        c=np.concatenate([np.ones(n), np.zeros(m)]),
        constraints=[LinearConstraint(define, 0, 0), LinearConstraint(link, 0, np.inf)],
        integrality=np.concatenate([np.ones(n), np.zeros(m)]),
        bounds=Bounds(lb, ub),
        options={"time_limit": MILP_TIME_LIMIT, "mip_rel_gap": 1e-4},
    )
    if res.x is None:
        return None, res.message
    status = "optimal" if res.status == 0 else f"time limit, best found (gap {res.mip_gap:.1%})"
    return np.round(res.x[:n]).astype(bool), status


def limited(fn, *args):  # noqa: ANN001, ANN002, ANN201
    """Run fn in a child process; None when it takes longer than ENGINE_TIMEOUT."""
    with multiprocessing.get_context("fork").Pool(1) as pool:
        job = pool.apply_async(fn, args)
        try:
            return job.get(timeout=ENGINE_TIMEOUT)
        except multiprocessing.TimeoutError:
            pool.terminate()
            return None


def _or(failures: int | None) -> int:
    return -1 if failures is None else failures  # -1: the audit itself did not finish


def engine_mask(table: pd.DataFrame, spec: SuppressionSpec) -> np.ndarray:
    return suppress(table, spec).table[spec.counts[0]].isna().to_numpy()


def run_table(name: str, table: pd.DataFrame, spec: SuppressionSpec, out: list[Row]) -> None:
    structure = build_structure(table, spec)
    column = spec.counts[0]
    values = table[column].to_numpy(dtype=float)
    primary = int(((values >= 1) & (values <= spec.threshold)).sum())
    t0 = time.perf_counter()
    base = row_column_rule(structure, values, spec.threshold, seed=spec.seed)
    t_base = time.perf_counter() - t0
    out.append(
        Row(
            name,
            len(table),
            primary,
            "row/column rule",
            t_base,
            int(base.sum()),
            _or(limited(audit_failures, structure, values, base, spec)),
        )
    )
    t0 = time.perf_counter()
    mask = limited(engine_mask, table, spec)
    t_engine = time.perf_counter() - t0
    if mask is None:
        stopped = f"engine (stopped at {ENGINE_TIMEOUT:.0f}s)"
        out.append(Row(name, len(table), primary, stopped, t_engine, -1, -1))
        print(f"  {name}: engine did not finish in {ENGINE_TIMEOUT:.0f}s", file=sys.stderr)
        return
    failures = audit_failures(structure, values, mask, spec)
    out.append(Row(name, len(table), primary, "engine", t_engine, int(mask.sum()), failures))
    print(f"  {name}: baseline {t_base:.2f}s, engine {t_engine:.2f}s", file=sys.stderr)
    if len(table) <= MILP_MAX_CELLS:
        t0 = time.perf_counter()
        best, status = milp_optimum(structure, values, spec.threshold)
        t_milp = time.perf_counter() - t0
        if best is not None:
            out.append(
                Row(
                    name,
                    len(table),
                    primary,
                    f"MILP bound ({status})",
                    t_milp,
                    int(best.sum()),
                    audit_failures(structure, values, best, spec),
                )
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 4-D table")
    args = parser.parse_args()
    rows: list[Row] = []
    tables = [
        ("169 towns x 7 years x sex", lambda: demo_table(False)),
        ("town > county > state x 7 years x sex", lambda: demo_table(True)),
    ]
    if not args.quick:
        tables.append(("169 x 10 x 8 x 3 (synthetic)", synthetic_4d))
    for name, make in tables:
        table, spec = make()
        run_table(name, table, spec, rows)
    frame = pd.DataFrame([r.__dict__ for r in rows])
    print(frame.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    print()
    for name in frame.table.unique():
        sub = frame[frame.table == name].set_index("method")
        base = sub.loc["row/column rule"]
        if "engine" not in sub.index:
            print(
                f"{name}: engine did not finish within {ENGINE_TIMEOUT:.0f}s; "
                f"row/column rule audit failures {base.failures}"
            )
            continue
        eng = sub.loc["engine"]
        line = (
            f"{name}: engine/baseline time x{eng.seconds / max(base.seconds, 1e-9):.1f}, "
            f"suppressed x{eng.suppressed / max(base.suppressed, 1):.2f}, "
            f"audit failures {base.failures} -> {eng.failures}"
        )
        bound = sub[sub.index.str.startswith("MILP")]
        if len(bound):
            opt = int(bound.suppressed.iloc[0])
            line += f", engine/MILP bound suppressed = {eng.suppressed / max(opt, 1):.3f}"
        print(line)
    print()
    population = pd.DataFrame(population_rows())
    print(population.to_string(index=False, float_format=lambda v: f"{v:.1f}"))
    return (
        0
        if (
            population["disclosed (attacker model)"][
                population.method.isin(["with history", "jointly"])
            ]
            == 0
        ).all()
        else 1
    )


if __name__ == "__main__":
    sys.exit(main())
