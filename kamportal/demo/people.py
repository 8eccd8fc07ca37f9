"""The demo's people: three teams (a leader and four ACMs each, with their working week
and hours and a shared mailbox) and one user for each other role, all with the demo's
published password."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from kamportal.config import DEMO_PASSWORD
from kamportal.demo.common import SeedReport
from kamportal.extensions import db
from kamportal.models import Role, Team, User
from kamportal.services import accounts, timeline

STAFF_DOMAIN = "kam.example"


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    role: Role
    phone: str
    timezone: str

    @property
    def booking_link(self) -> str | None:
        if self.role not in (Role.ACM, Role.LEADER):
            return None
        return f"https://meetings.{STAFF_DOMAIN}/{self.email.partition('@')[0].replace('.', '-')}"


@dataclass(frozen=True)
class TeamSpec:
    name: str
    country: str
    timezone: str
    working_days: str
    starts: time
    ends: time
    mailbox: str
    leader: Person
    acms: tuple[Person, ...]

    @property
    def weekdays(self) -> frozenset[int]:
        return frozenset(int(d) for d in self.working_days.split(","))


def _person(name: str, phone: str, role: Role, timezone: str, email: str | None = None) -> Person:
    local = email or re.sub(r"[^a-z.]", "", name.lower().replace(" ", ".", 1).replace(" ", ""))
    return Person(name, local if "@" in local else f"{local}@{STAFF_DOMAIN}", role, phone, timezone)


def _team(
    name: str,
    country: str,
    timezone: str,
    working_days: str,
    hours: tuple[int, int],
    leader: tuple[str, str],
    acms: list[tuple[str, str]],
) -> TeamSpec:
    return TeamSpec(
        name=name,
        country=country,
        timezone=timezone,
        working_days=working_days,
        starts=time(hours[0]),
        ends=time(hours[1]),
        mailbox=f"{name.lower()}.team@{STAFF_DOMAIN}",
        leader=_person(*leader, role=Role.LEADER, timezone=timezone),
        acms=tuple(_person(*acm, role=Role.ACM, timezone=timezone) for acm in acms),
    )


TEAMS: tuple[TeamSpec, ...] = (
    _team(
        "Cairo",
        "EG",
        "Africa/Cairo",
        "7,1,2,3,4",
        (9, 17),
        ("Mona Adel", "+201005839214"),
        [
            ("Ahmed Samir", "+201112847365"),
            ("Nourhan Fathy", "+201223958471"),
            ("Karim Mansour", "+201550274938"),
            ("Salma Ezzat", "+201014762853"),
        ],
    ),
    _team(
        "Riyadh",
        "SA",
        "Asia/Riyadh",
        "7,1,2,3,4",
        (9, 17),
        ("Faisal Al Qahtani", "+966501847263"),
        [
            ("Reem Al Harbi", "+966552938471"),
            ("Abdullah Al Otaibi", "+966538274619"),
            ("Lama Al Dossari", "+966567483920"),
            ("Omar Bakr", "+966541739285"),
        ],
    ),
    _team(
        "Dubai",
        "AE",
        "Asia/Dubai",
        "1,2,3,4,5",
        (9, 18),
        ("Rashid Al Mansoori", "+971501928374"),
        [
            ("Hessa Al Ketbi", "+971552837461"),
            ("Yousef Haddad", "+971568374920"),
            ("Priya Nair", "+971507364819"),
            ("Daniel Brooks", "+971543829176"),
        ],
    ),
)

STAFF: tuple[Person, ...] = (
    _person("Tarek Hamdy", "+201098374625", Role.ADMIN, "Africa/Cairo", email="admin"),
    _person("Heba Soliman", "+201277364918", Role.FINANCE, "Africa/Cairo"),
    _person("Dina Farouk", "+201148273659", Role.PRODUCT, "Africa/Cairo"),
    _person("Hany Lotfy", "+971509283746", Role.COMMERCIAL, "Asia/Dubai"),
    _person("Mariam Adel", "+201066483920", Role.STORE_MANAGER, "Africa/Cairo"),
)


@dataclass(frozen=True)
class DemoLogin:
    role: str
    name: str
    email: str
    team: str
    password: str


def demo_logins() -> list[DemoLogin]:
    """Every demo user, admin first, then each team (leader, ACMs), then the other roles."""
    rows = [DemoLogin(STAFF[0].role.value, STAFF[0].name, STAFF[0].email, "—", DEMO_PASSWORD)]
    for team in TEAMS:
        for person in (team.leader, *team.acms):
            rows.append(
                DemoLogin(person.role.value, person.name, person.email, team.name, DEMO_PASSWORD)
            )
    rows += [DemoLogin(p.role.value, p.name, p.email, "—", DEMO_PASSWORD) for p in STAFF[1:]]
    return rows


@dataclass
class People:
    by_email: dict[str, User]
    teams: dict[str, TeamSpec] = field(default_factory=dict)

    def acms(self, team: str) -> list[User]:
        return [self.by_email[p.email] for p in self.teams[team].acms]

    def leader(self, team: str) -> User:
        return self.by_email[self.teams[team].leader.email]

    @property
    def product(self) -> User:
        """The product team's scrum master, who decides customization requests (C3)."""
        return next(self.by_email[p.email] for p in STAFF if p.role is Role.PRODUCT)

    @property
    def commercial(self) -> User:
        """The VP commercial and sales, who prices customizations and approves discounts
        (C4, R9)."""
        return next(self.by_email[p.email] for p in STAFF if p.role is Role.COMMERCIAL)

    @property
    def store_manager(self) -> User:
        """The Online Store Manager of the clients whose plan includes one (F6)."""
        return next(self.by_email[p.email] for p in STAFF if p.role is Role.STORE_MANAGER)

    @property
    def finance(self) -> User:
        return next(self.by_email[p.email] for p in STAFF if p.role is Role.FINANCE)


def seed_people(now: datetime, report: SeedReport) -> People:
    people = People(by_email={})
    password_hash: str | None = None

    def get_or_create(person: Person, team: Team | None) -> User:
        nonlocal password_hash
        user = accounts.find_user_by_email(person.email)
        if user is None:
            # Every demo user has the same password: hash it once (argon2 costs ~0.15 s).
            password_hash = password_hash or accounts.hash_password(DEMO_PASSWORD)
            user = User(
                email=accounts.normalize_email(person.email),
                name=person.name,
                password_hash=password_hash,
                team=team,
                timezone=person.timezone,
                phone=person.phone,
                booking_link=person.booking_link,
                active=True,
                created_at=now,
            )
            db.session.add(user)
            accounts.set_roles(user, [person.role])
            db.session.flush()
            timeline.audit(None, "user.create", user, after=accounts.user_snapshot(user))
            report.users += 1
        people.by_email[person.email] = user
        return user

    for spec in TEAMS:
        team = db.session.scalar(select(Team).where(Team.name == spec.name))
        if team is None:
            team = Team(
                name=spec.name,
                country=spec.country,
                timezone=spec.timezone,
                working_days=spec.working_days,
                workday_starts=spec.starts,
                workday_ends=spec.ends,
                shared_mailbox=spec.mailbox,
            )
            db.session.add(team)
            db.session.flush()
            timeline.audit(None, "team.create", team, after=accounts.team_snapshot(team))
            report.teams += 1
        people.teams[spec.name] = spec
        leader = get_or_create(spec.leader, team)
        if team.leader_id is None:
            team.leader = leader
        for acm in spec.acms:
            get_or_create(acm, team)
    for person in STAFF:
        get_or_create(person, None)
    return people


def office_time(rng: random.Random, team: TeamSpec, after: datetime) -> datetime:
    """The first moment at or after `after` inside the team's working week and hours,
    plus a few minutes so it does not look scheduled."""
    zone = ZoneInfo(team.timezone)
    local = after.astimezone(zone)
    day = local.date()
    for _ in range(14):
        opens = datetime.combine(day, team.starts, zone)
        closes = datetime.combine(day, team.ends, zone) - timedelta(minutes=30)
        if day.isoweekday() in team.weekdays and local < closes:
            start = max(local, opens)
            spare = int((closes - start).total_seconds() // 60)
            moment = start + timedelta(minutes=rng.randint(0, min(spare, 90)))
            return moment.astimezone(UTC)
        day += timedelta(days=1)
        local = datetime.combine(day, time(0), zone)
    return after
