"""Forms of the unit page's writes: the unit's attributes, an occupant's details, a new occupant,
the end of an occupancy and an ownership transfer. They parse what was typed; the rules are the
services' own, and their refusals come back to these forms as errors."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.forms.utils import ErrorDict
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from propfee.core.identifiers import id_parse
from propfee.core.models import User
from propfee.core.personal_data import email_mask, id_number_mask, phone_mask
from propfee.estates.constants import PartyRole, UnitStatus, UnitType
from propfee.estates.models import Party, Unit
from propfee.estates.selectors import current_payer, parties_linkable_by, party_search
from propfee.estates.services import NewParty
from propfee.payments.constants import RECEIVING_CHANNELS
from propfee.web.forms import BootstrapMixin
from propfee.web.prefetch import parties_with_current_units

# Several numbers go in one box: one a line, or separated by commas, semicolons or 、.
_PHONES_SPLIT_RE = re.compile(r"[\r\n,，;；、]+")
# How many parties a search in a write dialog offers.
PARTY_OPTIONS = 10
# Blank slots for new owners on the transfer form (a couple buying together is two).
NEW_OWNER_SLOTS = 3


def _date_input() -> forms.DateInput:
    # <input type="date"> needs ISO dates whatever the language's display format.
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PhonesField(forms.CharField):
    """Several phone numbers typed in one box, as a list (normalising is the service's)."""

    widget = forms.Textarea(attrs={"rows": 2})

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        return [part.strip() for part in _PHONES_SPLIT_RE.split(text) if part.strip()]

    def has_changed(self, initial: Any, data: Any) -> bool:
        return self.to_python(initial) != self.to_python(data)


class WriteForm(BootstrapMixin, forms.Form):
    """A form of a write dialog. A `quiet` form was posted to refresh the dialog (a search
    without JavaScript), not to save: it keeps what was typed, shows no errors and is never
    valid."""

    def __init__(self, *args: Any, quiet: bool = False, **kwargs: Any) -> None:
        self.quiet = quiet
        super().__init__(*args, **kwargs)

    def full_clean(self) -> None:
        if self.quiet:
            self._errors = ErrorDict()
            self.cleaned_data = {}
            return
        super().full_clean()

    def is_valid(self) -> bool:
        return not self.quiet and super().is_valid()


class UnitEditForm(WriteForm):
    area_m2 = forms.DecimalField(
        label=gettext_lazy("建筑面积(㎡)"), max_digits=10, decimal_places=2
    )
    unit_type = forms.ChoiceField(label=gettext_lazy("房屋类型"), choices=UnitType.choices)
    handover_date = forms.DateField(
        label=gettext_lazy("交房日期"), required=False, widget=_date_input()
    )
    status = forms.ChoiceField(label=gettext_lazy("状态"), choices=UnitStatus.choices)

    def __init__(self, *args: Any, unit: Unit, **kwargs: Any) -> None:
        initial = {
            "area_m2": unit.area_m2,
            "unit_type": unit.unit_type,
            "handover_date": unit.handover_date,
            "status": unit.status,
        }
        super().__init__(*args, initial=initial, **kwargs)
        # `unit_update` keeps a date it is not given, so a recorded date cannot be cleared.
        self.fields["handover_date"].required = unit.handover_date is not None


class PartyEditForm(WriteForm):
    """An occupant's name, phones, e-mail and ID number. Only a role that may see personal
    data in full gets them pre-filled (and that view is audit-logged by the view); any other
    role sees them masked beside empty boxes, and an empty box leaves the value unchanged."""

    name = forms.CharField(label=gettext_lazy("姓名"), max_length=128)
    phones = PhonesField(label=gettext_lazy("手机"), required=False)
    email = forms.EmailField(label=gettext_lazy("邮箱"), required=False)
    id_number = forms.CharField(label=gettext_lazy("证件号"), required=False, max_length=32)

    PERSONAL_FIELDS = ("phones", "email", "id_number")

    def __init__(self, *args: Any, party: Party, revealed: bool, **kwargs: Any) -> None:
        self.revealed = revealed
        numbers = [phone.number for phone in party.phones.all()]
        initial: dict[str, Any] = {"name": party.name}
        if revealed:
            initial |= {
                "phones": "\n".join(numbers),
                "email": party.email,
                "id_number": party.id_number,
            }
        super().__init__(*args, initial=initial, **kwargs)
        self.prefilled = [
            label
            for label, present in (
                ("手机", numbers),
                ("证件号", party.id_number),
                ("邮箱", party.email),
            )
            if revealed and present
        ]
        if revealed:
            self.fields["phones"].help_text = _(
                "每行一个号码，也可用逗号分隔；清空则删除全部号码。"
            )
            return
        masked = {
            "phones": "、".join(phone_mask(n) for n in numbers),
            "email": email_mask(party.email),
            "id_number": id_number_mask(party.id_number),
        }
        for name, shown in masked.items():
            self.fields[name].help_text = (
                format_html(_("当前：{}；留空则不修改。"), shown) if shown else _("当前未登记。")
            )

    def changes(self) -> dict[str, Any]:
        """The keyword arguments of `party_update`: what the form may change."""
        data = self.cleaned_data
        changes: dict[str, Any] = {"name": data["name"]}
        for name in self.PERSONAL_FIELDS:
            if self.revealed or data[name]:
                changes[name] = data[name]
        return changes


class NewPartyForm(WriteForm):
    """A person or company not on file yet; left blank, it names nobody."""

    name = forms.CharField(label=gettext_lazy("姓名"), max_length=128, required=False)
    phones = PhonesField(
        label=gettext_lazy("手机"),
        required=False,
        help_text=gettext_lazy("每行一个号码，也可用逗号分隔"),
    )
    email = forms.EmailField(label=gettext_lazy("邮箱"), required=False)
    id_number = forms.CharField(label=gettext_lazy("证件号"), required=False, max_length=32)
    is_organization = forms.BooleanField(label=gettext_lazy("单位（公司、开发商）"), required=False)

    @property
    def filled(self) -> bool:
        return self.is_bound and self.has_changed()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.filled and not cleaned.get("name", "").strip():
            self.add_error("name", _("请填写姓名。"))
        return cleaned

    def details(self) -> NewParty | None:
        if not self.filled:
            return None
        data = self.cleaned_data
        return NewParty(
            name=data["name"],
            phones=tuple(data["phones"]),
            email=data["email"],
            id_number=data["id_number"],
            is_organization=data["is_organization"],
        )


class PartyPickerMixin:
    """A search box (`q`) and the parties it offers to pick from: those the user may link to
    a unit (`parties_linkable_by`), the picked ones first."""

    user: User
    pick_field: str
    data: Any
    fields: dict[str, forms.Field]

    def _picker_setup(self, user: User) -> None:
        self.user = user
        field = cast(forms.ModelChoiceField, self.fields[self.pick_field])
        field.queryset = parties_linkable_by(user)

    def picked_ids(self) -> list[int]:
        values = self.data.getlist(self.pick_field) if hasattr(self.data, "getlist") else []
        return [pk for pk in map(id_parse, values) if pk is not None]

    def party_options(self) -> dict[str, Any]:
        """What the options list shows: the picked parties, then the search's matches."""
        picked_ids = self.picked_ids()
        linkable = parties_linkable_by(self.user)
        picked = {
            p.pk: p
            for p in parties_with_current_units(linkable.filter(pk__in=picked_ids), self.user)
        }
        query = str(self.data.get("q", "")).strip() if self.data else ""
        matches: list[Party] = []
        if query:
            found = party_search(user=self.user, query=query, linkable=True).exclude(pk__in=picked)
            matches = list(
                parties_with_current_units(found, self.user).order_by("name", "pk")[
                    : PARTY_OPTIONS + 1
                ]
            )
        return {
            "picked": [picked[pk] for pk in dict.fromkeys(picked_ids) if pk in picked],
            "matches": matches[:PARTY_OPTIONS],
            "more": len(matches) > PARTY_OPTIONS,
            "query": query,
        }


class OccupantAddForm(PartyPickerMixin, WriteForm):
    """添加住户: an existing party (picked after a search) or a new one, in a role, from a date."""

    pick_field = "party"

    q = forms.CharField(label=gettext_lazy("查找已有业主住户"), required=False, max_length=64)
    party = forms.ModelChoiceField(
        label=gettext_lazy("已有业主住户"), queryset=Party.objects.none(), required=False
    )
    role = forms.ChoiceField(
        label=gettext_lazy("身份"),
        choices=PartyRole.choices,
        help_text=gettext_lazy("房屋转让给新业主请用“产权变更”，原业主的记录会保留。"),
    )
    since = forms.DateField(label=gettext_lazy("起始日期"), widget=_date_input())
    is_payer = forms.BooleanField(label=gettext_lazy("设为缴费人"), required=False)

    def __init__(self, data: Any = None, *, user: User, unit: Unit, quiet: bool = False) -> None:
        initial = {"role": PartyRole.TENANT, "since": timezone.localdate()}
        super().__init__(data, initial=initial, quiet=quiet)
        self._picker_setup(user)
        self.new_party = NewPartyForm(data, prefix="new", quiet=quiet)
        payer = current_payer(unit=unit)
        if payer is not None:
            self.fields["is_payer"].help_text = _("当前缴费人 %(name)s 将不再是缴费人。") % {
                "name": payer.name
            }

    def is_valid(self) -> bool:
        return all([super().is_valid(), self.new_party.is_valid()])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        picked = cleaned.get("party")
        if picked is not None and self.new_party.filled:
            self.add_error(None, _("请选择已有业主住户或填写新建人员，二者只选其一。"))
        elif picked is None and not self.new_party.filled:
            self.add_error(None, _("请选择已有业主住户，或填写新建人员的姓名。"))
        return cleaned

    def party_ref(self) -> Party | NewParty:
        picked = self.cleaned_data.get("party")
        return picked if picked is not None else cast(NewParty, self.new_party.details())


class OccupancyEndForm(WriteForm):
    until = forms.DateField(
        label=gettext_lazy("结束日期"),
        widget=_date_input(),
        help_text=gettext_lazy("关系持续到当日（含当日）"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, initial={"until": timezone.localdate()}, **kwargs)


class PartiesField(forms.ModelMultipleChoiceField):
    """Parties picked by id; an id out of range (see core.identifiers) is an invalid choice,
    not a query the database cannot bind."""

    def _check_values(self, value: Any) -> Any:
        for pk in value:
            if id_parse(pk) is None:
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": pk},
                )
        return super()._check_values(value)


class TransferForm(PartyPickerMixin, WriteForm):
    """产权变更: the new owners (picked after a search, or new), the date, the payer, a note."""

    pick_field = "owners"

    q = forms.CharField(label=gettext_lazy("查找已有业主住户"), required=False, max_length=64)
    owners = PartiesField(
        label=gettext_lazy("新业主"), queryset=Party.objects.none(), required=False
    )
    on = forms.DateField(
        label=gettext_lazy("变更日期"),
        widget=_date_input(),
        help_text=gettext_lazy("新业主自当日起为业主，原产权关系于前一日结束。"),
    )
    # A picked party's id, or `new<n>` for the n-th new owner; blank: the first owner.
    payer = forms.CharField(required=False, max_length=32)
    note = forms.CharField(
        label=gettext_lazy("备注"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, data: Any = None, *, user: User, quiet: bool = False) -> None:
        super().__init__(data, initial={"on": timezone.localdate()}, quiet=quiet)
        self._picker_setup(user)
        self.new_owners = [
            NewPartyForm(data, prefix=f"new{i}", quiet=quiet) for i in range(NEW_OWNER_SLOTS)
        ]

    def is_valid(self) -> bool:
        return all([super().is_valid(), *(form.is_valid() for form in self.new_owners)])

    def _keyed_owners(self) -> list[tuple[str, Party | NewParty]]:
        order = {pk: i for i, pk in enumerate(self.picked_ids())}
        picked = sorted(self.cleaned_data.get("owners") or [], key=lambda p: order.get(p.pk, 0))
        keyed: list[tuple[str, Party | NewParty]] = [(str(p.pk), p) for p in picked]
        for i, form in enumerate(self.new_owners):
            details = form.details() if form.is_valid() else None
            if details is not None:
                keyed.append((f"new{i}", details))
        return keyed

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        payer = cleaned.get("payer", "")
        if payer and payer not in dict(self._keyed_owners()):
            self.add_error("payer", _("缴费人必须是新业主之一。"))
        return cleaned

    def owners_and_payer(self) -> tuple[list[Party | NewParty], Party | NewParty | None]:
        """The new owners in the order given (picked, then new) and the chosen payer."""
        keyed = self._keyed_owners()
        return [owner for _key, owner in keyed], dict(keyed).get(self.cleaned_data["payer"])


class PaymentForm(WriteForm):
    """登记收款 at the front desk: the amount in yuan, the day it was received, the channel, the
    bank/gateway reference (blank for cash) and, optionally, which of the unit's open charges
    it pays first. The rules of a payment are `payment_record`'s; its refusals come back here."""

    amount = forms.DecimalField(
        label=gettext_lazy("金额(元)"),
        max_digits=15,
        decimal_places=2,
        min_value=Decimal("0.01"),
    )
    received_on = forms.DateField(label=gettext_lazy("收款日期"), widget=_date_input())
    channel = forms.ChoiceField(
        label=gettext_lazy("收款方式"), choices=[(c.value, c.label) for c in RECEIVING_CHANNELS]
    )
    reference = forms.CharField(
        label=gettext_lazy("流水号"),
        required=False,
        max_length=64,
        help_text=gettext_lazy("银行或支付平台的流水号；现金可留空，以收据号代替。"),
    )
    designations = forms.TypedMultipleChoiceField(
        label=gettext_lazy("指定缴纳的应收"),
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("不选则按规则先缴最早的欠费。"),
    )

    def __init__(self, *args: Any, open_charges: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, initial={"received_on": timezone.localdate()}, **kwargs)
        field = cast(forms.TypedMultipleChoiceField, self.fields["designations"])
        field.choices = open_charges
        field.widget.attrs["class"] = "form-check-input"

    def clean_received_on(self) -> Any:
        day = self.cleaned_data["received_on"]
        if day > timezone.localdate():
            raise forms.ValidationError(_("收款日期不能晚于今天。"))
        return day

    def amount_fen(self) -> int:
        return int(self.cleaned_data["amount"] * 100)
