"""The deployment's configuration files: every variable the compose files use is documented in
.env.example, new-secrets.sh fills the secrets (a valid Fernet key among them) and only those,
and airflow-init refuses placeholders by name without echoing values."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]


def test_every_compose_variable_is_documented_in_env_example() -> None:
    example = (PROJECT / ".env.example").read_text()
    documented = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", example, re.MULTILINE))
    for name in ("docker-compose.yaml", "docker-compose.override.yaml", "deploy/host-network.yaml"):
        used = set(re.findall(r"(?<!\$)\$\{([A-Z][A-Z0-9_]+)", (PROJECT / name).read_text()))
        assert used <= documented, f"{name} uses undocumented {sorted(used - documented)}"


def test_new_secrets_fills_each_secret_once_and_leaves_the_rest(tmp_path: Path) -> None:
    from cryptography.fernet import Fernet

    env = tmp_path / ".env"
    env.write_text((PROJECT / ".env.example").read_text())
    done = subprocess.run([str(PROJECT / "deploy/new-secrets.sh"), str(env)], capture_output=True,
                          text=True, check=True)  # fmt: skip
    values = dict(
        line.split("=", 1) for line in env.read_text().splitlines() if re.match(r"^[A-Z]", line)
    )
    secrets = ["POSTGRES_PASSWORD", "CTDATA_STATE_DB_PASSWORD", "AIRFLOW__API_AUTH__JWT_SECRET",
               "AIRFLOW__API__SECRET_KEY", "AIRFLOW_ADMIN_PASSWORD", "CTDATA_PSEUDONYM_KEY"]  # fmt: skip
    assert len({values[s] for s in secrets}) == len(secrets)
    assert all(len(values[s]) >= 32 and "change-me" not in values[s] for s in secrets)
    Fernet(values["AIRFLOW__CORE__FERNET_KEY"].encode())  # raises on a malformed key
    assert "change-me" in values["AIRFLOW_CONN_SOCRATA_DEFAULT"]  # left for a person to set
    assert "AIRFLOW_CONN_SOCRATA_DEFAULT" in done.stderr
    before = env.read_text()
    subprocess.run([str(PROJECT / "deploy/new-secrets.sh"), str(env)], check=True,
                   capture_output=True)  # fmt: skip
    assert env.read_text() == before


def test_init_names_missing_and_placeholder_settings_without_their_values(monkeypatch) -> None:
    monkeypatch.syspath_prepend(str(PROJECT / "deploy"))
    from initialize import REQUIRED_SETTINGS, InitError, check_settings

    complete = {name: "a-real-value" for name in REQUIRED_SETTINGS}
    check_settings(complete)
    broken = {**complete, "CTDATA_PSEUDONYM_KEY": "", "AIRFLOW_CONN_X": '{"password": "change-me"}'}
    with pytest.raises(InitError) as error:
        check_settings(broken)
    message = str(error.value)
    assert "CTDATA_PSEUDONYM_KEY" in message and "AIRFLOW_CONN_X" in message
    assert "a-real-value" not in message and "password" not in message
    with pytest.raises(InitError, match="CTDATA_SOCRATA_POOL_SLOTS"):
        check_settings({**complete, "CTDATA_SOCRATA_POOL_SLOTS": "0"})


def test_init_refuses_the_demos_published_pseudonymization_key(monkeypatch) -> None:
    """The demo may keep a fixed key; a deployment with it would publish reversible ids."""
    monkeypatch.syspath_prepend(str(PROJECT / "deploy"))
    from initialize import REQUIRED_SETTINGS, InitError, check_settings

    from ctdata.demo.environment import DEMO_PSEUDONYM_KEY

    complete = {name: "a-real-value" for name in REQUIRED_SETTINGS}
    with pytest.raises(InitError) as error:
        check_settings({**complete, "CTDATA_PSEUDONYM_KEY": DEMO_PSEUDONYM_KEY})
    message = str(error.value)
    assert "CTDATA_PSEUDONYM_KEY: the demo's key" in message and DEMO_PSEUDONYM_KEY not in message
    check_settings({**complete, "CTDATA_PSEUDONYM_KEY": DEMO_PSEUDONYM_KEY + "-not"})
