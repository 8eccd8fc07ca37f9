"""Store figures by CSV (F4), without HTTP: a file read whatever its dialect, checked
before anything is written, imported in one transaction, and harmless twice."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from kamportal import queue
from kamportal.errors import NotAllowed, ValidationError
from kamportal.models import Client, FiguresUpload, Role, StoreDay
from kamportal.models.types import utc
from kamportal.services import figures_upload
from tests.blueprints.test_query_counts import counting_queries

NOW = utc(2026, 12, 1, 10, 0)
HEADER = "store_code,day,orders,gmv\n"


@pytest.fixture
def acm(make_portfolio, frozen_clock):
    frozen_clock(NOW)
    return make_portfolio(client={"store_code": "CAIRO1", "store_name": "Cairo One"}).acm


def receive(actor, text: str | bytes, name: str = "figures.csv") -> FiguresUpload:
    data = text.encode() if isinstance(text, str) else text
    return figures_upload.receive(actor=actor, filename=name, data=data)


def store_days(db) -> int:
    return db.session.scalar(select(func.count(StoreDay.id)))


def test_a_file_with_bad_rows_is_previewed_and_writes_nothing_F4(acm, db):
    upload = receive(
        acm,
        HEADER + "CAIRO1,2026-11-30,12,3450.50\n"
        "CAIRO1,9999-12-31,1e30,5\n"
        "\n"  # a blank line is skipped, not a bad row
        "NOPE,2026-11-30,3,1e30\n"
        "CAIRO1,2026-11-29,4,10\n",
    )
    db.session.commit()
    assert (upload.status, upload.rows_total, upload.rows_good, upload.rows_bad) == (
        "previewed",
        4,
        2,
        2,
    )
    [dates, unknown] = upload.preview["bad"]
    # The line of the file, the header being line 1; each field with what is wrong.
    assert dates["line"] == 3 and unknown["line"] == 5
    assert [name for name, _ in dates["errors"]] == ["day", "orders"]
    assert "today at the latest" in dict(dates["errors"])["day"]
    assert "No store NOPE" in dict(unknown["errors"])["store_code"]
    assert upload.preview["good"][0] == {
        "line": 2,
        "store": "Cairo One",
        "store_code": "CAIRO1",
        "day": "2026-11-30",
        "orders": 12,
        "gmv": "3450.50",
        "currency": "EGP",
    }
    assert store_days(db) == 0
    with pytest.raises(ValidationError, match="import the good rows only"):
        figures_upload.start_import(upload, actor=acm, good_rows_only=False)
    assert upload.status == "previewed" and store_days(db) == 0


def test_bom_semicolons_quotes_and_arabic_extra_columns_are_read_F4(acm, db, run_jobs):
    text = (
        '\ufeffstore_name;"GMV";Day;orders;store_code;currency\n'
        '"متجر القاهرة; الأول";"3450.50";2026-11-30;"12";CAIRO1;egp\n'
        'متجر;"1000";2026-11-29;7;"cairo1";\n'
    )
    upload = receive(acm, text)
    assert (upload.rows_good, upload.rows_bad) == (2, 0)
    figures_upload.start_import(upload, actor=acm, good_rows_only=False)
    db.session.commit()
    run_jobs()
    db.session.expire_all()
    assert (upload.status, upload.added) == ("done", 2)
    days = db.session.scalars(select(StoreDay).order_by(StoreDay.day)).all()
    assert [(d.day, d.orders, d.gmv, d.source) for d in days] == [
        (date(2026, 11, 29), 7, Decimal("1000.00"), "csv"),
        (date(2026, 11, 30), 12, Decimal("3450.50"), "csv"),
    ]


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"", "The file is empty"),
        (b"  \r\n", "The file is empty"),
        (b"store_code,day,orders,gmv\nCAIRO1\x00,2026-11-30,1,1\n", "binary data"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary data"),
        (b"\xff\xd8\xff\xe0 JFIF", "not UTF-8"),
        (b"store_code,day,orders\nCAIRO1,2026-11-30,1\n", "lacks gmv"),
        (b"code;date;sales;amount\n", "lacks store_code, day, orders, gmv"),
        (b"store_code,day,orders,gmv\n", "no figures"),
        (b"store_code,day,orders,gmv\n\n ,\n", "no figures"),
    ],
)
def test_a_file_that_cannot_be_read_says_why_and_keeps_nothing_F4(acm, db, data, says):
    with pytest.raises(ValidationError, match=says) as refused:
        receive(acm, data)
    assert refused.value.field == "file"
    assert db.session.scalar(select(func.count(FiguresUpload.id))) == 0


@pytest.mark.config(FIGURES_UPLOAD_MAX_ROWS=2, FIGURES_UPLOAD_MAX_BYTES=200)
def test_a_file_too_large_is_refused_F4(acm):
    with pytest.raises(ValidationError, match="At most 2 rows"):
        receive(acm, HEADER + "CAIRO1,2026-11-30,1,1\n" * 3)
    with pytest.raises(ValidationError, match="larger than"):
        receive(acm, HEADER + "x" * 200)


def test_only_uploaders_upload_and_only_theirs_is_imported_F4(acm, make_user, db):
    with pytest.raises(NotAllowed):
        receive(make_user(Role.FINANCE), HEADER + "CAIRO1,2026-11-30,1,1\n")
    upload = receive(acm, HEADER + "CAIRO1,2026-11-30,1,1\n")
    other = make_user(Role.ACM)
    # Another ACM may not write Cairo One: the row is bad for them.
    assert receive(other, HEADER + "CAIRO1,2026-11-30,1,1\n").rows_bad == 1
    with pytest.raises(NotAllowed):
        figures_upload.start_import(upload, actor=other, good_rows_only=False)
    assert figures_upload.upload_for(other, upload.id) is None
    assert figures_upload.upload_for(make_user(Role.ADMIN), upload.id) == upload


def test_the_good_rows_only_when_asked_F4(acm, db, run_jobs):
    upload = receive(acm, HEADER + "CAIRO1,2026-11-30,5,50\nCAIRO1,2026-11-31,5,50\n")
    figures_upload.start_import(upload, actor=acm, good_rows_only=True)
    db.session.commit()
    run_jobs()
    db.session.expire_all()
    assert (upload.status, upload.added, upload.good_rows_only) == ("done", 1, True)
    with pytest.raises(ValidationError, match="already imported"):
        figures_upload.start_import(upload, actor=acm, good_rows_only=True)


def test_rows_no_longer_right_at_import_fail_it_writing_nothing_F4(acm, db, run_jobs):
    upload = receive(acm, HEADER + "CAIRO1,2026-11-30,5,50\n")
    figures_upload.start_import(upload, actor=acm, good_rows_only=False)
    # The store changed hands between the preview and the import.
    db.session.scalar(select(Client).where(Client.store_code == "CAIRO1")).acm_id = None
    db.session.commit()
    run_jobs()
    db.session.expire_all()
    assert upload.status == "failed" and "no longer right" in upload.failure
    assert store_days(db) == 0


def test_a_failed_import_writes_nothing_and_is_retried_F4(acm, db, run_jobs, monkeypatch):
    upload = receive(acm, HEADER + "CAIRO1,2026-11-30,5,50\nCAIRO1,2026-11-29,5,50\n")
    figures_upload.start_import(upload, actor=acm, good_rows_only=False)
    db.session.commit()
    real_upsert = figures_upload.store_figures.upsert
    calls = []

    def breaks_after_writing(figures, **kwargs):
        real_upsert(figures, **kwargs)
        calls.append(1)
        raise RuntimeError("the database went away")

    monkeypatch.setattr(figures_upload.store_figures, "upsert", breaks_after_writing)
    run_jobs()
    db.session.expire_all()
    assert calls and upload.status == "importing" and store_days(db) == 0
    monkeypatch.setattr(figures_upload.store_figures, "upsert", real_upsert)
    job_id = f"figures-import-{upload.id}"
    assert queue.job_status(job_id) is not None  # scheduled again
    figures_upload.import_upload(upload.id)  # the retry's work, as the job would do it
    db.session.commit()
    assert (upload.status, upload.added, store_days(db)) == ("done", 2, 2)


def test_a_large_file_is_checked_and_imported_in_jobs_counting_rows_F4(
    acm, make_client, db, run_jobs
):
    stores = [make_client(acm=acm, store_code=f"BIG{n:02d}") for n in range(30)]
    days = [NOW.date() - timedelta(days=n) for n in range(1000)]
    text = HEADER + "".join(
        f"{store.store_code},{day.isoformat()},{n % 50},{n % 50}.25\n"
        for store in stores
        for n, day in enumerate(days)
    )
    upload = receive(acm, text, "big.csv")
    db.session.commit()
    assert upload.status == "checking" and upload.rows_total == 30_000
    run_jobs()
    db.session.expire_all()
    assert (upload.status, upload.rows_good, upload.rows_bad) == ("previewed", 30_000, 0)
    assert figures_upload.rows_done(upload) == 30_000
    figures_upload.start_import(upload, actor=acm, good_rows_only=False)
    db.session.commit()
    assert figures_upload.rows_done(upload) == 0
    with counting_queries(db.engine) as statements:
        run_jobs()
    # A few statements a step of rows, not one a row.
    assert len(statements) < 250, len(statements)
    db.session.expire_all()
    assert (upload.status, upload.added, upload.changed) == ("done", 30_000, 0)
    # The last count kept in Redis reached the total.
    key = f"kam:figures-upload:{upload.id}:importing"
    assert int(queue.backend().connection.get(key)) == 30_000 == figures_upload.rows_done(upload)
    assert store_days(db) == 30_000

    # The same file again changes nothing.
    again = receive(acm, text, "big.csv")
    db.session.commit()
    run_jobs()
    db.session.expire_all()
    figures_upload.start_import(again, actor=acm, good_rows_only=False)
    db.session.commit()
    run_jobs()
    db.session.expire_all()
    assert (again.status, again.added, again.changed, again.unchanged) == ("done", 0, 0, 30_000)
    assert store_days(db) == 30_000
