"""Clients and contacts by CSV over HTTP (issue 16): upload, the preview with each bad row,
the import as a job with its progress panel, the template files."""

from __future__ import annotations

import io

from sqlalchemy import select

from kamportal.csv_files import BOM
from kamportal.models import Client, Role

HEADER = "store_code,store_name,acm_email,plan,country,timezone,currency\n"
HTMX = {"HX-Request": "true"}


def upload(http, text: str, kind: str = "clients"):
    data = {"kind": kind, "file": (io.BytesIO(text.encode("utf-8-sig")), "clients.csv")}
    return http.post("/clients/import", data=data, content_type="multipart/form-data")


def test_a_file_is_previewed_then_imported_whole(login_as, make_portfolio, db, run_jobs):
    cairo = make_portfolio(acm={"email": "acm@cairo.example"}, client=False)
    http = login_as(cairo.leader)
    bad = upload(
        http,
        HEADER + "N1,نون,acm@cairo.example,enterprise,EG,Africa/Cairo,EGP\n"
        "N2,Two,who@cairo.example,enterprise,EG,Africa/Cairo,EGP\n",
    )
    assert bad.status_code == 303
    page = http.get(bad.headers["Location"]).get_data(as_text=True)
    assert 'id="upload-line-3"' in page and "acm_email" in page
    assert "Import 1" not in page  # nothing imported while a row is wrong
    assert db.session.scalar(select(Client.id)) is None

    good = upload(http, HEADER + "N1,نون,acm@cairo.example,enterprise,EG,Africa/Cairo,EGP\n")
    location = good.headers["Location"]
    assert "Import 1 clients" in http.get(location).get_data(as_text=True)
    started = http.post(location + "/import", headers=HTMX)
    assert started.status_code == 200 and "Importing" in started.get_data(as_text=True)
    run_jobs()
    panel = http.get(location + "/progress", headers=HTMX).get_data(as_text=True)
    assert panel.lstrip().startswith('<section class="card" id="client-import"')
    assert "Imported." in panel and "1 clients added" in panel
    assert db.session.scalar(select(Client.store_name)) == "نون"


def test_an_unreadable_file_is_refused_on_the_form(login_as):
    response = upload(login_as(Role.ADMIN), "store_code\nX\n")
    assert response.status_code == 422
    assert "The header row lacks" in response.get_data(as_text=True)


def test_the_template_files_download_with_their_header(login_as):
    response = login_as(Role.ADMIN).get("/clients/import/contacts-template.csv")
    body = response.get_data(as_text=True)
    assert body.startswith(BOM + "store_code,name,email,phone,whatsapp,role")
    assert login_as(Role.ADMIN).get("/clients/import/people-template.csv").status_code == 404
