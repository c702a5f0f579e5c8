"""An auth manager with per-DAG read permissions, as FAB or Keycloak give them: a user named
`<agency>_officer` may read only `publish_<agency>`. Loaded by the API server in the UI tests
(AIRFLOW__CORE__AUTH_MANAGER) to check that the Open Data view follows the auth manager."""

from __future__ import annotations

from typing import Any

from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager


class AgencyScopedAuthManager(SimpleAuthManager):
    def is_authorized_dag(self, *, method: Any, user: Any, access_entity: Any = None,
                          details: Any = None) -> bool:  # fmt: skip
        name = user.get_name()
        if name.endswith("_officer") and details is not None and details.id:
            return details.id == f"publish_{name.removesuffix('_officer')}"
        return super().is_authorized_dag(
            method=method, user=user, access_entity=access_entity, details=details
        )
