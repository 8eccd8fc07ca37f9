"""Clients and contacts in from CSV (issue 16): a team leader or an admin uploads a file
of clients to register (or of contacts of clients already registered), sees every bad
row with what is wrong before anything is written, then imports it: every row, in one
transaction, or nothing (a job, its progress counted as for store figures:
services/uploads.py).

A row is checked by the client form's own checks (`clients.check_profile`,
`clients.check_contact`) and written by `clients.create_client` / `clients.add_contact`,
so the timeline, the audit log and onboarding follow as for a client typed in. A client
row names its ACM by email, among those the uploader may assign (a leader: their team's);
a contact row names its client by store code, among those the uploader sees.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from kamportal import csv_files
from kamportal.csv_files import CsvRow
from kamportal.errors import NotAllowed, ValidationError
from kamportal.extensions import db
from kamportal.models import Client, FiguresUpload, LifecycleStatus, Role, User
from kamportal.services import access, clients, uploads

CLIENTS, CONTACTS = "clients", "contacts"
KINDS = (CLIENTS, CONTACTS)
IMPORTER_ROLES = (Role.LEADER, Role.ADMIN)
CLIENT_FIELDS = (
    "store_code",
    "store_name",
    "acm_email",
    "plan",
    "country",
    "timezone",
    "currency",
    "language",
    "industry",
    "status",
    "has_store_manager",
    "subscribed_on",
    "renewal_date",
    "recurring_amount",
)
CLIENT_REQUIRED = CLIENT_FIELDS[:7]
CONTACT_FIELDS = (
    "store_code",
    "name",
    "email",
    "phone",
    "whatsapp",
    "role",
    "is_primary",
    "is_decision_maker",
)
CONTACT_REQUIRED = ("store_code", "name")
FIELDS = {CLIENTS: CLIENT_FIELDS, CONTACTS: CONTACT_FIELDS}
REQUIRED = {CLIENTS: CLIENT_REQUIRED, CONTACTS: CONTACT_REQUIRED}
# The example row of each template file.
EXAMPLES = {
    CLIENTS: (
        "NILE01",
        "متجر النيل",
        "acm@example.com",
        "enterprise",
        "EG",
        "Africa/Cairo",
        "EGP",
        "ar",
        "Fashion",
        LifecycleStatus.ONBOARDING.value,
        "no",
        "2026-01-15",
        "2027-01-15",
        "12000.00",
    ),
    CONTACTS: (
        "NILE01",
        "كريم سعيد",
        "karim@example.com",
        "+201001234567",
        "",
        "Owner",
        "yes",
        "yes",
    ),
}
YES = {"yes", "y", "true", "1"}
NO = {"no", "n", "false", "0", ""}


def max_bytes() -> int:
    return int(current_app.config["FIGURES_UPLOAD_MAX_BYTES"])


def template(kind: str) -> tuple[Sequence[str], list[Sequence[str]]]:
    """The header row of a `kind` file and an example row."""
    return FIELDS[kind], [EXAMPLES[kind]]


def read_csv(kind: str, data: bytes) -> list[CsvRow]:
    """The file's rows. Raises ValidationError (field "file") for a file that cannot be
    read (see `csv_files.read_rows`)."""
    return csv_files.read_rows(
        data,
        fields=FIELDS[kind],
        required=REQUIRED[kind],
        max_bytes=max_bytes(),
        max_rows=int(current_app.config["FIGURES_UPLOAD_MAX_ROWS"]),
        what=kind,
    )


# --- Upload and preview ---------------------------------------------------------------------


def receive(*, actor: User, kind: str, filename: str, data: bytes) -> FiguresUpload:
    """Keep an uploaded file of clients or contacts and check it, nothing written: at once
    for a small file, in a job for a large one. Raises NotAllowed for anyone but a team
    leader or an admin, ValidationError for a kind not known or a file that cannot be
    read."""
    if not actor.has_role(*IMPORTER_ROLES):
        raise NotAllowed("Team leaders and admins import clients.")
    if kind not in KINDS:
        raise ValidationError("Choose clients or contacts.", field="kind")
    uploads.no_file(filename, data)
    rows = read_csv(kind, data)
    upload = uploads.keep(
        actor=actor, kind=kind, filename=filename, data=data, rows_total=len(rows)
    )
    return uploads.check(upload, rows, _preview, job="kamportal.jobs.client_import.check_upload")


def check_upload(upload_id: int) -> FiguresUpload | None:
    """The job's work for a large file: check it, counting rows checked. Nothing if the
    upload is gone or already checked. The caller commits."""
    upload = uploads.waiting(upload_id, KINDS, uploads.CHECKING)
    if upload is None:
        return None
    _preview(upload, _rows_of(upload), counting=True)
    return upload


@dataclass
class Checked:
    """A row checked: what is wrong with it (by field), or what it registers."""

    errors: dict[str, str]
    write: Callable[[], Any] | None = None
    shown: dict[str, Any] | None = None


def _preview(upload: FiguresUpload, rows: list[CsvRow], *, counting: bool) -> None:
    checked = _checked(upload, rows, counting=counting)
    uploads.previewed(
        upload, [(c.errors or None, c.shown, row) for c, row in checked], FIELDS[upload.kind]
    )


def _checked(
    upload: FiguresUpload, rows: Sequence[CsvRow], *, counting: bool
) -> list[tuple[Checked, CsvRow]]:
    actor = upload.uploaded_by
    checker = _ClientRows(actor) if upload.kind == CLIENTS else _ContactRows(actor)
    return uploads.in_steps(upload, rows, checker.check_step, counting=counting)


def _rows_of(upload: FiguresUpload) -> list[CsvRow]:
    return read_csv(upload.kind, uploads.upload_path(upload).read_bytes())


def _flag(fields: dict[str, str], name: str, errors: dict[str, str]) -> bool:
    value = fields.get(name, "").strip().lower()
    if value not in YES | NO:
        errors[name] = "Write yes or no."
    return value in YES


def _day(fields: dict[str, str], name: str, errors: dict[str, str]) -> date | None:
    value = fields.get(name, "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors[name] = "A date as YYYY-MM-DD."
        return None


def _refusal(errors: dict[str, str], error: ValidationError, default: str) -> None:
    errors[error.field or default] = str(error)


class _ClientRows:
    """Client rows checked as `actor` registers them; store codes seen earlier in the
    file are taken."""

    def __init__(self, actor: User) -> None:
        self.actor = actor
        self.acms = {u.email.lower(): u for u in access.assignable_acms(actor)}
        self.seen: dict[str, int] = {}

    def check_step(self, rows: Sequence[CsvRow]) -> list[Checked]:
        return [self.check(row) for row in rows]

    def check(self, row: CsvRow) -> Checked:
        fields = {k: v.strip() for k, v in row.fields.items()}
        errors: dict[str, str] = {}
        acm = self.acms.get(fields.get("acm_email", "").lower())
        if acm is None:
            errors["acm_email"] = "No account manager you may give a client to has this email."
        has_store_manager = _flag(fields, "has_store_manager", errors)
        subscribed_on = _day(fields, "subscribed_on", errors)
        renewal_date = _day(fields, "renewal_date", errors)
        zone = fields.get("timezone", "")
        profile = clients.ClientProfile(
            store_name=fields.get("store_name", ""),
            store_code=fields.get("store_code", ""),
            plan=fields.get("plan", "").lower(),
            country=fields.get("country", ""),
            timezone=zone,
            currency=fields.get("currency", ""),
            language=fields.get("language", "").lower() or "en",
            industry=fields.get("industry") or None,
            has_store_manager=has_store_manager,
            status=fields.get("status", "").lower() or LifecycleStatus.ONBOARDING.value,
            subscribed_at=clients.subscription_from_date(subscribed_on, zone),
            renewal_date=renewal_date,
            recurring_amount=fields.get("recurring_amount") or None,
        )
        if not profile.store_name:
            errors["store_name"] = "A client needs a store name."
        code = profile.store_code.upper()
        if code in self.seen:
            errors["store_code"] = f"Store code {code} is already on line {self.seen[code]}."
        elif code:
            self.seen[code] = row.line
        if not errors:
            try:
                clients.check_profile(profile)
            except ValidationError as error:
                _refusal(errors, error, "row")
        if errors:
            return Checked(errors)
        actor = self.actor
        return Checked(
            {},
            lambda: clients.create_client(profile, actor=actor, acm=acm),
            {"store_code": code, "name": profile.store_name, "detail": acm.name if acm else ""},
        )


class _ContactRows:
    """Contact rows of clients `actor` sees, found by store code; an email seen earlier in
    the file for the same client is taken."""

    def __init__(self, actor: User) -> None:
        self.actor = actor
        self.seen: set[tuple[int, str]] = set()

    def check_step(self, rows: Sequence[CsvRow]) -> list[Checked]:
        codes = {row.fields.get("store_code", "").strip().upper() for row in rows}
        found = db.session.scalars(
            select(Client)
            .where(func.upper(Client.store_code).in_(codes - {""}))
            .where(access.visible_clients_clause(self.actor))
            .options(selectinload(Client.contacts))
        )
        by_code = {client.store_code.upper(): client for client in found}
        return [self.check(row, by_code) for row in rows]

    def check(self, row: CsvRow, by_code: dict[str, Client]) -> Checked:
        fields = {k: v.strip() for k, v in row.fields.items()}
        errors: dict[str, str] = {}
        client = by_code.get(fields.get("store_code", "").upper())
        if client is None:
            errors["store_code"] = "No client you see has this store code."
        details = clients.ContactDetails(
            name=fields.get("name", ""),
            email=fields.get("email") or None,
            phone=fields.get("phone") or None,
            whatsapp=fields.get("whatsapp") or None,
            role=fields.get("role") or None,
            is_primary=_flag(fields, "is_primary", errors),
            is_decision_maker=_flag(fields, "is_decision_maker", errors),
        )
        if client is not None and details.email:
            key = (client.id, details.email.lower())
            if key in self.seen:
                errors["email"] = f"{details.email} is already a contact of this client above."
            self.seen.add(key)
        if client is not None and not errors:
            try:
                clients.check_contact(client, details)
            except ValidationError as error:
                _refusal(errors, error, "row")
        if errors or client is None:
            return Checked(errors)
        actor = self.actor
        return Checked(
            {},
            lambda: clients.add_contact(client, details, actor=actor),
            {"store_code": client.store_code, "name": details.name, "detail": client.store_name},
        )


# --- Import ------------------------------------------------------------------------------------


def start_import(upload: FiguresUpload, *, actor: User) -> FiguresUpload:
    """Import a checked file whose every row is right (in a job, enqueued after the
    commit). Raises NotAllowed for someone other than the uploader or an admin,
    ValidationError for a file with bad rows or not waiting to be imported."""
    if not uploads.may_see(actor, upload):
        raise NotAllowed("This upload is not yours.")
    if upload.status == uploads.PREVIEWED and upload.rows_bad:
        raise ValidationError(
            f"{upload.rows_bad:,} rows are not right: correct them and upload the file again. "
            "Nothing is imported until every row is right."
        )
    uploads.start(
        upload, actor=actor, good_rows_only=False, job="kamportal.jobs.client_import.import_upload"
    )
    return upload


def import_upload(upload_id: int) -> int | None:
    """The job's work: the file read and checked again (clients may have been registered
    since the preview), then every row written in the caller's one transaction, counting
    rows written; nothing if a row is no longer right (the upload fails, saying why).
    Returns the records added; None if the upload is gone or not importing. The caller
    commits."""
    upload = uploads.waiting(upload_id, KINDS, uploads.IMPORTING)
    if upload is None:
        return None
    checked = _checked(upload, _rows_of(upload), counting=False)
    now_bad = sum(1 for c, _ in checked if c.errors)
    if now_bad:
        uploads.fail(
            upload, f"{now_bad:,} rows are no longer right: upload the file again to see them."
        )
        return None
    for done, (row, _) in enumerate(checked, start=1):
        if row.write is not None:
            row.write()
        if done % uploads.STEP == 0 or done == len(checked):
            uploads.count(upload, done)
    upload.added = len(checked)
    uploads.done(upload)
    return upload.added


# --- Pages ------------------------------------------------------------------------------------


def upload_for(user: User, upload_id: int) -> FiguresUpload | None:
    """Clients' or contacts' upload `upload_id` if `user` may see it, else None."""
    return uploads.upload_for(user, upload_id, KINDS)


def recent_uploads(user: User) -> list[FiguresUpload]:
    return uploads.recent_uploads(user, KINDS)
