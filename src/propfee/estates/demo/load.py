"""Loading the demo company into the database in one set-based transaction, with its staff
logins and audit rows, and deleting it again (`propfee demo`, `propfee quickstart`)."""

from __future__ import annotations

from django.db import transaction

from propfee.collection.policies import policies_defaults_load
from propfee.collection.services import collection_data_delete
from propfee.core.models import AuditAction, StaffScope, User
from propfee.core.roles import Role
from propfee.core.services import AuditBatch, audit_record
from propfee.estates.demo.builder import DemoCompany, demo_plan
from propfee.estates.demo.constants import (
    DEMO_COMPANY_CODE,
    DEMO_NOTE,
    DEMO_SEED,
    DEMO_SUPERUSER,
    DEMO_SUPERUSER_EMAIL,
)
from propfee.estates.demo.logins import DEMO_STAFF, demo_password_hash
from propfee.estates.models import Building, Company, Estate, Occupancy, Party, PartyPhone, Unit


class DemoError(Exception):
    """The demo cannot be loaded as asked; the message is for the user."""


class DemoCompanyExists(DemoError):
    """The demo company is already in the database."""


def demo_company_exists() -> bool:
    return Company.objects.filter(code=DEMO_COMPANY_CODE).exists()


def _users_build(demo: DemoCompany) -> tuple[list[User], list[StaffScope]]:
    password = demo_password_hash()
    estates = {e.code: e for e in demo.estates}
    buildings = {(b.estate.code, b.code): b for b in demo.buildings}
    users, scopes = [], []
    for username, role, display_name, scope_rows in DEMO_STAFF:
        user = User(
            username=username,
            password=password,
            company=demo.company,
            role=role,
            display_name=display_name,
            email=f"{username}@example.com",
        )
        users.append(user)
        for estate_code, building_code in scope_rows:
            building = buildings[(estate_code, building_code)] if building_code else None
            scopes.append(StaffScope(user=user, estate=estates[estate_code], building=building))
    return users, scopes


@transaction.atomic
def demo_company_load(*, seed: int = DEMO_SEED) -> DemoCompany:
    """Write the demo company in one transaction, set-based (a handful of bulk inserts per table).

    Raises DemoCompanyExists if it is already there, DemoError if a demo username is taken by
    someone else. An existing `root` user is left as it is."""
    if demo_company_exists():
        raise DemoCompanyExists(
            f"演示公司 {DEMO_COMPANY_CODE} 已存在 / The demo company {DEMO_COMPANY_CODE} exists"
        )
    demo = demo_plan(seed=seed)
    users, scopes = _users_build(demo)
    taken = set(
        User.objects.filter(username__in=[u.username for u in users]).values_list(
            "username", flat=True
        )
    )
    if taken:
        names = ", ".join(sorted(taken))
        raise DemoError(f"用户名已被占用，无法加载演示数据 / Usernames already taken: {names}")
    if not User.objects.filter(username=DEMO_SUPERUSER).exists():
        users.append(
            User(
                username=DEMO_SUPERUSER,
                password=demo_password_hash(),
                role=Role.ADMIN,
                display_name="系统管理员",
                email=DEMO_SUPERUSER_EMAIL,
                is_staff=True,
                is_superuser=True,
            )
        )

    demo.company.save()
    Estate.objects.bulk_create(demo.estates)
    Building.objects.bulk_create(demo.buildings)
    Unit.objects.bulk_create(demo.units)
    Party.objects.bulk_create(demo.parties)
    PartyPhone.objects.bulk_create(demo.phones)
    Occupancy.objects.bulk_create(demo.occupancies)
    User.objects.bulk_create(users)
    StaffScope.objects.bulk_create(scopes)
    policies_defaults_load(demo.company)  # the shipped collection policies (催收策略)
    demo.users = users
    audit = AuditBatch(actor=None, note=f"{DEMO_NOTE}（种子 {demo.seed}）")
    _audit_add(audit, demo)
    audit.write()
    return demo


def _audit_add(audit: AuditBatch, demo: DemoCompany) -> None:
    """The load's audit rows: the company, the staff logins, and one summary per estate."""
    audit.add(
        action=AuditAction.CREATE,
        obj=demo.company,
        after={"code": demo.company.code, "name": demo.company.name},
    )
    audit.add(
        action=AuditAction.IMPORT,
        object_type="core.user",
        object_repr="演示账号",
        after={"usernames": [u.username for u in demo.users]},
    )
    for estate in demo.estates:
        units = [u for u in demo.units if u.estate is estate]
        unit_ids = {id(u) for u in units}
        occupancies = [o for o in demo.occupancies if id(o.unit) in unit_ids]
        audit.add(
            action=AuditAction.IMPORT,
            obj=estate,
            estate_id=estate.pk,
            after={
                "buildings": sum(b.estate is estate for b in demo.buildings),
                "units": len(units),
                "occupancies": len(occupancies),
                "parties": len({id(o.party) for o in occupancies}),
            },
        )


@transaction.atomic
def demo_company_delete() -> bool:
    """Delete the demo company and everything the demo created (destructive; the command asks
    first). Audit rows stay: the log is never rewritten. Returns False if there was none."""
    company = Company.objects.filter(code=DEMO_COMPANY_CODE).first()
    if company is None:
        return False
    collection_data_delete(company)  # policies, runs and cases (催收数据)
    Occupancy.objects.filter(unit__estate__company=company).delete()
    Occupancy.objects.filter(party__company=company).delete()
    PartyPhone.objects.filter(party__company=company).delete()
    Party.objects.filter(company=company).delete()
    Unit.objects.filter(estate__company=company).delete()
    Building.objects.filter(estate__company=company).delete()
    User.objects.filter(company=company).delete()
    User.objects.filter(
        username=DEMO_SUPERUSER, company__isnull=True, email=DEMO_SUPERUSER_EMAIL
    ).delete()
    Estate.objects.filter(company=company).delete()
    audit_record(
        actor=None, action=AuditAction.DELETE, obj=company, note=f"{DEMO_NOTE}：删除演示公司"
    )
    company.delete()
    return True
