"""A real SMTP server on loopback (aiosmtpd) and the Airflow SMTP connection pointing at it."""

from __future__ import annotations

import email
import email.policy
import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from ctdata.demo.services import free_port


@dataclass
class Received:
    sender: str
    to: list[str]
    subject: str
    html: str


@dataclass
class Sink:
    """Collects every message the server accepts."""

    messages: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = parsed.get_body(preferencelist=("html", "plain"))
        self.messages.append(
            Received(
                envelope.mail_from,
                sorted(envelope.rcpt_tos),
                str(parsed["subject"]),
                body.get_content() if body else "",
            )
        )
        return "250 Message accepted"


def smtp_connection(port: int) -> str:
    return json.dumps(
        {
            "conn_type": "smtp",
            "host": "127.0.0.1",
            "port": port,
            "extra": {"disable_tls": True, "disable_ssl": True, "timeout": 10, "retry_limit": 0},
        }
    )


@pytest.fixture
def smtp(monkeypatch):
    """(sink, connection JSON); AIRFLOW_CONN_SMTP_DEFAULT is set for in-process senders."""
    from aiosmtpd.controller import Controller

    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    connection = smtp_connection(port)
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", connection)
    try:
        yield sink, connection
    finally:
        controller.stop()
