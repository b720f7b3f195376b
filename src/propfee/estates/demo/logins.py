"""The demo's staff logins, one per role with its estate scope, and how the commands print
them; all share the public DEMO_PASSWORD."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.contrib.auth.hashers import make_password
from django.utils import translation

from propfee.core.roles import Role
from propfee.estates.demo.constants import DEMO_PASSWORD, DEMO_SUPERUSER
from propfee.estates.demo.layout import demo_layout
from propfee.estates.services import building_name_default

_ROLE_ENGLISH: dict[str, str] = {
    Role.ADMIN: "company admin",
    Role.MANAGER: "estate manager",
    Role.COLLECTOR: "collector",
    Role.CUSTOMER_SERVICE: "customer service",
    Role.FINANCE: "finance",
    Role.LEGAL: "legal",
    Role.COMMITTEE: "owners' committee",
}

# username, role, display name, scope as (estate code, building code or None); admin is
# company-wide by role and needs no scope rows.
DEMO_STAFF: tuple[tuple[str, str, str, tuple[tuple[str, str | None], ...]], ...] = (
    ("admin", Role.ADMIN, "陈志远", ()),
    ("manager", Role.MANAGER, "林慧", (("DEMO", None),)),
    ("collector", Role.COLLECTOR, "王磊", (("DEMO", None),)),
    ("collector2", Role.COLLECTOR, "赵敏", (("WEST", "1"), ("WEST", "2"))),
    ("service", Role.CUSTOMER_SERVICE, "孙丽", (("DEMO", None), ("WEST", None))),
    ("finance", Role.FINANCE, "吴静", (("DEMO", None), ("WEST", None))),
    ("legal", Role.LEGAL, "郑国华", (("DEMO", None), ("WEST", None))),
    ("committee", Role.COMMITTEE, "钱文博", (("DEMO", None),)),
)


@dataclass(frozen=True)
class DemoLogin:
    """One demo account as the commands print it."""

    username: str
    display_name: str
    role: str  # a Role value, or "superuser" for root
    role_zh: str
    role_en: str
    scope: str  # 负责范围, in Chinese


def demo_logins() -> list[DemoLogin]:
    """The demo accounts (all with DEMO_PASSWORD), staff first, then the superuser."""
    names = {e.code: e.name for e in demo_layout()}
    logins = []
    with translation.override("zh-hans"):
        for username, role, display_name, scopes in DEMO_STAFF:
            if not scopes:
                scope = "全公司"
            elif all(b is None for _e, b in scopes):
                scope = "、".join(names[e] for e, _b in scopes)
            else:
                estate = names[scopes[0][0]]
                scope = estate + " " + "、".join(building_name_default(b or "") for _e, b in scopes)
            logins.append(
                DemoLogin(
                    username, display_name, role, str(Role(role).label), _ROLE_ENGLISH[role], scope
                )
            )
    logins.append(
        DemoLogin(DEMO_SUPERUSER, "系统管理员", "superuser", "超级用户", "superuser", "仅 /admin/")
    )
    return logins


@cache
def demo_password_hash() -> str:
    """The hash of DEMO_PASSWORD, computed once per process."""
    # Hashing is deliberately slow (PBKDF2); one hash shared by all demo accounts keeps the
    # load fast, and the password is public anyway.
    return make_password(DEMO_PASSWORD)
