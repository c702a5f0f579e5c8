"""Agency DAGs carry the lifecycle: onboard and review before publish, and a dry-run param."""

from __future__ import annotations

import datetime as dt

import pytest

from ctdata.specs import load_all


@pytest.fixture(scope="module")
def ocme_dag():
    from ctdata.airflow.dag_factory import build_agency_dag

    [ocme] = [a for a in load_all().agencies if a.code == "ocme"]
    return build_agency_dag(ocme)


@pytest.mark.parametrize("slug", ["deaths_by_town", "deaths_records", "deaths_by_age"])
def test_publish_waits_for_onboarding_and_review(ocme_dag, slug: str) -> None:
    chain = [f"{slug}.{name}" for name in ("validate_publishable", "onboard", "review", "publish")]
    for upstream, downstream in zip(chain, chain[1:], strict=False):
        assert downstream in ocme_dag.get_task(upstream).downstream_task_ids, (upstream, downstream)


def test_the_review_is_an_airflow_approval_with_a_reason_and_a_deadline(
    ocme_dag, monkeypatch
) -> None:
    from airflow.providers.standard.operators.hitl import ApprovalOperator

    review = ocme_dag.get_task("deaths_by_age.review")
    assert isinstance(review, ApprovalOperator)
    assert review.options == ["Approve", "Reject"]
    assert "reason" in review.params
    assert review.response_timeout == dt.timedelta(hours=72)
    assert review.retries >= 1  # a portal hiccup while preparing the request is retried


def test_reviews_can_be_assigned_to_opm_reviewers(monkeypatch) -> None:
    from ctdata.airflow.review import DatasetReviewOperator

    monkeypatch.setenv("CTDATA_REVIEWERS", '["opm-reviewer", "cdo"]')
    monkeypatch.setenv("CTDATA_REVIEW_TIMEOUT_HOURS", "24")
    review = DatasetReviewOperator(task_id="review", agency_code="ocme", slug="x")
    assert [u["id"] for u in review.assigned_users] == ["opm-reviewer", "cdo"]
    assert review.response_timeout == dt.timedelta(hours=24)


def test_a_manual_run_can_ask_for_a_dry_run(ocme_dag) -> None:
    assert ocme_dag.params["dry_run"] is False
