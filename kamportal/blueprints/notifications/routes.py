"""Notifications (issue 14): the badge in the header (every page, and polled by HTMX),
the page listing them, the newest first, and marking them read in place.

Access: every signed-in user, each to their own; another user's notification is 404 and
nothing changes.
"""

from __future__ import annotations

from flask import abort, request, url_for

from kamportal.blueprints.forms import ActionForm
from kamportal.blueprints.notifications import bp
from kamportal.blueprints.web import acting_user, in_place, is_htmx, press, render, signed_in
from kamportal.services import notifications

NOTIFICATIONS_CHANGED = "notifications-changed"


@bp.app_context_processor
def badge_helpers() -> dict:
    """`unread_notifications()` for the header's badge (one query, only when drawn)."""
    return {"unread_notifications": lambda: notifications.unread_count(acting_user())}


@bp.route("/notifications/")
@signed_in
def index():
    """The user's notifications, the newest first, a page at a time."""
    page = request.args.get("page", 1, type=int)
    return render(
        "notifications/index.html",
        "notifications/_list.html",
        page=notifications.recent(acting_user(), page=page),
        kind_labels=notifications.KIND_LABELS,
        form=ActionForm(),
    )


@bp.route("/notifications/badge")
@signed_in
def badge():
    """The badge alone: polled every minute and on the page's changes."""
    if not is_htmx():
        return index()
    return render("notifications/_badge.html", "notifications/_badge.html")


@bp.route("/notifications/<int:notification_id>/read", methods=["POST"])
@signed_in
def mark_read(notification_id: int):
    """Mark one read: the row again, read, and the badge told to count again."""
    user = acting_user()
    notification = notifications.notification_of(user, notification_id)
    if notification is None:
        abort(404)

    def row(status: int = 200):
        return in_place(
            "notifications/_row.html",
            location=url_for("notifications.index"),
            events=(NOTIFICATIONS_CHANGED,) if status == 200 else (),
            status=status,
            notification=notification,
            kind_labels=notifications.KIND_LABELS,
            form=ActionForm(),
        )

    return press(
        lambda: notifications.mark_read(user, [notification.id]),
        done=lambda _: row(),
        refused=lambda: row(422),
    )


@bp.route("/notifications/read", methods=["POST"])
@signed_in
def mark_all_read():
    """Mark all the user's notifications read: the list again, and the badge told."""
    user = acting_user()

    def listed(status: int = 200):
        return in_place(
            "notifications/_list.html",
            location=url_for("notifications.index"),
            events=(NOTIFICATIONS_CHANGED,) if status == 200 else (),
            status=status,
            page=notifications.recent(user),
            kind_labels=notifications.KIND_LABELS,
            form=ActionForm(),
        )

    return press(
        lambda: notifications.mark_read(user), done=lambda _: listed(), refused=lambda: listed(422)
    )
