"""Policy writes and reads (催收策略): create a policy, add an immutable version, export and
import YAML, load the shipped presets, and find the version each estate follows.

A policy is a company-wide setting: changing what an estate follows needs a company admin or a
manager whose scope covers every estate the change concerns (`estates_cover_require`) — the
estate chosen for, or every estate following the policy edited.

A version's `definition` is always stored as `definition_data(definition_parse(raw))`, so what
is stored has been validated and is in one normal form."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml
from django.db import transaction
from django.db.models import Max

from propfee.collection.definition import (
    Definition,
    DefinitionError,
    definition_data,
    definition_parse,
)
from propfee.collection.models import EstatePolicy, Policy, PolicyVersion
from propfee.core.models import AuditAction, User
from propfee.core.roles import Capability, require
from propfee.core.services import audit_record
from propfee.estates.models import Company, Estate
from propfee.estates.selectors import estates_cover_require

# The shipped presets, in the order they are loaded; the first is the company default.
PRESET_FILES = ("default", "fast", "standard4", "fourweeks", "segmented")


class PolicyError(ValueError):
    """A policy write the rules refuse; the message is for the user."""


@dataclass(frozen=True)
class PolicyDocument:
    """A policy as a YAML/JSON document: its code, name, description and definition."""

    code: str
    name: str
    description: str
    definition: Definition


def _normal(raw: Any) -> dict[str, Any]:
    return definition_data(definition_parse(raw))


def _audit(actor: User | None, version: PolicyVersion, note: str) -> None:
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=version,
        after={"policy": version.policy.code, "number": version.number, "note": version.note},
        note=note,
    )


@transaction.atomic
def policy_create(
    *,
    company: Company,
    code: str,
    name: str,
    definition: Any,
    actor: User | None,
    description: str = "",
    is_default: bool = False,
    note: str = "",
) -> Policy:
    """A new policy with its version 1 (`definition`: the JSON/YAML mapping). `is_default`
    makes it the company's default instead of the present one (a change for every estate that
    follows the default)."""
    estates_cover_require(
        actor, Capability.MANAGE_POLICIES, _default_followers(company.pk) if is_default else ()
    )
    code = code.strip()
    if not code or not name.strip():
        raise PolicyError("策略编码和名称不能为空。")
    if Policy.objects.filter(company=company, code=code).exists():
        raise PolicyError(f"策略编码“{code}”已存在。")
    data = _normal(definition)
    if is_default:
        Policy.objects.filter(company=company, is_default=True).update(is_default=False)
    policy = Policy.objects.create(
        company=company,
        code=code,
        name=name.strip(),
        description=description.strip(),
        is_default=is_default,
    )
    version = PolicyVersion.objects.create(
        policy=policy, number=1, definition=data, note=note or "新建策略", created_by=actor
    )
    _audit(actor, version, f"新建催收策略：{policy.name}")
    return policy


@transaction.atomic
def policy_version_create(
    *, policy: Policy, definition: Any, actor: User | None, note: str = ""
) -> PolicyVersion:
    """A new immutable version of `policy`; earlier versions stay as they were (the actions
    they caused keep pointing at them). The next run follows the new version, for every
    estate following the policy: the actor must cover them all."""
    estates_cover_require(actor, Capability.MANAGE_POLICIES, policy_estate_ids(policy))
    data = _normal(definition)
    policy = Policy.objects.select_for_update().get(pk=policy.pk)
    last = policy.versions.aggregate(n=Max("number"))["n"] or 0
    version = PolicyVersion.objects.create(
        policy=policy, number=last + 1, definition=data, note=note, created_by=actor
    )
    _audit(actor, version, f"催收策略“{policy.name}”新版本 v{version.number}")
    return version


def _default_followers(company_id: int) -> set[int]:
    """The estates of the company that chose no policy: they follow the company default."""
    return set(
        Estate.objects.filter(company_id=company_id)
        .filter(policy_choice__isnull=True)
        .values_list("pk", flat=True)
    )


def policy_estate_ids(policy: Policy) -> set[int]:
    """The estates that follow `policy` now: those that chose it, and for the company default
    those that chose none."""
    chosen = set(EstatePolicy.objects.filter(policy=policy).values_list("estate_id", flat=True))
    return chosen | _default_followers(policy.company_id) if policy.is_default else chosen


def policy_current_version(policy: Policy) -> PolicyVersion | None:
    return policy.versions.order_by("-number").first()


def policy_export_yaml(policy: Policy, version: PolicyVersion | None = None) -> str:
    """The YAML of `policy` at `version` (default: the latest): code, name, description and the
    definition, readable and editable by a manager, re-importable with `policy_import_yaml`."""
    version = version or policy_current_version(policy)
    if version is None:
        raise PolicyError("该策略还没有版本。")
    document = {
        "code": policy.code,
        "name": policy.name,
        "description": policy.description,
        **version.definition,
    }
    return str(yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100))


def policy_document_parse(text: str) -> PolicyDocument:
    """A YAML (or JSON) policy document, validated; raises DefinitionError."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DefinitionError([f"YAML 格式错误：{exc}"]) from exc
    if not isinstance(raw, dict):
        raise DefinitionError(["YAML 内容应为一个策略（键值结构）"])
    definition = definition_parse(raw)
    code = str(raw.get("code") or "").strip()
    name = str(raw.get("name") or "").strip()
    problems = []
    if not code:
        problems.append("code（策略编码）：不能为空")
    if not name:
        problems.append("name（策略名称）：不能为空")
    if problems:
        raise DefinitionError(problems)
    return PolicyDocument(
        code=code,
        name=name,
        description=str(raw.get("description") or "").strip(),
        definition=definition,
    )


@transaction.atomic
def policy_import_yaml(
    *, company: Company, text: str, actor: User | None, note: str = ""
) -> PolicyVersion:
    """Import a YAML policy: a new policy if its code is new, else a new version of the
    existing one (its name and description updated)."""
    require(actor, Capability.MANAGE_POLICIES)
    document = policy_document_parse(text)
    data = definition_data(document.definition)
    policy = Policy.objects.filter(company=company, code=document.code).first()
    if policy is None:
        policy = policy_create(
            company=company,
            code=document.code,
            name=document.name,
            description=document.description,
            definition=data,
            actor=actor,
            note=note or "导入",
        )
        version = policy_current_version(policy)
        assert version is not None
        return version
    if (policy.name, policy.description) != (document.name, document.description):
        policy.name, policy.description = document.name, document.description
        policy.save(update_fields=["name", "description", "updated_at"])
    return policy_version_create(policy=policy, definition=data, actor=actor, note=note or "导入")


def preset_text(name: str) -> str:
    """The YAML text of a shipped preset (`PRESET_FILES`)."""
    return (
        resources.files("propfee.collection")
        .joinpath("presets", f"{name}.yaml")
        .read_text(encoding="utf-8")
    )


@transaction.atomic
def policies_defaults_load(company: Company, *, actor: User | None = None) -> int:
    """Add the shipped presets the company does not have yet (by code); the default ladder is
    the company default when it has none. Returns how many were added; running it again adds
    nothing."""
    existing = set(Policy.objects.filter(company=company).values_list("code", flat=True))
    has_default = Policy.objects.filter(company=company, is_default=True).exists()
    added = 0
    for name in PRESET_FILES:
        document = policy_document_parse(preset_text(name))
        if document.code in existing:
            continue
        policy_create(
            company=company,
            code=document.code,
            name=document.name,
            description=document.description,
            definition=definition_data(document.definition),
            actor=actor,
            is_default=not has_default and name == PRESET_FILES[0],
            note="系统预置",
        )
        added += 1
    return added


def estate_policy_versions(company: Company) -> dict[int, PolicyVersion]:
    """The policy version each estate of `company` follows now: its EstatePolicy's policy, else
    the company default; estates with neither are left out. Three queries."""
    latest: dict[int, PolicyVersion] = {}
    for version in PolicyVersion.objects.filter(policy__company=company).select_related("policy"):
        current = latest.get(version.policy_id)
        if current is None or version.number > current.number:
            latest[version.policy_id] = version
    default = next((v for v in latest.values() if v.policy.is_default), None)
    chosen = dict(
        EstatePolicy.objects.filter(estate__company=company).values_list("estate_id", "policy_id")
    )
    result: dict[int, PolicyVersion] = {}
    for estate_id in Estate.objects.filter(company=company).values_list("pk", flat=True):
        policy_id = chosen.get(estate_id)
        found = latest.get(policy_id) if policy_id is not None else default
        if found is not None:
            result[estate_id] = found
    return result


@transaction.atomic
def estate_policy_set(*, estate: Estate, policy: Policy | None, actor: User | None) -> None:
    """Make `estate` follow `policy` (None: the company default); the actor must cover the
    estate."""
    estates_cover_require(actor, Capability.MANAGE_POLICIES, [estate.pk])
    if policy is not None and policy.company_id != estate.company_id:
        raise PolicyError("策略不属于该项目所在的物业公司。")
    EstatePolicy.objects.filter(estate=estate).delete()
    if policy is not None:
        EstatePolicy.objects.create(estate=estate, policy=policy)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=estate,
        estate_id=estate.pk,
        after={"policy": policy.code if policy else ""},
        note="设置项目催收策略",
    )
