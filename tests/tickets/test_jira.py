"""Tickets in Jira Cloud (TICKETS_ADAPTER=jira): the real HTTP client against a fake Jira
served on a local port; create, comment, transition, read status, and Jira's errors."""

from __future__ import annotations

import time

import pytest

from kamportal.config import ConfigError
from kamportal.tickets import TicketDraft, TicketError, TicketStatus, open_once, ticket_adapter
from kamportal.tickets.jira import JiraTickets, adf
from tests.conftest import free_port, jira_settings


@pytest.fixture
def app_settings(jira_server) -> dict:
    return jira_settings(jira_server)


@pytest.fixture
def jira(app) -> JiraTickets:
    adapter = ticket_adapter(app)
    assert isinstance(adapter, JiraTickets)
    return adapter


def draft(**fields) -> TicketDraft:
    values = {
        "project": "SUP",
        "summary": "Checkout fails for card payments",
        "description": "Since this morning.\n\nOrder 1042 and 1043.\nBoth with Visa.",
        "labels": ("Enterprise",),
        "priority": "High",
    }
    values.update(fields)
    return TicketDraft(**values)


# --- choosing the adapter -------------------------------------------------------------------


def test_the_jira_adapter_is_chosen_by_the_setting_and_built_once(app, jira_server):
    adapter = ticket_adapter(app)

    assert isinstance(adapter, JiraTickets)
    assert adapter.name == "jira"
    assert adapter.base_url == jira_server.url
    assert ticket_adapter(app) is adapter


def test_jira_without_its_settings_is_refused_at_start():
    with pytest.raises(ConfigError, match="JIRA_EMAIL, JIRA_API_TOKEN are not set"):
        JiraTickets.from_config({"JIRA_URL": "https://x.atlassian.net"})
    with pytest.raises(ConfigError, match="must start with https://"):
        JiraTickets.from_config(
            {"JIRA_URL": "x.atlassian.net", "JIRA_EMAIL": "a@b.c", "JIRA_API_TOKEN": "t"}
        )


def test_an_unknown_adapter_is_refused(app):
    app.config["TICKETS_ADAPTER"] = "redmine"
    app.extensions.pop("kam_tickets", None)
    with pytest.raises(ConfigError, match="TICKETS_ADAPTER must be 'portal' or 'jira'"):
        ticket_adapter(app)


# --- create, comment, transition, status ------------------------------------------------------


def test_an_issue_is_created_with_its_labels_priority_and_a_document_description(jira, jira_server):
    ref = jira.create_issue(draft())

    assert ref.key == "SUP-1"
    assert ref.url == f"{jira_server.url}/browse/SUP-1"
    sent = jira_server.last("POST", "/rest/api/3/issue").body["fields"]
    assert sent["project"] == {"key": "SUP"}
    assert sent["issuetype"] == {"name": "Task"}
    assert sent["summary"] == "Checkout fails for card payments"
    assert sent["labels"] == ["Enterprise"]
    assert sent["priority"] == {"name": "High"}
    assert sent["description"] == {
        "type": "doc",
        "version": 1,
        "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "Since this morning."}]},
            {
                "type": "paragraph",
                "content": [
                    {"type": "text", "text": "Order 1042 and 1043."},
                    {"type": "hardBreak"},
                    {"type": "text", "text": "Both with Visa."},
                ],
            },
        ],
    }
    assert jira.create_issue(draft(project="SAL")).key == "SAL-1"
    assert jira.create_issue(draft()).key == "SUP-2"


def test_the_credentials_go_as_basic_auth(jira_server):
    wrong = JiraTickets(jira_server.url, email=jira_server.email, api_token="wrong")
    with pytest.raises(TicketError, match=r"HTTP 401.*JIRA_EMAIL and JIRA_API_TOKEN"):
        wrong.create_issue(draft())
    assert jira_server.issues == {}


def test_a_comment_goes_as_a_document(jira, jira_server):
    key = jira.create_issue(draft()).key

    jira.comment(key, "The client sent a screenshot.")

    assert jira_server.issues[key].comments == [adf("The client sent a screenshot.")]


def test_a_transition_is_chosen_by_the_status_it_leads_to(jira, jira_server):
    key = jira.create_issue(draft()).key
    assert jira.status(key) == TicketStatus("To Do", done=False)

    jira.transition(key, "in progress")
    assert jira.status(key) == TicketStatus("In Progress", done=False)
    assert jira_server.last("POST", "/transitions").body == {"transition": {"id": "21"}}

    jira.transition(key, "Done")
    assert jira.status(key) == TicketStatus("Done", done=True)


def test_a_transition_the_workflow_does_not_allow_names_the_ones_it_does(jira):
    key = jira.create_issue(draft()).key
    with pytest.raises(TicketError, match=r"cannot move SUP-1 to 'Closed'.*In Progress, Done"):
        jira.transition(key, "Closed")


# --- Jira's errors ---------------------------------------------------------------------------


def test_a_refused_issue_says_jiras_reasons(jira, jira_server):
    with pytest.raises(TicketError) as refused:
        jira.create_issue(draft(project="NOPE"))
    assert "HTTP 400" in refused.value.message
    assert "project: valid project is required" in refused.value.message
    assert jira_server.issues == {}


def test_error_messages_and_field_errors_are_both_read(jira, jira_server):
    jira_server.misbehave(
        "status",
        status=400,
        body={"errorMessages": ["Issue type is required."], "errors": {"labels": "Too many."}},
    )
    with pytest.raises(TicketError, match=r"Issue type is required.; labels: Too many."):
        jira.create_issue(draft())


def test_an_unknown_issue_is_not_found(jira):
    with pytest.raises(TicketError, match="read the status of SUP-99: not found"):
        jira.status("SUP-99")
    with pytest.raises(TicketError, match="comment on SUP-99: not found"):
        jira.comment("SUP-99", "x")


def test_a_permission_refusal_says_so(jira, jira_server):
    jira_server.misbehave(
        "status", status=403, body={"errorMessages": ["You do not have permission."]}
    )
    with pytest.raises(TicketError, match=r"HTTP 403.*permission"):
        jira.create_issue(draft())


def test_a_server_error_may_have_gone_through(jira, jira_server):
    jira_server.misbehave("http500")
    with pytest.raises(TicketError, match=r"HTTP 500 Internal Server Error.*check in Jira"):
        jira.create_issue(draft())


def test_an_answer_that_is_not_json_is_refused(jira, jira_server):
    jira_server.misbehave("not_json")
    with pytest.raises(TicketError, match=r"cannot read.*maintenance"):
        jira.create_issue(draft())


def test_an_answer_without_the_key_is_refused(jira, jira_server):
    jira_server.misbehave("status", status=201, body={"id": "10001"})
    with pytest.raises(TicketError, match="did not say its key"):
        jira.create_issue(draft())


def test_a_status_answer_without_the_status_is_refused(jira, jira_server):
    key = jira.create_issue(draft()).key
    jira_server.misbehave("status", status=200, body={"fields": {}})
    with pytest.raises(TicketError, match=f"did not say the status of {key}"):
        jira.status(key)


def test_a_slow_jira_times_out_with_a_clear_message(jira_server):
    slow = JiraTickets(
        jira_server.url, email=jira_server.email, api_token=jira_server.api_token, timeout=0.2
    )
    jira_server.misbehave("slow", seconds=2)
    started = time.monotonic()
    with pytest.raises(TicketError, match=r"did not answer within 0.2 seconds.*check in Jira"):
        slow.create_issue(draft())
    assert time.monotonic() - started < 2


def test_an_unreachable_jira_changed_nothing():
    down = JiraTickets(f"http://127.0.0.1:{free_port()}", email="a@b.c", api_token="t")
    with pytest.raises(TicketError, match=r"Could not reach Jira.*Nothing was changed"):
        down.status("SUP-1")


def test_drafts_no_adapter_accepts_are_refused_before_any_call(jira, jira_server):
    for bad, said in [
        (draft(summary="  "), "needs a summary"),
        (draft(priority="Urgent"), "not a priority"),
        (draft(labels=("Enterprise client",)), "not a label"),
        (draft(project="sup"), "not a project key"),
    ]:
        with pytest.raises(TicketError, match=said):
            jira.create_issue(bad)
    with pytest.raises(TicketError, match="not a ticket key"):
        jira.status("../../admin")
    assert jira_server.requests == []


# --- opened once, whatever happens to the answer ------------------------------------------------

LABEL = "kam-support-0123456789abcdef"


def test_an_issue_is_found_by_its_label_with_a_jql_search(jira, jira_server):
    assert jira.find_by_label(LABEL) is None
    ref = jira.create_issue(draft(labels=("Enterprise", LABEL)))
    jira.create_issue(draft(labels=("Enterprise", "kam-support-other")))

    assert jira.find_by_label(LABEL) == ref
    search = jira_server.last("POST", "/rest/api/3/search/jql").body
    assert search["jql"] == f'labels = "{LABEL}" ORDER BY created ASC'
    assert search["fields"] and search["maxResults"] == 1  # ids only, without fields


def test_a_label_is_quoted_in_the_jql(jira, jira_server):
    assert jira.find_by_label('kam-x" OR project = "SUP') is None
    assert (
        jira_server.last("POST", "/search/jql")
        .body["jql"]
        .startswith(r'labels = "kam-x\" OR project = \"SUP"')
    )


@pytest.mark.parametrize("lost", ["lost", "lost_504"])
def test_an_issue_whose_answer_was_lost_is_found_not_created_again(jira, jira_server, lost):
    jira_server.misbehave(lost, path_end="/issue")
    with pytest.raises(TicketError, match="It may have been created: trying again finds it"):
        open_once(jira, draft(), LABEL)
    assert list(jira_server.issues) == ["SUP-1"]

    ref = open_once(jira, draft(), LABEL)

    assert ref.key == "SUP-1"
    assert list(jira_server.issues) == ["SUP-1"]
    assert jira_server.issues["SUP-1"].fields["labels"] == ["Enterprise", LABEL]


def test_a_failed_search_creates_nothing(jira, jira_server):
    jira_server.misbehave("http500", path_end="/search/jql")
    with pytest.raises(TicketError, match="search for the issue labelled"):
        open_once(jira, draft(), LABEL)
    jira_server.misbehave("status", path_end="/search/jql", status=200, body={"total": 1})
    with pytest.raises(TicketError, match="did not list the issues"):
        open_once(jira, draft(), LABEL)
    assert jira_server.issues == {}


def test_a_label_that_is_not_a_purpose_label_is_refused_before_any_call(jira, jira_server):
    for label in ("", "Enterprise", "kam-with space", "kam-" + "x" * 201):
        with pytest.raises(TicketError, match="not a label the portal gives"):
            open_once(jira, draft(), label)
    assert jira_server.requests == []


def test_a_move_whose_answer_was_lost_is_not_refused_when_tried_again(jira, jira_server):
    key = jira.create_issue(draft()).key
    jira_server.misbehave("lost_504", path_end="/transitions", method="POST")
    with pytest.raises(TicketError, match="HTTP 504"):
        jira.transition(key, "Done")
    assert jira_server.issues[key].status == "Done"  # done, the answer lost

    jira.transition(key, "Done")  # the retry: Done is no way out of Done, but it is there

    assert jira.status(key) == TicketStatus("Done", done=True)


# --- attachments (C6: the paid invoice on the customization ticket) ---------------------------

PDF = b"%PDF-1.4 the invoice"


def test_a_file_is_attached_as_multipart_with_the_xsrf_check_off(jira, jira_server):
    key = jira.create_issue(draft()).key

    assert jira.attach(key, "invoice-INV-1.pdf", "application/pdf", PDF) is True

    [attached] = jira_server.attachments(key)
    assert (attached.filename, attached.content_type, attached.data) == (
        "invoice-INV-1.pdf",
        "application/pdf",
        PDF,
    )
    looked = jira_server.last("GET", f"/issue/{key}")
    assert looked.query == {"fields": "attachment"}  # it looked before sending
    assert jira_server.last("POST", "/attachments").files == ("invoice-INV-1.pdf",)


def test_a_file_of_that_name_is_not_attached_twice(jira, jira_server):
    key = jira.create_issue(draft()).key
    jira.attach(key, "invoice-INV-1.pdf", "application/pdf", PDF)

    assert jira.attach(key, "invoice-INV-1.pdf", "application/pdf", PDF) is False
    assert jira.attach(key, "invoice-INV-2.pdf", "application/pdf", PDF) is True

    assert [a.filename for a in jira_server.attachments(key)] == [
        "invoice-INV-1.pdf",
        "invoice-INV-2.pdf",
    ]


@pytest.mark.parametrize("lost", ["lost", "lost_504"])
def test_an_attachment_whose_answer_was_lost_is_not_sent_again(jira, jira_server, lost):
    key = jira.create_issue(draft()).key
    jira_server.misbehave(lost, path_end="/attachments")
    with pytest.raises(TicketError, match="It may have been attached: trying again looks"):
        jira.attach(key, "invoice-INV-1.pdf", "application/pdf", PDF)

    assert jira.attach(key, "invoice-INV-1.pdf", "application/pdf", PDF) is False

    assert len(jira_server.attachments(key)) == 1
    uploads = [r for r in jira_server.requests if r.path.endswith("/attachments")]
    assert len(uploads) == 1


def test_attaching_to_an_unknown_issue_or_a_failed_look_sends_nothing(jira, jira_server):
    with pytest.raises(TicketError, match="not found"):
        jira.attach("SUP-99", "invoice-INV-1.pdf", "application/pdf", PDF)
    key = jira.create_issue(draft()).key
    jira_server.misbehave("status", path_end=f"/issue/{key}", status=200, body={"key": key})
    with pytest.raises(TicketError, match="did not list the attachments"):
        jira.attach(key, "invoice-INV-1.pdf", "application/pdf", PDF)
    assert not any(r.path.endswith("/attachments") for r in jira_server.requests)


def test_a_file_no_adapter_takes_is_refused_before_any_call(jira, jira_server):
    for name, kind, data in [
        ("", "application/pdf", PDF),
        ("../invoice.pdf", "application/pdf", PDF),
        (".hidden.pdf", "application/pdf", PDF),
        ("invoice.pdf", "", PDF),
        ("invoice.pdf", "application/pdf", b""),
    ]:
        with pytest.raises(TicketError):
            jira.attach("SUP-1", name, kind, data)
    assert jira_server.requests == []
