"""Who may see and do what. Every route and list asks here; nothing else decides.

Deny by default: a user sees a client only as its ACM, as the leader of the team its ACM
belongs to, or as an admin. Finance, product and commercial see the records of their own
queues (their pages come with their domains), never the client registry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, bindparam, false, or_, select, true

from kamportal.errors import NotAllowed
from kamportal.extensions import db
from kamportal.models import (
    Client,
    CustomizationRequest,
    CustomizationStatus,
    Role,
    Team,
    User,
    UserRole,
)
from kamportal.services import search

# The roles that work in the client registry at all; object rules below narrow it further.
CLIENT_REGISTRY_ROLES = (Role.ACM, Role.LEADER, Role.ADMIN)
# The roles that may create a client.
CLIENT_CREATOR_ROLES = (Role.ACM, Role.LEADER, Role.ADMIN)
# Finance's queue: wire transfers to confirm, payments at the premises, payment issues (R5-R7).
FINANCE_ROLES = (Role.FINANCE, Role.ADMIN)
# Who approves a discount on an invoice (R9).
DISCOUNT_ROLES = (Role.COMMERCIAL, Role.ADMIN)
# Who decides customization requests (C2, C3): product's queue.
PRODUCT_ROLES = (Role.PRODUCT, Role.ADMIN)
# Who reaches a customization request's page at all; object rules narrow it further.
# (Commercial reaches only the requests it prices: C4.)
CUSTOMIZATION_ROLES = (Role.ACM, Role.LEADER, Role.PRODUCT, Role.COMMERCIAL, Role.ADMIN)


def led_team_ids(user: User) -> list[int]:
    """The teams `user` leads."""
    if not user.has_role(Role.LEADER):
        return []
    return list(db.session.scalars(select(Team.id).where(Team.leader_id == user.id)))


# The clauses below name their values: a statement holds one user's reach, and one built
# once (the day's question) is asked again with another user's (`Reach.parameters`).


def user_parameter(user_id: int) -> BindParameter:
    """The user a clause is about, as a named parameter."""
    return bindparam("reach_user", user_id)


def _acms_parameter(name: str, acm_ids: list[int]) -> BindParameter:
    return bindparam(f"reach_{name}", acm_ids, expanding=True)


@dataclass(frozen=True)
class Reach:
    """Whose clients a user sees, resolved once (a page asks it once and passes it on):
    every client for an admin; else those they manage (`own`, as an ACM or a leader) and
    those of the ACMs of the teams they lead (`led_acm_ids`).

    The clauses name the ACMs' ids literally: `acm_id IN (SELECT ... team ...)` hid from
    the planner how few clients it keeps, and it scanned every client at 50k clients."""

    user_id: int
    everyone: bool
    own: bool
    led_acm_ids: tuple[int, ...]

    def managed_or_led_ids(self) -> list[int]:
        """The ACMs whose clients the user manages or leads (not every ACM for an admin)."""
        return sorted({*((self.user_id,) if self.own else ()), *self.led_acm_ids})

    def others_ids(self) -> list[int]:
        """The ACMs of the teams the user leads, the user left out."""
        return [acm_id for acm_id in self.led_acm_ids if acm_id != self.user_id]

    def managed_or_led_clause(self) -> ColumnElement[bool]:
        """A WHERE clause for the clients the user manages or whose ACM is in a team they
        lead (not every client for an admin): one `acm_id IN (...)`."""
        ids = self.managed_or_led_ids()
        return Client.acm_id.in_(_acms_parameter("managed_or_led", ids)) if ids else false()

    def clients_clause(self) -> ColumnElement[bool]:
        """A WHERE clause for the clients the user may see."""
        return true() if self.everyone else self.managed_or_led_clause()

    def others_clause(self) -> ColumnElement[bool] | None:
        """A WHERE clause for the clients the user may see besides those they manage
        (every client for an admin, their teams' for a leader); None if none."""
        if self.everyone:
            return true()
        others = self.others_ids()
        return Client.acm_id.in_(_acms_parameter("others", others)) if others else None

    def led_clause(self) -> ColumnElement[bool] | None:
        """A WHERE clause for the clients of the teams the user leads; None if none."""
        led = list(self.led_acm_ids)
        return Client.acm_id.in_(_acms_parameter("led", led)) if led else None

    def parameters(self) -> dict[str, Any]:
        """The values of the clauses' named parameters, to ask a statement built for
        another user of the same shape with this one's."""
        return {
            "reach_user": self.user_id,
            "reach_managed_or_led": self.managed_or_led_ids(),
            "reach_others": self.others_ids(),
            "reach_led": list(self.led_acm_ids),
        }


def led_acm_ids(user: User) -> list[int]:
    """The ids of the users in the teams `user` leads (their own too, if they are in one),
    in one query."""
    if not user.has_role(Role.LEADER):
        return []
    return list(
        db.session.scalars(
            select(User.id)
            .join(Team, Team.id == User.team_id)
            .where(Team.leader_id == user.id)
            .order_by(User.id)
        )
    )


def _sees_own_clients(user: User) -> bool:
    """An ACM, a leader and an admin all see the clients they manage."""
    return user.has_role(Role.ACM, Role.LEADER, Role.ADMIN)


def reach_of(user: User) -> Reach:
    """Whose clients `user` sees (`Reach`): at most one query, for a leader."""
    return Reach(
        user_id=user.id,
        everyone=user.has_role(Role.ADMIN),
        own=_sees_own_clients(user),
        led_acm_ids=tuple(led_acm_ids(user)),
    )


def visible_clients_clause(user: User) -> ColumnElement[bool]:
    """A WHERE clause for the clients `user` may see (lists use it, so they match the pages)."""
    return reach_of(user).clients_clause()


def own_clients_clause(user: User) -> ColumnElement[bool]:
    """A WHERE clause for the clients `user` manages as their ACM, as far as they may see
    them: `visible_clients_clause` narrowed to `acm_id = user`, without its query."""
    return Client.acm_id == user_parameter(user.id) if _sees_own_clients(user) else false()


def led_clients_clause(user: User) -> ColumnElement[bool] | None:
    """A WHERE clause for the clients of the teams `user` leads; None if they lead none."""
    return reach_of(user).led_clause()


def leads_team_of(user: User, acm: User | None) -> bool:
    return (
        acm is not None
        and acm.team_id is not None
        and user.has_role(Role.LEADER)
        and acm.team_id in led_team_ids(user)
    )


def can_see_client(user: User, client: Client) -> bool:
    if user.has_role(Role.ADMIN):
        return True
    if client.acm_id is not None and client.acm_id == user.id:
        return user.has_role(Role.ACM, Role.LEADER)
    return leads_team_of(user, client.acm)


def can_work_on_client(user: User, client: Client) -> bool:
    """Edit the profile, manage contacts, log contact, email: whoever may see the client."""
    return can_see_client(user, client)


def check_works_on(user: User, client: Client) -> None:
    """For the services: NotAllowed unless `user` works on `client`."""
    if not can_work_on_client(user, client):
        raise NotAllowed("You do not work on this client.")


def can_reassign_client(user: User, client: Client) -> bool:
    """Only the leader of the client's team, or an admin, moves a client to another ACM."""
    return user.has_role(Role.ADMIN) or leads_team_of(user, client.acm)


def can_decide_escalation(user: User, client: Client) -> bool:
    """E3: the leader of the client's team (or an admin) decides its escalations, as they
    are the ones who may move the client to another ACM."""
    return can_reassign_client(user, client)


def sees_every_invoice(user: User) -> bool:
    """Finance (and admins) work on every client's invoices and payments (R5-R7)."""
    return user.has_role(*FINANCE_ROLES)


def visible_invoices_clause(
    user: User, *, clients: ColumnElement[bool] | None = None
) -> ColumnElement[bool]:
    """A WHERE clause (on a query joined to Client) for the invoices `user` may see: every
    one for finance and admins, the clients they may see for everyone else (`clients`,
    their `visible_clients_clause` when the caller has it already)."""
    if sees_every_invoice(user):
        return true()
    return visible_clients_clause(user) if clients is None else clients


def can_see_invoices_of(user: User, client: Client) -> bool:
    return sees_every_invoice(user) or can_see_client(user, client)


def check_handles_payments(user: User) -> None:
    """For the services: only finance (or an admin) confirms and records payments (R6, R7)
    and agrees a new payment channel (R5)."""
    if not user.has_role(*FINANCE_ROLES):
        raise NotAllowed("Only finance confirms and records payments.")


def check_decides_discounts(user: User) -> None:
    """For the services: only commercial (or an admin) approves a discount (R9)."""
    if not user.has_role(*DISCOUNT_ROLES):
        raise NotAllowed("Only commercial approves a discount.")


def decides_customizations(user: User) -> bool:
    """C3: product (or an admin) decides every customization request."""
    return user.has_role(*PRODUCT_ROLES)


def prices_customizations(user: User) -> bool:
    """C4: commercial (or an admin) prices accepted customization requests."""
    return user.has_role(*DISCOUNT_ROLES)


def check_prices_customizations(user: User) -> None:
    """For the services: only commercial (or an admin) prices a customization (C4)."""
    if not prices_customizations(user):
        raise NotAllowed("Only commercial prices a customization.")


def can_see_customization(user: User, client: Client, *, accepted: bool = False) -> bool:
    """A customization request, its scope of work and attachments: whoever may see its
    client, product, who decides it, and commercial once it is `accepted` (to price it,
    C4); neither sees anything else of the client."""
    return (
        decides_customizations(user)
        or (accepted and prices_customizations(user))
        or can_see_client(user, client)
    )


def visible_customizations_clause(
    user: User, *, clients: ColumnElement[bool] | None = None
) -> ColumnElement[bool]:
    """A WHERE clause (on a query joined to Client) for the customization requests `user`
    may see, as `can_see_customization` decides for one: every one for product, accepted
    ones for commercial, those of the clients they may see for everyone else (`clients`,
    as in `visible_invoices_clause`)."""
    if decides_customizations(user):
        return true()
    conditions = [visible_clients_clause(user) if clients is None else clients]
    if prices_customizations(user):
        conditions.append(CustomizationRequest.status == CustomizationStatus.ACCEPTED.value)
    return or_(*conditions)


def check_decides_customizations(user: User) -> None:
    """For the services: only product (or an admin) decides a customization request (C3)."""
    if not decides_customizations(user):
        raise NotAllowed("Only product decides a customization request.")


def can_create_client(user: User) -> bool:
    return user.has_role(*CLIENT_CREATOR_ROLES)


def assignable_acms(user: User, *, named: str = "", limit: int | None = None) -> list[User]:
    """The ACMs `user` may give a client to: admin any active ACM, a leader their team's,
    an ACM only themselves. `named`: only those with it in their name; `limit`: at most
    that many, by name."""
    query = (
        select(User)
        .where(User.active.is_(True))
        .where(User.role_rows.any(UserRole.role.in_([Role.ACM.value, Role.LEADER.value])))
        .order_by(User.name, User.id)
        .limit(limit)
    )
    if named:
        query = query.where(search.contains(User.name, named))
    if user.has_role(Role.ADMIN):
        return list(db.session.scalars(query))
    team_ids = led_team_ids(user)
    if team_ids:
        return list(db.session.scalars(query.where(User.team_id.in_(team_ids))))
    if user.has_role(Role.ACM) and (not named or named.casefold() in user.name.casefold()):
        return [user]
    return []


def chooses_acm(user: User) -> bool:
    """Whether `user` sees the clients of more than one ACM (admin, a leader): the client
    list then filters by ACM."""
    return user.has_role(Role.ADMIN) or bool(led_team_ids(user))


def can_manage_accounts(user: User) -> bool:
    return user.has_role(Role.ADMIN)
