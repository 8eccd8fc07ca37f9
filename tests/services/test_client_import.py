"""Clients and contacts in from CSV (issue 16), without HTTP: every bad row shown before
anything is written, then every row in one transaction or none, with the client form's
own checks; a large file checked and imported in jobs whose progress is counted."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from kamportal import queue
from kamportal.errors import NotAllowed, ValidationError
from kamportal.models import Client, Contact, TimelineEvent
from kamportal.models.types import utc
from kamportal.services import client_import

NOW = utc(2026, 12, 1, 10, 0)
HEADER = "store_code,store_name,acm_email,plan,country,timezone,currency,recurring_amount\n"


@pytest.fixture
def cairo(make_portfolio, frozen_clock):
    """Team Cairo: its leader, its ACM (acm@cairo.example) and client CAIRO1."""
    frozen_clock(NOW)
    return make_portfolio(
        acm={"email": "acm@cairo.example", "name": "Ahmed"},
        client={"store_code": "CAIRO1", "store_name": "Cairo One"},
    )


def receive(actor, text: str, kind: str = "clients"):
    return client_import.receive(
        actor=actor, kind=kind, filename=f"{kind}.csv", data=text.encode("utf-8-sig")
    )


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def imported(upload, actor, db, run_jobs):
    """`upload` imported by `actor`, its job run."""
    client_import.start_import(upload, actor=actor)
    db.session.commit()
    run_jobs()
    db.session.expire_all()
    return upload


def errors_of(upload) -> dict[int, dict[str, str]]:
    return {row["line"]: dict(row["errors"]) for row in upload.preview["bad"]}


def test_bad_rows_are_each_shown_with_what_is_wrong_and_nothing_is_written(cairo, db):
    upload = receive(
        cairo.leader,
        HEADER
        + "NEW1,متجر جديد,acm@cairo.example,enterprise,EG,Africa/Cairo,EGP,1000\n"
        + "NEW2,Two,nobody@cairo.example,enterprise,EG,Africa/Cairo,EGP,\n"
        + "NEW1,Again,acm@cairo.example,enterprise,EG,Africa/Cairo,EGP,\n"
        + "cairo1,Taken,acm@cairo.example,enterprise,EG,Africa/Cairo,EGP,\n"
        + "NEW3,Country,acm@cairo.example,enterprise,XX,Africa/Cairo,EGP,\n"
        + "NEW4,Zone,acm@cairo.example,enterprise,EG,Mars/Base,EGP,\n"
        + "NEW5,Money,acm@cairo.example,enterprise,EG,Africa/Cairo,ZZZ,\n",
    )
    db.session.commit()
    assert (upload.status, upload.rows_good, upload.rows_bad) == ("previewed", 1, 6)
    errors = errors_of(upload)
    assert set(errors) == {3, 4, 5, 6, 7, 8}
    assert "acm_email" in errors[3]
    assert "line 2" in errors[4]["store_code"]
    assert "already used" in errors[5]["store_code"]
    assert set(errors[6]) == {"country"} and set(errors[7]) == {"timezone"}
    assert set(errors[8]) == {"currency"}
    assert upload.preview["good"][0]["name"] == "متجر جديد"
    assert count(db, Client) == 1
    with pytest.raises(ValidationError, match="6 rows are not right"):
        client_import.start_import(upload, actor=cairo.leader)


def test_a_good_file_registers_every_client_in_one_import(cairo, db, run_jobs):
    upload = receive(
        cairo.leader,
        HEADER
        + "NEW1,متجر النيل,acm@cairo.example,enterprise,EG,Africa/Cairo,EGP,1000\n"
        + "NEW2,Two,ACM@cairo.example,enterprise,SA,Asia/Riyadh,SAR,\n",
    )
    imported(upload, cairo.leader, db, run_jobs)
    assert (upload.status, upload.added) == ("done", 2)
    new = db.session.scalar(select(Client).where(Client.store_code == "NEW1"))
    assert (new.store_name, new.acm_id, str(new.recurring_amount)) == (
        "متجر النيل",
        cairo.acm.id,
        "1000.000",
    )
    # P6: registered as if typed in, on the timeline.
    assert count(db, TimelineEvent) >= 2


TWO_CLIENTS = (
    HEADER
    + "NEW1,One,acm@cairo.example,enterprise,EG,Africa/Cairo,EGP,\n"
    + "NEW2,Two,acm@cairo.example,enterprise,EG,Africa/Cairo,EGP,\n"
)


def test_a_failure_midway_writes_nothing(cairo, db, run_jobs, monkeypatch):
    upload = receive(cairo.leader, TWO_CLIENTS)
    client_import.start_import(upload, actor=cairo.leader)
    db.session.commit()
    real = client_import.clients.create_client
    calls = []

    def breaks_on_the_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return real(*args, **kwargs)

    monkeypatch.setattr(client_import.clients, "create_client", breaks_on_the_second)
    run_jobs()
    db.session.expire_all()
    assert len(calls) == 2 and upload.status == "importing"
    assert count(db, Client) == 1  # the first row's client was rolled back with the rest
    assert queue.job_status(f"clients-import-{upload.id}") is not None  # retried later


def test_a_row_no_longer_right_at_import_fails_it_writing_nothing(cairo, db, run_jobs, make_client):
    upload = receive(cairo.leader, TWO_CLIENTS)
    client_import.start_import(upload, actor=cairo.leader)
    db.session.commit()
    make_client(acm=cairo.acm, store_code="NEW2")
    run_jobs()
    db.session.expire_all()
    assert upload.status == "failed" and "no longer right" in upload.failure
    assert db.session.scalar(select(Client).where(Client.store_code == "NEW1")) is None


def test_a_leader_gives_clients_only_to_their_team_and_an_acm_imports_nothing(
    cairo, db, make_portfolio
):
    dubai = make_portfolio(team={"name": "Dubai"}, acm={"email": "acm@dubai.example"})
    upload = receive(
        cairo.leader, HEADER + "NEW1,One,acm@dubai.example,enterprise,EG,Africa/Cairo,EGP,\n"
    )
    assert "acm_email" in errors_of(upload)[2]
    with pytest.raises(NotAllowed):
        receive(dubai.acm, HEADER)
    with pytest.raises(ValidationError, match="lacks"):
        receive(cairo.leader, "store_code,store_name\nX,Y\n")


def test_contacts_name_their_client_by_store_code(cairo, db, run_jobs, make_portfolio):
    dubai = make_portfolio(team={"name": "Dubai"}, client={"store_code": "DUBAI1"})
    text = (
        "store_code,name,email,phone,is_primary\n"
        "cairo1,كريم سعيد,karim@store.example,01001234567,yes\n"
        "DUBAI1,Hidden,h@store.example,,no\n"
        "CAIRO1,Karim Again,KARIM@store.example,,no\n"
        "CAIRO1,No Way,,,maybe\n"
    )
    upload = receive(cairo.leader, text, "contacts")
    errors = errors_of(upload)
    assert set(errors) == {3, 4, 5}
    assert "store_code" in errors[3]  # another team's client is not found
    assert "email" in errors[4]
    assert "is_primary" in errors[5]
    assert dubai.client.contacts == [] and count(db, Contact) == 0

    good = receive(cairo.leader, text.split("DUBAI1")[0].rstrip() + "\n", "contacts")
    imported(good, cairo.leader, db, run_jobs)
    [contact] = db.session.scalars(select(Contact))
    assert (contact.name, contact.phone, contact.is_primary) == ("كريم سعيد", "+201001234567", True)


def test_a_large_file_is_checked_and_imported_in_jobs_counting_rows(app, cairo, db, run_jobs):
    app.config["FIGURES_INLINE_ROWS"] = 5
    rows = "".join(
        f"BIG{n:02d},Store {n},acm@cairo.example,enterprise,EG,Africa/Cairo,EGP,\n"
        for n in range(12)
    )
    upload = receive(cairo.leader, HEADER + rows)
    db.session.commit()
    assert upload.status == "checking" and client_import.uploads.rows_done(upload) == 0
    run_jobs()
    db.session.expire_all()
    assert (upload.status, upload.rows_good) == ("previewed", 12)
    client_import.start_import(upload, actor=cairo.leader)
    db.session.commit()
    assert client_import.uploads.rows_done(upload) == 0
    run_jobs()
    db.session.expire_all()
    assert (upload.status, upload.added) == ("done", 12)
    key = f"kam:figures-upload:{upload.id}:importing"
    assert int(queue.backend().connection.get(key)) == 12
    assert count(db, Client) == 13


def test_the_template_files_name_every_column(cairo):
    header, [example] = client_import.template("clients")
    assert set(client_import.CLIENT_REQUIRED) <= set(header) and len(example) == len(header)
    assert client_import.template("contacts")[0][:2] == ("store_code", "name")
