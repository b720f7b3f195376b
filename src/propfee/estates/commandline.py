"""What a `propfee` command is told on its command line: the acting staff user (`--user`), the
company (`--company`) and a business date (`--as-of`). One place, so every command resolves
and refuses them alike."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import CommandError
from django.utils import timezone

from propfee.core.models import User
from propfee.estates.models import Company


def command_actor(username: str | None) -> User | None:
    """The staff user of `--user NAME`, or None (the system itself) when not given."""
    if not username:
        return None
    try:
        return User.objects.select_related("company").get(username=username)
    except User.DoesNotExist as exc:
        raise CommandError(f"员工账号不存在：{username}") from exc


def command_company(code: str | None, actor: User | None) -> Company:
    """The company of `--company CODE`; else the actor's; else the only company there is."""
    if code:
        try:
            return Company.objects.get(code=code)
        except Company.DoesNotExist as exc:
            raise CommandError(f"物业公司不存在：{code}") from exc
    if actor is not None and actor.company is not None:
        return actor.company
    companies = list(Company.objects.order_by("pk")[:2])
    if not companies:
        raise CommandError("系统中还没有物业公司")
    if len(companies) > 1:
        raise CommandError("系统中有多家物业公司，请用 --company 指定公司编码")
    return companies[0]


def command_date(value: str | None) -> dt.date:
    """The date of `--as-of YYYY-MM-DD`; today (Asia/Shanghai) when not given."""
    if not value:
        return timezone.localdate()
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"日期格式不对：{value}（应为 YYYY-MM-DD）") from exc
