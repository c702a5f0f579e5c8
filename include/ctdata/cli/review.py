"""`ctdata review`: OPM's review from the command line, through Airflow's REST API (the calls the
UI's Required Actions make), so a reviewer needs no curl.

    ctdata review                               what waits (every ctdata DAG)
    ctdata review show ocme.deaths_by_age       the request: columns, rows, disclosure, sample
    ctdata review approve ocme.deaths_by_age [--reason TEXT]
    ctdata review reject ocme.deaths_by_age --reason TEXT

A review is named by `<agency>.<dataset>` (its DAG's only waiting review of that dataset), or
`<dag_id>/<run_id>/<task_id>` when several runs wait. Where Airflow is and who signs in: see
`ctdata.cli.airflow_api` (flags, CTDATA_AIRFLOW_*, the local setup, Airflow's base URL).
"""

from __future__ import annotations

import argparse
from typing import Any

from ctdata.cli.output import echo, echo_json
from ctdata.errors import ConfigurationError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "review",
        help="list the reviews waiting in Airflow, show one, approve or reject it",
        description=__doc__.split("\n\n")[0].split(": ", 1)[1],
    )
    _connection_flags(p)
    p.add_argument("--json", action="store_true", help="the waiting reviews as JSON")
    p.set_defaults(func=run_list)
    sub = p.add_subparsers(dest="review_command", metavar="ACTION")
    show = sub.add_parser("show", help="print what the reviewer must see")
    show.add_argument("review", help="<agency>.<dataset> or <dag_id>/<run_id>/<task_id>")
    _connection_flags(show)
    show.set_defaults(func=run_show)
    for action, helps in (("approve", "publish, and make the dataset public"),
                          ("reject", "fail the run with the reason; nothing public changes")):  # fmt: skip
        decide = sub.add_parser(action, help=helps)
        decide.add_argument("review", help="<agency>.<dataset> or <dag_id>/<run_id>/<task_id>")
        decide.add_argument("--reason", required=action == "reject", default="",
                            help="why (kept with the decision; a rejection ends the run with it)")  # fmt: skip
        _connection_flags(decide)
        decide.set_defaults(func=run_decide, approve=action == "approve")


def _connection_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--airflow", metavar="URL", default=argparse.SUPPRESS,
                        help="Airflow's API server (default: CTDATA_AIRFLOW_URL, the local "
                        "setup, or [api] base_url)")  # fmt: skip
    parser.add_argument("--user", default=argparse.SUPPRESS,
                        help="the reviewer's account (password: CTDATA_AIRFLOW_PASSWORD or asked)")  # fmt: skip


def _api(args: argparse.Namespace) -> Any:
    from ctdata.cli.airflow_api import api_from

    return api_from(getattr(args, "airflow", None), getattr(args, "user", None))


def _ctdata_reviews(api: Any) -> list[dict[str, Any]]:
    return [
        r
        for r in api.pending_reviews()
        if str(r["task_instance"]["dag_id"]).startswith("publish_")
        and str(r["task_instance"]["task_id"]).endswith(".review")
    ]


def dataset_of(review: dict[str, Any]) -> str:
    """`<agency>.<slug>` of a review task `publish_<agency>` / `<slug>.review`."""
    ti = review["task_instance"]
    agency = str(ti["dag_id"]).removeprefix("publish_")
    return f"{agency}.{str(ti['task_id']).removesuffix('.review')}"


def describe_waiting(reviews: list[dict[str, Any]]) -> str:
    if not reviews:
        return "No review waits."
    lines = [f"{len(reviews)} review(s) wait:"]
    for review in reviews:
        ti = review["task_instance"]
        lines.append(f"  {dataset_of(review)}  {review.get('subject', '')}")
        lines.append(f"      run {ti['dag_run_id']} since {review.get('created_at', '?')}; "
                     f"`ctdata review show {dataset_of(review)}`")  # fmt: skip
    return "\n".join(lines)


def run_list(args: argparse.Namespace) -> int:
    reviews = _ctdata_reviews(_api(args))
    if args.json:
        echo_json([{"dataset": dataset_of(r), "dag_id": r["task_instance"]["dag_id"],
                    "run_id": r["task_instance"]["dag_run_id"],
                    "task_id": r["task_instance"]["task_id"], "subject": r.get("subject"),
                    "waiting_since": r.get("created_at")} for r in reviews])  # fmt: skip
    else:
        echo(describe_waiting(reviews))
    return 0


def find(reviews: list[dict[str, Any]], name: str) -> dict[str, Any]:
    """The review `name` designates, or a ConfigurationError saying what waits."""
    if "/" in name:
        dag_id, run_id, task_id = (name.split("/", 2) + ["", ""])[:3]
        found = [r for r in reviews if (r["task_instance"]["dag_id"], r["task_instance"]
                 ["dag_run_id"], r["task_instance"]["task_id"]) == (dag_id, run_id, task_id)]  # fmt: skip
    else:
        found = [r for r in reviews if dataset_of(r) == name]
    if len(found) == 1:
        return found[0]
    waiting = ", ".join(sorted({dataset_of(r) for r in reviews})) or "none"
    if not found:
        raise ConfigurationError(f"no review of {name!r} waits (waiting: {waiting})")
    runs = ", ".join(f"{r['task_instance']['dag_id']}/{r['task_instance']['dag_run_id']}/"
                     f"{r['task_instance']['task_id']}" for r in found)  # fmt: skip
    raise ConfigurationError(f"{len(found)} runs wait for a review of {name!r}: name one of {runs}")


def run_show(args: argparse.Namespace) -> int:
    review = find(_ctdata_reviews(_api(args)), args.review)
    echo(str(review.get("subject", "")))
    echo()
    echo(str(review.get("body") or "(no details)"))
    return 0


def run_decide(args: argparse.Namespace) -> int:
    from ctdata.cli.airflow_api import AirflowApiError

    api = _api(args)
    review = find(_ctdata_reviews(api), args.review)
    try:
        api.decide(review, approve=args.approve, reason=args.reason)
    except AirflowApiError as exc:
        if "403" in str(exc):
            raise ConfigurationError(
                f"{api.username!r} may not decide this review: it is assigned to "
                f"{[u.get('name') for u in review.get('assigned_users') or []]} "
                "(CTDATA_REVIEWERS); sign in as one of them with --user"
            ) from None
        raise
    verb = "Approved" if args.approve else "Rejected"
    ti = review["task_instance"]
    echo(f"{verb} {dataset_of(review)} (run {ti['dag_run_id']}) as {api.username}"
         + (f": {args.reason}" if args.reason else ""))  # fmt: skip
    return 0
