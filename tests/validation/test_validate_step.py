"""The pipeline's validate step: the dataset's suppression spec reaches the suites as a GX suite
parameter, results are kept by agency, dataset and run, also when validation fails."""

from __future__ import annotations

import pytest

from ctdata import settings
from ctdata.errors import ValidationFailed
from ctdata.pipeline import steps
from ctdata.pipeline.run import DatasetRun
from ctdata.specs import load_agency
from ctdata.staging import Staging
from ctdata.validation import load_validation

RUN = "manual__2025-03-01T12:00:00+00:00"
SUITE = "ocme_deaths_by_town_publishable"


@pytest.fixture
def by_town(tmp_path, monkeypatch) -> DatasetRun:
    """A run of OCME's town table (its publishable suite is SUITE)."""
    monkeypatch.setenv("CTDATA_STAGING_ROOT", f"file://{tmp_path / 'staging'}")
    monkeypatch.setenv("CTDATA_DATA_DOCS_ROOT", str(tmp_path / "docs"))
    ocme = load_agency(settings.current().agencies_dir / "ocme.yaml")
    return DatasetRun(agency=ocme, dataset=ocme.dataset("deaths_by_town"), run_id=RUN)


def stage(frame, agency) -> dict[str, str]:  # noqa: ANN001
    """The table staged as the protection step stages it: with its release beside it."""
    from ctdata.disclosure.published import count_table_release
    from ctdata.pipeline.protection import stage_release

    staging = Staging()
    path = staging.path("ocme", "deaths_by_town", RUN, "publishable")
    spec = agency.dataset("deaths_by_town").aggregation
    release = count_table_release(frame, spec, "ocme.deaths_by_town", RUN, 1)
    return {
        "path": staging.write_frame(frame, path),
        "release": stage_release(staging, "ocme", "deaths_by_town", RUN, release),
        "population": agency.population_key(agency.dataset("deaths_by_town")),
    }


def test_validate_passes_the_spec_as_a_suite_parameter_and_keeps_results(by_town, by_town_frame):
    assert by_town.dataset.expectations.publishable == [SUITE]
    result = steps.validate_publishable(by_town, stage(by_town_frame, by_town.agency))
    assert result["success"] and result["failed"] == 0
    audit = next(o for o in result["outcomes"] if o["expectation_type"].endswith("audit_to_pass"))
    assert audit["observed_value"] == {"cells_audited": 8, "failures": 0}
    assert result["run"] == {
        "agency": "ocme",
        "dataset": "deaths_by_town",
        "run_id": RUN,
        "stage": "publishable",
    }
    (suite,) = result["suites"]
    assert suite["name"] == SUITE and suite["data_docs"].endswith(f"/publishable/{SUITE}.html")
    assert load_validation("ocme", "deaths_by_town", RUN) == {"publishable": result}
    joint = next(o for o in result["outcomes"] if "population" in o["expectation_type"])
    assert joint["observed_value"] == {"releases_audited": 1, "disclosed": 0}


def test_a_table_the_protection_step_did_not_make_fails_the_joint_audit(by_town, by_town_frame):
    staging = Staging()
    path = staging.path("ocme", "deaths_by_town", RUN, "publishable")
    with pytest.raises(ValidationFailed, match="population_disclosure_audit"):
        steps.validate_publishable(by_town, {"path": staging.write_frame(by_town_frame, path)})


def test_a_failed_validation_is_kept_and_its_message_links_the_page(
    by_town, by_town_unsafe_frame
) -> None:
    with pytest.raises(ValidationFailed) as caught:  # kept under the run, wherever it is staged
        steps.validate_publishable(by_town, stage(by_town_unsafe_frame, by_town.agency))
    kept = load_validation("ocme", "deaths_by_town", RUN)["publishable"]
    assert kept["success"] is False and kept["failed"] == 2  # its own audit and the joint one
    assert f"Data Docs for {SUITE}: {kept['suites'][0]['data_docs']}" in str(caught.value)
    assert "Andover" not in str(caught.value)
