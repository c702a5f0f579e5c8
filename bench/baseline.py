"""The Department of Education's row/column rule alone: the baseline bench/suppression.py
measures the engine against (not part of the library: no pipeline step uses it).

Rule 2 applied to every line of the table (row, column, or any relation of a larger table):
while a line holds exactly one suppressed cell, also suppress the next highest value in it,
preferring non-totals (rule 3), never zeros (rule 4), ties broken at random. It does not look
further, so a suppressed cell can still be solvable; the LP audit shows when.
"""

from __future__ import annotations

import numpy as np

from ctdata.disclosure.structure import TableStructure


def row_column_rule(
    structure: TableStructure, values: np.ndarray, threshold: int, seed: int = 0
) -> np.ndarray:
    """Suppression mask after primary suppression and the row/column complement rule."""
    rng = np.random.default_rng(seed)
    tie = rng.random(values.size)
    rows = structure.relations.tocsr()
    cols = rows.tocsc()
    mask = (values >= 1) & (values <= threshold)
    count = np.asarray(abs(rows) @ mask.astype(float)).ravel().astype(int)
    queue = list(np.flatnonzero(count == 1))
    while queue:
        r = queue.pop()
        if count[r] != 1:
            continue
        cells = rows.indices[rows.indptr[r] : rows.indptr[r + 1]]
        cand = cells[~mask[cells] & (values[cells] > 0)]
        if not cand.size:
            continue
        key = np.lexsort((tie[cand], values[cand], structure.aggregation[cand] > 0))
        pick = int(cand[key[0]])
        mask[pick] = True
        rels = cols.indices[cols.indptr[pick] : cols.indptr[pick + 1]]
        count[rels] += 1
        queue.extend(int(x) for x in rels[count[rels] == 1])
    return mask
