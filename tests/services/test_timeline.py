"""The timeline's text (P6): instants in a summary are kept as instants, so each reader
sees them in their own zone; the audit log compares instants, not their text in a zone."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from kamportal.blueprints.formatting import summary
from kamportal.models import Role, TimelineEvent, TimelineKind
from kamportal.services import timeline

DUE = datetime(2026, 12, 6, 11, 0, tzinfo=UTC)


def note(db, client, text, detail=None) -> TimelineEvent:
    event = timeline.record(
        client, TimelineKind.NOTE, actor=None, summary=text, detail=detail or {"x": 1}
    )
    db.session.commit()
    return db.session.scalars(select(TimelineEvent).where(TimelineEvent.id == event.id)).one()


def test_an_instant_in_a_summary_is_shown_in_each_readers_zone(db, make_user, make_client):
    client = make_client(make_user(Role.ACM))
    event = note(db, client, ("WhatsApp step due ", DUE, " (E2)"))
    assert event.summary_parts == ["WhatsApp step due ", DUE, " (E2)"]
    assert event.detail["x"] == 1  # the caller's detail is kept
    assert summary(event, "Africa/Cairo") == "WhatsApp step due 06 Dec 2026 13:00 EET (E2)"
    assert summary(event, "Asia/Riyadh") == "WhatsApp step due 06 Dec 2026 14:00 +03 (E2)"
    assert "UTC" not in summary(event, "Europe/London")


def test_braces_typed_by_a_person_stay_as_typed(db, make_user, make_client):
    client = make_client(make_user(Role.ACM))
    event = note(db, client, ("Resumed: client said {0} and {{x}}; next step due ", DUE))
    assert event.summary_parts == ["Resumed: client said {0} and {{x}}; next step due ", DUE]
    plain = note(db, client, "A note with {0} and {braces}")
    assert plain.summary_parts == ["A note with {0} and {braces}"]


def test_a_summary_written_before_instants_were_kept_reads_as_it_was(db, make_user, make_client):
    """Rows written with "… UTC" text stay as they are: they say their zone."""
    client = make_client(make_user(Role.ACM))
    event = note(db, client, "Escalation #3: WhatsApp step due 2026-12-06 11:00 UTC")
    assert summary(event, "Africa/Cairo") == "Escalation #3: WhatsApp step due 2026-12-06 11:00 UTC"


def test_the_same_instant_in_another_zone_is_no_change():
    cairo_midnight = datetime(2026, 1, 15, tzinfo=ZoneInfo("Africa/Cairo"))
    stored = cairo_midnight.astimezone(UTC)
    before = timeline.jsonable({"subscribed_at": stored})
    after = timeline.jsonable({"subscribed_at": cairo_midnight})
    assert timeline.changes(before, after) == {}
    assert after == {"subscribed_at": "2026-01-14T22:00:00+00:00"}
