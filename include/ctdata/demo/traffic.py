"""Demo traffic: real HTTP requests the way people reach a dataset, so the portal's own counters
(and then the nightly metrics) have something true to count.

page view = GET /d/{id}; download = GET /api/views/{id}/rows.csv?accessType=DOWNLOAD;
API call = GET /resource/{id}.json. Popularity follows a Zipf-like law (a few datasets get
most of the use), reproducibly for a given seed.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import requests

KINDS = ("views", "downloads", "api_calls")
KIND_WEIGHTS = (0.6, 0.15, 0.25)


def request_path(kind: str, dataset_id: str) -> str:
    if kind == "views":
        return f"/d/{dataset_id}"
    if kind == "downloads":
        return f"/api/views/{dataset_id}/rows.csv?accessType=DOWNLOAD"
    return f"/resource/{dataset_id}.json?$limit=10"


def generate_traffic(
    base_url: str,
    dataset_ids: list[str],
    *,
    seed: int = 0,
    max_requests: int = 300,
    timeout: float = 30.0,
) -> dict[str, dict[str, int]]:
    """Make up to `max_requests` anonymous GETs spread over the datasets; returns, per dataset,
    how many of each kind succeeded (`views`, `downloads`, `api_calls`) and how many `failed`
    (e.g. a private dataset answers 401 and is not counted by the portal either)."""
    done: dict[str, dict[str, int]] = {
        d: {"views": 0, "downloads": 0, "api_calls": 0, "failed": 0} for d in dataset_ids
    }
    if not dataset_ids or max_requests <= 0:
        return done
    plan = traffic_schedule(dataset_ids, seed=seed, requests_total=max_requests)
    base = base_url.rstrip("/")
    with requests.Session() as session:
        for dataset_id, kind in plan:
            response = session.get(base + request_path(kind, dataset_id), timeout=timeout)
            outcome = kind if response.ok else "failed"
            done[dataset_id][outcome] += 1
    return done


def traffic_schedule(
    dataset_ids: Sequence[str], *, seed: int, requests_total: int
) -> list[tuple[str, str]]:
    """(dataset id, kind) for each request, Zipf-weighted over a seeded shuffle of the ids."""
    rng = random.Random(seed)
    order = list(dataset_ids)
    rng.shuffle(order)
    weights = [1 / (rank + 1) for rank in range(len(order))]
    picks = rng.choices(order, weights=weights, k=requests_total)
    kinds = rng.choices(KINDS, weights=KIND_WEIGHTS, k=requests_total)
    return list(zip(picks, kinds, strict=True))
