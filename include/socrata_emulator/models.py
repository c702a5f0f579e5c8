"""The portal's state model: datasets, columns, users, and the API error they raise.

Like moto's backends, these objects hold the truth in memory (persisted write-through to SQLite
by store.py) and know how to render themselves in Socrata's wire shapes.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field
from typing import Any

FOUR_BY_FOUR = re.compile(r"^[a-z0-9]{4}-[a-z0-9]{4}$")
FIELD_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class EmulatorError(Exception):
    """A mistake by whoever runs the stand-in (a bad flag, a bad seed file), reported in words.

    The stand-in's own base error: it imports nothing of the pipeline it stands in for."""


class ApiError(Exception):
    """An HTTP error answered in Socrata's JSON shape."""

    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "error": True, "message": self.message}


def bad_request(message: str, code: str = "invalid_request") -> ApiError:
    return ApiError(400, code, message)


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"Cannot find {what}")


def user_id(email: str) -> str:
    """A stable four-by-four user id derived from the email (Socrata users have 4x4 ids)."""
    h = hashlib.sha1(email.lower().encode()).hexdigest()
    return f"{h[:4]}-{h[4:8]}"


def field_name_from(name: str) -> str:
    """Socrata's default field name for a display name: lower case, underscores."""
    f = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "column"
    return f"_{f}"[:63] if f[0].isdigit() else f[:63]


@dataclass
class Column:
    id: int
    fieldName: str
    name: str
    dataTypeName: str
    description: str = ""
    position: int = 0

    def sql(self) -> str:
        return f'"c_{self.fieldName}"'

    def view(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Dataset:
    id: str
    name: str
    owner: str
    description: str = ""
    category: str | None = None
    tags: list[str] = field(default_factory=list)
    attribution: str | None = None
    attributionLink: str | None = None
    licenseId: str | None = None
    custom_fields: dict[str, dict[str, Any]] = field(default_factory=dict)
    public: bool = False
    published: bool = False
    createdAt: int = 0
    rowsUpdatedAt: int = 0
    viewLastModified: int = 0
    rowIdentifier: str | None = None  # a fieldName
    # How the owner named it (field name or column id): the portal echoes that spelling.
    rowIdentifierRef: str | int | None = None
    columns: list[Column] = field(default_factory=list)
    viewers: list[str] = field(default_factory=list)  # emails the dataset is shared with
    attachments: list[dict[str, str]] = field(default_factory=list)  # metadata.attachments
    # Other keys of the view's free-form `metadata` object, kept as given (as Socrata does).
    extra_metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def table(self) -> str:
        return '"r_' + self.id.replace("-", "_") + '"'

    def column(self, field_name: str) -> Column | None:
        for c in self.columns:
            if c.fieldName == field_name:
                return c
        return None

    def column_by_id(self, cid: int) -> Column | None:
        for c in self.columns:
            if c.id == cid:
                return c
        return None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Dataset:
        cols = [Column(**c) for c in data.pop("columns", [])]
        return cls(**data, columns=cols)

    def view(self, view_count: int = 0, download_count: int = 0) -> dict[str, Any]:
        """The dataset as `GET /api/views/{id}.json` answers it."""
        rid = self.column(self.rowIdentifier) if self.rowIdentifier else None
        # As on data.ct.gov: "0" when there is none, else the spelling it was set with (a
        # field name or the column's numeric id); rowIdentifierColumnId only when there is one.
        ref = (self.rowIdentifierRef or rid.fieldName) if rid else "0"
        metadata: dict[str, Any] = {
            **self.extra_metadata,
            "custom_fields": self.custom_fields,
            "rowIdentifier": ref,
        }
        if self.attachments:
            metadata["attachments"] = [dict(a) for a in self.attachments]
        view = {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "category": self.category,
            "tags": list(self.tags),
            "attribution": self.attribution,
            "attributionLink": self.attributionLink,
            "licenseId": self.licenseId,
            "createdAt": self.createdAt,
            "rowsUpdatedAt": self.rowsUpdatedAt,
            "viewLastModified": self.viewLastModified,
            "publicationStage": "published" if self.published else "unpublished",
            "viewCount": view_count,
            "downloadCount": download_count,
            "displayType": "table",
            "assetType": "dataset",
            "provenance": "official",
            "owner": {"id": user_id(self.owner), "displayName": self.owner},
            "grants": self.grants(),
            "columns": [c.view() for c in sorted(self.columns, key=lambda c: c.position)],
            "metadata": metadata,
        }
        if rid:
            view["rowIdentifierColumnId"] = rid.id
        return view

    def grants(self) -> list[dict[str, Any]]:
        """Socrata's `grants`: the public viewer grant and one per user it is shared with."""
        public = [{"type": "viewer", "flags": ["public"]}] if self.public else []
        shared = [{"type": "viewer", "userId": user_id(e), "flags": []} for e in self.viewers]
        return public + shared


@dataclass
class Accounts:
    """Who may do what: users write what they own, admins write everything."""

    users: dict[str, str] = field(default_factory=dict)
    admins: dict[str, str] = field(default_factory=dict)
    app_tokens: frozenset[str] = frozenset()

    def check(self, email: str, password: str) -> bool:
        expected = self.admins.get(email, self.users.get(email))
        return expected is not None and expected == password

    def is_admin(self, email: str | None) -> bool:
        return email is not None and email in self.admins

    def can_write(self, email: str | None, ds: Dataset) -> bool:
        return email is not None and (self.is_admin(email) or ds.owner == email)

    def can_read(self, email: str | None, ds: Dataset) -> bool:
        return ds.public or self.can_write(email, ds) or (email is not None and email in ds.viewers)
