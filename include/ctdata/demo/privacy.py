"""The demo's last word on privacy: `ctdata audit --agency` for every agency, on what the
stand-in portal shows and the releases the pipeline recorded."""

from __future__ import annotations

from ctdata.demo.environment import APP_TOKEN, PUBLISHER
from ctdata.specs import AgencySpec


def audit_summary(agencies: list[AgencySpec], portal_url: str) -> tuple[str, int]:
    """The audit of each agency's populations, in lines, and how many groups it disclosed."""
    from ctdata import settings
    from ctdata.disclosure.history import ReleaseHistory
    from ctdata.lifecycle.registry import resolve_portal_id
    from ctdata.pipeline.public_audit import audit_agency
    from ctdata.portal.client import SocrataClient
    from ctdata.portal.connection import PortalConnection
    from ctdata.store import engine

    recorded = ReleaseHistory(engine(settings.current().state_url))
    connection = PortalConnection.from_url(
        portal_url, username=PUBLISHER[0], password=PUBLISHER[1], app_token=APP_TOKEN
    )
    lines = ["Attacker model on everything each agency published (as `ctdata audit --agency`):"]
    disclosed = 0
    with SocrataClient(connection) as client:
        for agency in agencies:
            ids = {d.slug: resolve_portal_id(agency.code, d) for d in agency.datasets}
            for audit in audit_agency(agency, ids, client, None, recorded):
                if audit.assessment is None:
                    continue
                lines.append(f"  {audit.population}: {audit.assessment.headline()}")
                disclosed += len(audit.assessment.disclosures)
    return "\n".join(lines), disclosed
