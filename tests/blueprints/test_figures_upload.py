"""The store figures' CSV upload pages (F4): a file checked before anything is written,
bad files told why (never a 5xx), the import's progress polled and its result shown."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from kamportal.models import FiguresUpload, StoreDay
from kamportal.models.types import utc

NOW = utc(2026, 12, 1, 10, 0)
HEADER = "store_code,day,orders,gmv\n"


@pytest.fixture
def acm_http(make_portfolio, frozen_clock, login_as):
    frozen_clock(NOW)
    portfolio = make_portfolio(client={"store_code": "CAIRO1", "store_name": "Cairo One"})
    return login_as(portfolio.acm)


def words(response) -> str:
    """The page's text with its whitespace folded, as a reader sees it."""
    return " ".join(response.get_data(as_text=True).split())


def post_file(http, data: bytes, name: str = "figures.csv", **headers):
    return http.post(
        "/figures/upload",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        headers=headers,
    )


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"", "Choose the CSV file"),
        (b"\x00\x01\x02PK\x03\x04", "binary data"),
        (b"\xff\xfe\xfd", "not UTF-8"),
        (b"store_code;day;orders\n", "lacks gmv"),
        (HEADER.encode(), "no figures"),
    ],
)
def test_a_file_that_cannot_be_read_gives_the_form_again_F4(acm_http, db, data, says):
    response = post_file(acm_http, data, "" if not data else "figures.csv")
    assert response.status_code == 422
    assert says in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(FiguresUpload.id))) == 0


def test_upload_preview_import_and_result_F4(acm_http, db, run_jobs):
    page = acm_http.get("/figures/upload")
    assert page.status_code == 200 and "Upload store figures" in page.get_data(as_text=True)
    response = post_file(
        acm_http, (HEADER + "CAIRO1,2026-11-30,12,3450.50\nCAIRO1,9999-12-31,1e30,1\n").encode()
    )
    assert response.status_code == 303
    upload = db.session.scalar(select(FiguresUpload))
    shown = words(acm_http.get(response.headers["Location"]))
    assert "1 rows to correct" in shown and "Cairo One" in shown
    assert "today at the latest" in shown and "whole number" in shown
    # Bad rows and no "good rows only": refused, nothing written.
    refused = acm_http.post(
        f"/figures/uploads/{upload.id}/import", data={}, headers={"HX-Request": "true"}
    )
    assert refused.status_code == 422 and "import the good rows only" in refused.get_data(
        as_text=True
    )
    started = acm_http.post(
        f"/figures/uploads/{upload.id}/import",
        data={"good_rows_only": "y"},
        headers={"HX-Request": "true"},
    )
    body = words(started)
    assert started.status_code == 200 and 'hx-trigger="every 1s"' in body
    assert "0 of 1 rows written" in body
    assert db.session.scalar(select(func.count(StoreDay.id))) == 0
    run_jobs()
    polled = words(
        acm_http.get(f"/figures/uploads/{upload.id}/progress", headers={"HX-Request": "true"})
    )
    assert "every 1s" not in polled  # done: the polling stops
    assert "1 days added, 0 changed, 0 unchanged; 1 bad rows left out" in polled
    assert db.session.scalar(select(func.count(StoreDay.id))) == 1


@pytest.mark.config(FIGURES_INLINE_ROWS=1)
def test_a_large_file_shows_its_check_progress_F4(acm_http, db, run_jobs):
    response = post_file(
        acm_http, (HEADER + "CAIRO1,2026-11-30,1,1\nCAIRO1,2026-11-29,1,1\n").encode()
    )
    page = words(acm_http.get(response.headers["Location"]))
    assert "0 of 2 rows checked" in page and "every 1s" in page
    run_jobs()
    page = words(acm_http.get(response.headers["Location"]))
    assert "Import 2 rows" in page and "every 1s" not in page


def test_another_acm_does_not_see_the_upload_F4(acm_http, db, login_as):
    post_file(acm_http, (HEADER + "CAIRO1,2026-11-30,1,1\n").encode())
    upload = db.session.scalar(select(FiguresUpload))
    other = login_as("acm")
    assert other.get(f"/figures/uploads/{upload.id}").status_code == 404
    assert "figures.csv" not in other.get("/figures/upload").get_data(as_text=True)
