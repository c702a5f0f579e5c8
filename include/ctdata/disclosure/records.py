"""A de-identified record-level table as a release: the cube of its quasi-identifiers.

Counting the published rows by the quasi-identifiers (e.g. year, age group, sex) gives every
cross-classification the table shows. Generalization (the spec's `suppress_small_groups`) hides
each *atom* (one combination of the quasi-identifiers) shared by fewer than k people: its
records get the label "Suppressed" in the first `generalize` column; a group of such records
still under k (or whose total the linked tables keep unknown) moves on to the next column, and
what is left after the last column is removed. So, as the attacker sees it:

* a visible atom is published exactly; a hidden atom lies in 0..k-1 (the rule says so);
* the joint protection may also generalize an atom of k or more people when the linked tables
  would otherwise give a small group away (complementary generalization, labelled the same);
  the audit then grants the attacker the worst case: knowing which hidden atoms are such
  complements, so they lie in k..infinity;
* a group shown with "Suppressed" labels publishes the margin it completes (its count plus the
  visible atoms and earlier groups under it), e.g. (2012, Suppressed, Female) gives the number
  of women who died in 2012;
* nothing else is published.
The joint protection decides which atoms stay visible and which margins may be revealed
(`allowed`): a margin the linked tables suppress is never completed by the records.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ctdata.disclosure.aggregation import aggregate_batches
from ctdata.disclosure.release import ALL, INF, Release, canonical_cells
from ctdata.disclosure.spec import AggregationSpec, DimensionSpec
from ctdata.errors import DisclosureError

MAX_DIMS = 4
# Records the cube can read again, batch by batch, each time it needs them (counting them,
# then generalizing them): a staged table's reader, so the records are never held whole.
Batches = Callable[[], Iterable[pd.DataFrame]]


@dataclass(frozen=True)
class RecordsRule:
    """The record table's generalization, as its spec declares it."""

    quasi_identifiers: tuple[str, ...]
    generalize: tuple[str, ...]
    k: int
    label: str = "Suppressed"

    @property
    def threshold(self) -> int:
        """Groups from 1 to k-1 are what the rule hides."""
        return self.k - 1


class RecordsCube:
    """The quasi-identifier cube of one record-level table's true records."""

    def __init__(
        self,
        records: pd.DataFrame | Batches,
        rule: RecordsRule,
        domains: dict[str, list[str]] | None = None,
    ) -> None:
        self.rule = rule
        self.dims = list(rule.quasi_identifiers)
        if len(self.dims) > MAX_DIMS:
            raise DisclosureError(
                f"a record-level table of a population is audited over at most {MAX_DIMS} "
                f"quasi-identifiers; it declares {self.dims}"
            )
        self._read: Batches = (lambda: (records,)) if isinstance(records, pd.DataFrame) else records
        values = _values_seen(self._read(), self.dims)  # one pass: each column's distinct values
        self._integral = {d for d, seen in values.items() if _whole_numbers(seen)}
        self.domains = _domains(
            {d: self._labels_of(seen, d) for d, seen in values.items()},
            self.dims, domains or {}, rule.label,
        )  # fmt: skip
        spec = AggregationSpec(
            dimensions=[DimensionSpec(column=d, values=self.domains[d]) for d in self.dims],
            count_column="truth",
            total_label=ALL,
            threshold=rule.threshold,
        )
        cube = aggregate_batches((self.labels(batch) for batch in self._read()), spec)
        self.cells = canonical_cells(cube, self.dims, ALL, cube["truth"].to_numpy())
        self._row = {
            tuple(r): i for i, r in enumerate(self.cells[self.dims].itertuples(index=False))
        }
        margin = self.cells[self.dims].to_numpy() == ALL
        self.atom = ~margin.any(axis=1)
        truth = self.cells["truth"].to_numpy()
        self.visible = self.atom & (truth >= rule.k)
        generalized = [self.dims.index(g) for g in rule.generalize]
        fixed = [i for i in range(len(self.dims)) if i not in generalized]
        # level j: the generalize columns up to j at ALL, every other column a real value
        self.level = np.full(len(self.cells), -1)
        self.level[self.atom] = 0
        for j in range(1, len(generalized) + 1):
            at_all = margin[:, generalized[:j]].all(axis=1)
            rest = [i for i in generalized[j:]] + fixed
            real = ~margin[:, rest].any(axis=1) if rest else np.ones(len(margin), bool)
            self.level[at_all & real] = j

    def shown_atoms(self, allowed: np.ndarray) -> np.ndarray:
        """Atoms published as they are: k or more people, and not generalized to protect."""
        return self.visible & allowed

    def shown_groups(self, allowed: np.ndarray) -> np.ndarray:
        """Cube rows whose margin a shown "Suppressed" group reveals, given which may be."""
        truth = self.cells["truth"].to_numpy()
        residual = np.where(self.atom & ~self.shown_atoms(allowed), truth, 0.0)
        shown = np.zeros(len(self.cells), bool)
        generalized = self.rule.generalize
        for j, column in enumerate(generalized, start=1):
            rows = np.flatnonzero(self.level == j)
            count = np.array([self._moved_into(r, column, residual) for r in rows])
            show = (count >= self.rule.k) & allowed[rows]
            shown[rows[show]] = True
            residual[rows] = np.where(show, 0.0, count)
        return shown

    def _moved_into(self, row: int, column: str, residual: np.ndarray) -> float:
        """Records of the previous level's groups (same labels, any value of `column`) that
        were not shown, i.e. the group this row's margin completes."""
        key = list(self.cells[self.dims].iloc[row])
        at = self.dims.index(column)
        total = 0.0
        for value in self.domains[column]:
            key[at] = value
            total += residual[self._row[tuple(key)]]
        return total

    def release(
        self, table: str, snapshot: str, seq: int, allowed: np.ndarray | None = None
    ) -> Release:
        """What the published records show: visible atoms, hidden atoms at most k-1, and the
        margins shown groups complete (only those `allowed`, default all)."""
        allowed = np.ones(len(self.cells), bool) if allowed is None else allowed
        cells = self.cells.copy()
        truth = cells["truth"].to_numpy()
        atoms = self.shown_atoms(allowed)
        revealed = self.shown_groups(allowed)
        cells["shown"] = np.where(atoms | revealed, truth, np.nan)
        complement = self.visible & ~atoms
        cells["low"] = np.where(complement, float(self.rule.k), 0.0)
        cells["high"] = np.where(self.atom & ~self.visible, float(self.rule.k - 1), INF)
        return Release(table, snapshot, seq, "records", self.dims, cells, self.rule.threshold)

    def publish(self, allowed: np.ndarray | None = None) -> pd.DataFrame:
        """The records with hidden atoms generalized as `release` describes (whole)."""
        return pd.concat(list(self.publish_batches(allowed)), ignore_index=True)

    def publish_batches(self, allowed: np.ndarray | None = None) -> Iterator[pd.DataFrame]:
        """The records with hidden atoms generalized as `release` describes, batch by batch as
        they are read again; records of groups never shown are removed."""
        allowed = np.ones(len(self.cells), bool) if allowed is None else allowed
        final = self._final_level(allowed)
        for records in self._read():
            keys = pd.MultiIndex.from_frame(self.labels(records))
            level = final[np.array([self._row[k] for k in keys], dtype=np.int64)]
            out = records.copy()
            for j, column in enumerate(self.rule.generalize, start=1):
                out[column] = out[column].astype("object").where(~(level >= j), self.rule.label)
            yield out[level >= 0].reset_index(drop=True)

    def labels(self, records: pd.DataFrame) -> pd.DataFrame:
        """The quasi-identifiers of `records` as the cube's labels."""
        return pd.DataFrame({d: self._labels_of(records[d], d) for d in self.dims})

    def _labels_of(self, column: pd.Series, dim: str) -> pd.Series:
        """Values as text ('2012', not 2012.0, when the column holds whole numbers only),
        'Unknown' for empty ones: decided over the whole column, whatever the batch."""
        if dim in self._integral:
            column = column.astype("Int64")
        return column.astype("string").fillna("Unknown").astype(str)

    def _final_level(self, allowed: np.ndarray) -> np.ndarray:
        """Per atom: 0 if shown, j if its records end in a shown level-j group, -1 removed."""
        revealed = self.shown_groups(allowed)
        shown = self.shown_atoms(allowed)
        final = np.full(len(self.cells), -1)
        final[shown] = 0
        for row in np.flatnonzero(self.atom & ~shown):
            key = list(self.cells[self.dims].iloc[row])
            for j, column in enumerate(self.rule.generalize, start=1):
                key[self.dims.index(column)] = ALL
                if revealed[self._row[tuple(key)]]:
                    final[row] = j
                    break
        return final

    def summary(self, allowed: np.ndarray) -> dict[str, int]:
        """Records kept as they are, generalized (per column) and removed."""
        final = self._final_level(allowed)
        truth = self.cells["truth"].to_numpy()
        out = {"records_unchanged": int(truth[self.atom & (final == 0)].sum())}
        for j, column in enumerate(self.rule.generalize, start=1):
            out[f"records_generalized_{column}"] = int(truth[self.atom & (final == j)].sum())
        out["records_removed"] = int(truth[self.atom & (final == -1)].sum())
        return out


def _values_seen(batches: Iterable[pd.DataFrame], dims: list[str]) -> dict[str, pd.Series]:
    """Each quasi-identifier's distinct values over every batch (few: they are categories)."""
    seen: dict[str, list[pd.Series]] = {d: [] for d in dims}
    for records in batches:
        missing = [c for c in dims if c not in records.columns]
        if missing:
            raise DisclosureError(f"the records lack the quasi-identifier columns {missing}")
        for d in dims:
            seen[d].append(pd.Series(pd.unique(records[d]), dtype=records[d].dtype))
    return {d: pd.concat(parts, ignore_index=True).drop_duplicates() if parts else pd.Series()
            for d, parts in seen.items()}  # fmt: skip


def _whole_numbers(values: pd.Series) -> bool:
    return bool(pd.api.types.is_float_dtype(values) and (values.dropna() % 1 == 0).all())


def _domains(
    seen: dict[str, pd.Series], dims: list[str], linked: dict[str, list[str]], label: str
) -> dict[str, list[str]]:
    """Each quasi-identifier's categories: the linked tables' (so cells align), then values
    seen in the records."""
    out = {}
    for d in dims:
        values = [v for v in pd.unique(seen[d]) if v != label]
        out[d] = list(dict.fromkeys([*linked.get(d, []), *sorted(values)]))
    return out
