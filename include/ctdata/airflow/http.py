"""Agency web APIs reached through the Airflow HTTP provider: the library's `HttpTransport`
(ctdata.sources.http) backed by `HttpHook`, so a source uses the Airflow connection as every
Airflow user configures it (type `http`: host with scheme and port, login/password sent with
the source's `auth`, extra JSON as request headers, e.g. `{"Authorization": "Bearer ..."}` or
`{"X-Api-Key": "..."}`, and the hook's own extras such as `verify`, `proxies`, `timeout`), and
retries with tenacity through `run_with_advanced_retry`, honouring Retry-After."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import requests

    from ctdata.specs.sources import HttpRetry


class HookTransport:
    """One source's requests through `HttpHook` (a hook per HTTP method, as the hook wants)."""

    def __init__(self, conn_id: str, auth: str = "basic") -> None:
        self.conn_id = conn_id
        self.auth = auth
        self._hooks: dict[str, Any] = {}

    def _hook(self, method: str) -> Any:
        from airflow.providers.http.hooks.http import HttpHook
        from requests.auth import HTTPBasicAuth, HTTPDigestAuth

        if method not in self._hooks:
            auth_type = HTTPDigestAuth if self.auth == "digest" else HTTPBasicAuth
            self._hooks[method] = HttpHook(method, http_conn_id=self.conn_id, auth_type=auth_type)
        return self._hooks[method]

    def __call__(
        self, method: str, endpoint: str, params: Mapping[str, Any], retry: HttpRetry,
        timeout: float,
    ) -> requests.Response:  # fmt: skip
        from ctdata.sources.http import retrying

        hook = self._hook(method)
        options = {"check_response": False, "timeout": timeout}  # the library judges answers
        if method == "POST":
            return hook.run_with_advanced_retry(
                retrying(retry), endpoint, json=dict(params), extra_options=options
            )
        return hook.run_with_advanced_retry(
            retrying(retry), endpoint, dict(params) or None, extra_options=options
        )


def hook_transport(conn_id: str) -> Any:
    """What `SourceConnection.http` holds for an Airflow connection: auth kind -> transport."""
    return lambda auth: HookTransport(conn_id, auth)
