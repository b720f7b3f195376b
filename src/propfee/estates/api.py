"""REST API of the estates domain: /api/v1/estates, buildings, units, parties, occupancies.

A thin caller: every read goes through the scoped selectors (out of scope → 404), every write
through the services (which check capabilities and write the audit rows). Phones, ID numbers
and e-mail addresses are masked; `POST /parties/{id}/reveal/` shows them and is audit-logged."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, cast

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model, QuerySet
from django.http import Http404
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from propfee.core.api import (
    ID_LOOKUP_REGEX,
    CapabilityPermission,
    DomainErrorsMixin,
    IdField,
    IdFilter,
    StandardPagination,
    UserError,
)
from propfee.core.models import User
from propfee.core.personal_data import (
    PersonalDataError,
    email_mask,
    id_number_mask,
    phone_mask,
)
from propfee.core.roles import Capability
from propfee.estates import services
from propfee.estates.constants import PartyRole, UnitStatus, UnitType
from propfee.estates.models import Building, Company, Estate, Occupancy, Party, Unit
from propfee.estates.selectors import (
    buildings_visible_to,
    estates_visible_to,
    occupancies_visible_to,
    parties_linkable_by,
    parties_visible_to,
    party_search,
    unit_search,
    units_visible_to,
)
from propfee.ledger.selectors import statement_for_unit, statement_json

REVEALED_FIELDS = ("phones", "email", "id_number")


def _actor(request: Request) -> User:
    return cast(User, request.user)


def _actor_company(request: Request) -> Company:
    company = _actor(request).company
    if company is None:
        raise UserError("当前账号未归属物业公司，不能新增")
    return company


# --- serializers -------------------------------------------------------------------------


class EstateSerializer(serializers.ModelSerializer):
    class Meta:
        model = Estate
        fields = ["code", "name", "city", "address"]
        read_only_fields = fields


class EstateCreateSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=32, help_text="项目编码：大写字母、数字、下划线")
    name = serializers.CharField(max_length=128)
    city = serializers.CharField(max_length=64, required=False, default="", allow_blank=True)
    address = serializers.CharField(max_length=255, required=False, default="", allow_blank=True)


class EstateUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=128, required=False)
    city = serializers.CharField(max_length=64, required=False, allow_blank=True)
    address = serializers.CharField(max_length=255, required=False, allow_blank=True)


class BuildingSerializer(serializers.ModelSerializer):
    estate = serializers.CharField(source="estate.code", read_only=True, help_text="项目编码")

    class Meta:
        model = Building
        fields = ["id", "estate", "code", "name"]
        read_only_fields = fields


class BuildingCreateSerializer(serializers.Serializer):
    estate = serializers.CharField(max_length=32, help_text="项目编码")
    code = serializers.CharField(max_length=32, help_text="楼栋编码")
    name = serializers.CharField(max_length=64, required=False, default="", allow_blank=True)


class UnitSerializer(serializers.ModelSerializer):
    estate = serializers.CharField(source="estate.code", read_only=True, help_text="项目编码")
    building = serializers.CharField(source="building.code", read_only=True, help_text="楼栋编码")
    area_m2 = serializers.DecimalField(max_digits=10, decimal_places=2, read_only=True)
    unit_type_display = serializers.CharField(source="get_unit_type_display", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = Unit
        fields = [
            "code",
            "estate",
            "building",
            "entrance",
            "room",
            "floor",
            "area_m2",
            "unit_type",
            "unit_type_display",
            "handover_date",
            "status",
            "status_display",
        ]
        read_only_fields = fields


class UnitCreateSerializer(serializers.Serializer):
    estate = serializers.CharField(max_length=32, help_text="项目编码")
    building = serializers.CharField(max_length=32, help_text="楼栋编码")
    entrance = serializers.CharField(max_length=16, required=False, default="", allow_blank=True)
    room = serializers.CharField(max_length=32)
    area_m2 = serializers.DecimalField(max_digits=10, decimal_places=2, help_text="建筑面积(㎡)")
    unit_type = serializers.ChoiceField(choices=UnitType.choices, default=UnitType.RESIDENTIAL)
    handover_date = serializers.DateField(required=False, allow_null=True, default=None)
    status = serializers.ChoiceField(choices=UnitStatus.choices, default=UnitStatus.OCCUPIED)


class UnitUpdateSerializer(serializers.Serializer):
    area_m2 = serializers.DecimalField(max_digits=10, decimal_places=2, required=False)
    unit_type = serializers.ChoiceField(choices=UnitType.choices, required=False)
    handover_date = serializers.DateField(required=False)
    status = serializers.ChoiceField(choices=UnitStatus.choices, required=False)


class PartySerializer(serializers.ModelSerializer):
    """A party with its personal data masked (138****8000)."""

    phones = serializers.SerializerMethodField(help_text="手机号（已脱敏）")
    email = serializers.SerializerMethodField(help_text="邮箱（已脱敏）")
    id_number = serializers.SerializerMethodField(help_text="证件号（已脱敏）")

    class Meta:
        model = Party
        fields = ["id", "name", "is_organization", "phones", "email", "id_number"]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_phones(self, party: Party) -> list[str]:
        return [phone_mask(p.number) for p in party.phones.all()]

    def get_email(self, party: Party) -> str:
        return email_mask(party.email)

    def get_id_number(self, party: Party) -> str:
        return id_number_mask(party.id_number)


class PartyRevealSerializer(serializers.ModelSerializer):
    """A party's unmasked personal data; every response is audit-logged."""

    phones = serializers.SerializerMethodField()
    # Not the model's EmailField: a party without an address answers "", not an e-mail format.
    email = serializers.CharField(read_only=True, help_text="邮箱（未登记时为空）")

    class Meta:
        model = Party
        fields = ["id", "name", "phones", "email", "id_number"]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_phones(self, party: Party) -> list[str]:
        return [p.number for p in party.phones.all()]


class PartyCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=128)
    is_organization = serializers.BooleanField(default=False)
    phones = serializers.ListField(
        child=serializers.CharField(max_length=32), required=False, default=list
    )
    email = serializers.EmailField(required=False, default="", allow_blank=True)
    id_number = serializers.CharField(max_length=32, required=False, default="", allow_blank=True)


class PartyUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=128, required=False)
    phones = serializers.ListField(child=serializers.CharField(max_length=32), required=False)
    email = serializers.EmailField(required=False, allow_blank=True)
    id_number = serializers.CharField(max_length=32, required=False, allow_blank=True)


class OccupancySerializer(serializers.ModelSerializer):
    unit = serializers.CharField(source="unit.code", read_only=True, help_text="房屋编码")
    party_name = serializers.CharField(source="party.name", read_only=True)
    role_display = serializers.CharField(source="get_role_display", read_only=True)

    class Meta:
        model = Occupancy
        fields = [
            "id",
            "unit",
            "party",
            "party_name",
            "role",
            "role_display",
            "is_payer",
            "since",
            "until",
        ]
        read_only_fields = fields


class OccupancyCreateSerializer(serializers.Serializer):
    unit = serializers.CharField(max_length=96, help_text="房屋编码")
    party = IdField(help_text="业主/住户编号")
    role = serializers.ChoiceField(choices=PartyRole.choices)
    is_payer = serializers.BooleanField(default=False)
    since = serializers.DateField()


class OccupancyEndSerializer(serializers.Serializer):
    until = serializers.DateField(help_text="结束日期（含当日）")


class OwnershipTransferSerializer(serializers.Serializer):
    new_owners = serializers.ListField(child=IdField(), help_text="新业主编号（先创建业主）")
    on = serializers.DateField(help_text="产权变更日期：新业主自当日起")
    payer = IdField(required=False, allow_null=True, default=None, help_text="缴费人，默认第一位")
    note = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)


# --- filters -----------------------------------------------------------------------------


class BuildingFilter(filters.FilterSet):
    estate = filters.CharFilter(field_name="estate__code", label="项目编码")

    class Meta:
        model = Building
        fields = ["estate"]


class UnitFilter(filters.FilterSet):
    estate = filters.CharFilter(field_name="estate__code", label="项目编码")
    building = filters.CharFilter(field_name="building__code", label="楼栋编码（配合 estate）")
    unit_type = filters.ChoiceFilter(choices=UnitType.choices, label="房屋类型")
    status = filters.ChoiceFilter(choices=UnitStatus.choices, label="状态")

    class Meta:
        model = Unit
        fields = ["estate", "building", "unit_type", "status"]


class OccupancyFilter(filters.FilterSet):
    unit = filters.CharFilter(field_name="unit__code", label="房屋编码")
    party = IdFilter(field_name="party_id", label="业主/住户编号")
    current = filters.BooleanFilter(field_name="until", lookup_expr="isnull", label="仅当前关系")

    class Meta:
        model = Occupancy
        fields = ["unit", "party", "current"]


# --- viewsets ----------------------------------------------------------------------------


class ScopedViewSet(DomainErrorsMixin, viewsets.GenericViewSet):
    """Base of the estates viewsets: capability checks, domain errors, lookup in scope."""

    permission_classes = [IsAuthenticated, CapabilityPermission]
    pagination_class = StandardPagination
    user_errors = (services.EstatesError, PersonalDataError)
    read_capability: str
    write_capabilities: dict[str, str] = {}

    def get_object(self) -> Any:
        """The object named in the URL among those the caller may see; otherwise 404. Codes are
        unique per company, so the first by id is the one (a superuser may see several)."""
        lookup_url_kwarg = self.lookup_url_kwarg or self.lookup_field
        try:
            obj = (
                self.get_queryset()
                .filter(**{self.lookup_field: self.kwargs[lookup_url_kwarg]})
                .order_by("pk")
                .first()
            )
        except (TypeError, ValueError, DjangoValidationError) as exc:
            raise Http404 from exc
        if obj is None:
            raise Http404
        self.check_object_permissions(self.request, obj)
        return obj

    def _input(self, serializer_class: type[serializers.Serializer]) -> dict[str, Any]:
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def _output(self, obj: Model, code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(obj).data, status=code)


@extend_schema(tags=["estates"])
class EstateViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """项目: list and read in scope; create and update need 管理项目."""

    serializer_class = EstateSerializer
    lookup_field = "code"
    read_capability = Capability.VIEW_ESTATES
    write_capabilities = {
        "create": Capability.MANAGE_COMPANY,
        "partial_update": Capability.MANAGE_COMPANY,
    }

    def get_queryset(self) -> QuerySet[Estate]:
        return estates_visible_to(_actor(self.request))

    @extend_schema(request=EstateCreateSerializer, responses={201: EstateSerializer})
    def create(self, request: Request) -> Response:
        data = self._input(EstateCreateSerializer)
        estate = services.estate_create(
            company=_actor_company(request), actor=_actor(request), **data
        )
        return self._output(estate, status.HTTP_201_CREATED)

    @extend_schema(request=EstateUpdateSerializer, responses=EstateSerializer)
    def partial_update(self, request: Request, code: str) -> Response:
        estate = self.get_object()
        data = self._input(EstateUpdateSerializer)
        estate = services.estate_update(
            estate=estate,
            actor=_actor(request),
            name=data.get("name", estate.name),
            city=data.get("city", estate.city),
            address=data.get("address", estate.address),
        )
        return self._output(estate)


@extend_schema(tags=["estates"])
class BuildingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """楼栋: list (`?estate=CODE`) and read in scope; create needs 管理楼栋与房屋."""

    serializer_class = BuildingSerializer
    filterset_class = BuildingFilter
    read_capability = Capability.VIEW_ESTATES
    write_capabilities = {"create": Capability.MANAGE_UNITS}

    def get_queryset(self) -> QuerySet[Building]:
        return buildings_visible_to(_actor(self.request))

    @extend_schema(request=BuildingCreateSerializer, responses={201: BuildingSerializer})
    def create(self, request: Request) -> Response:
        data = self._input(BuildingCreateSerializer)
        estate = estates_visible_to(_actor(request)).filter(code=data["estate"]).first()
        if estate is None:
            raise UserError(f"项目不存在：{data['estate']}")
        building = services.building_create(
            estate=estate, code=data["code"], name=data["name"], actor=_actor(request)
        )
        return self._output(building, status.HTTP_201_CREATED)


@extend_schema(tags=["estates"])
class UnitViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """房屋, by code (`DEMO-3-1502`): list, search and read in scope; create and update need
    管理楼栋与房屋; ownership transfer needs 管理业主、住户与产权变更."""

    serializer_class = UnitSerializer
    filterset_class = UnitFilter
    lookup_field = "code"
    read_capability = Capability.VIEW_UNITS
    write_capabilities = {
        "create": Capability.MANAGE_UNITS,
        "partial_update": Capability.MANAGE_UNITS,
        "transfer": Capability.MANAGE_PARTIES,
    }

    def get_queryset(self) -> QuerySet[Unit]:
        user = _actor(self.request)
        query = self.request.query_params.get("q", "").strip() if self.action == "list" else ""
        return unit_search(user=user, query=query) if query else units_visible_to(user)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "q",
                OpenApiTypes.STR,
                description="房屋编码（或开头）、住户姓名、手机尾号（3–11位）",
            )
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=UnitCreateSerializer, responses={201: UnitSerializer})
    def create(self, request: Request) -> Response:
        data = self._input(UnitCreateSerializer)
        estate_code, building_code = data.pop("estate"), data.pop("building")
        building = (
            buildings_visible_to(_actor(request))
            .filter(estate__code=estate_code, code=building_code)
            .first()
        )
        if building is None:
            raise UserError(f"楼栋不存在：{estate_code}-{building_code}")
        unit = services.unit_create(building=building, actor=_actor(request), **data)
        return self._output(unit, status.HTTP_201_CREATED)

    @extend_schema(request=UnitUpdateSerializer, responses=UnitSerializer)
    def partial_update(self, request: Request, code: str) -> Response:
        unit = self.get_object()
        data = self._input(UnitUpdateSerializer)
        unit = services.unit_update(unit=unit, actor=_actor(request), **data)
        return self._output(unit)

    @extend_schema(
        request=OwnershipTransferSerializer,
        responses=OccupancySerializer(many=True),
        summary="产权变更",
    )
    @action(detail=True, methods=["post"])
    def transfer(self, request: Request, code: str) -> Response:
        unit = self.get_object()
        data = self._input(OwnershipTransferSerializer)
        owner_ids: list[int] = data["new_owners"]
        parties = _parties_linkable(_actor(request), [*owner_ids, data["payer"]])
        opened = services.ownership_transfer(
            unit=unit,
            new_owners=[parties[pk] for pk in dict.fromkeys(owner_ids)],
            payer=parties[data["payer"]] if data["payer"] else None,
            on=data["on"],
            note=data["note"],
            actor=_actor(request),
        )
        return Response(OccupancySerializer(opened, many=True).data)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "as_of", OpenApiTypes.DATE, description="对账日期 YYYY-MM-DD（默认今天）"
            )
        ],
        responses=OpenApiTypes.OBJECT,
        summary="对账单",
    )
    @action(detail=True, methods=["get"])
    def statement(self, request: Request, code: str) -> Response:
        unit = self.get_object()
        raw = request.query_params.get("as_of", "").strip()
        if raw:
            try:
                as_of = dt.date.fromisoformat(raw)
            except ValueError as exc:
                raise UserError(f"对账日期格式应为 YYYY-MM-DD：{raw}") from exc
        else:
            as_of = timezone.localdate()
        return Response(statement_json(statement_for_unit(unit=unit, as_of=as_of)))


def _parties_linkable(user: User, ids: Iterable[int | None]) -> dict[int, Party]:
    """The parties `user` may link, by id; 400 naming the first id that is not one of them."""
    wanted = [pk for pk in ids if pk]
    found = {p.pk: p for p in parties_linkable_by(user).filter(pk__in=wanted)}
    for pk in wanted:
        if pk not in found:
            raise UserError(f"业主/住户不存在：{pk}")
    return found


@extend_schema(tags=["parties"])
class PartyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """业主/住户 with masked personal data; `reveal` shows it in full and is audit-logged."""

    serializer_class = PartySerializer
    lookup_value_regex = ID_LOOKUP_REGEX
    read_capability = Capability.VIEW_PARTIES
    write_capabilities = {
        "create": Capability.MANAGE_PARTIES,
        "partial_update": Capability.MANAGE_PARTIES,
        "reveal": Capability.REVEAL_PERSONAL_DATA,
    }

    def get_queryset(self) -> QuerySet[Party]:
        user = _actor(self.request)
        query = self.request.query_params.get("q", "").strip() if self.action == "list" else ""
        return party_search(user=user, query=query) if query else parties_visible_to(user)

    @extend_schema(
        parameters=[OpenApiParameter("q", OpenApiTypes.STR, description="姓名或手机尾号（3–11位）")]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=PartyCreateSerializer, responses={201: PartySerializer})
    def create(self, request: Request) -> Response:
        data = self._input(PartyCreateSerializer)
        party = services.party_create(
            company=_actor_company(request), actor=_actor(request), **data
        )
        return self._output(party, status.HTTP_201_CREATED)

    @extend_schema(request=PartyUpdateSerializer, responses=PartySerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        party = self.get_object()
        data = self._input(PartyUpdateSerializer)
        party = services.party_update(party=party, actor=_actor(request), **data)
        return self._output(self.get_queryset().get(pk=party.pk))

    @extend_schema(request=None, responses=PartyRevealSerializer, summary="查看完整个人信息")
    @action(detail=True, methods=["post"])
    def reveal(self, request: Request, pk: str) -> Response:
        party = self.get_object()
        services.party_reveal_record(actor=_actor(request), party=party, fields=REVEALED_FIELDS)
        return Response(PartyRevealSerializer(party).data)


@extend_schema(tags=["parties"])
class OccupancyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """住户关系: list (`?unit=CODE`, `?current=true`) and read in scope; create and end need
    管理业主、住户与产权变更."""

    serializer_class = OccupancySerializer
    filterset_class = OccupancyFilter
    lookup_value_regex = ID_LOOKUP_REGEX
    read_capability = Capability.VIEW_PARTIES
    write_capabilities = {"create": Capability.MANAGE_PARTIES, "end": Capability.MANAGE_PARTIES}

    def get_queryset(self) -> QuerySet[Occupancy]:
        return occupancies_visible_to(_actor(self.request))

    @extend_schema(request=OccupancyCreateSerializer, responses={201: OccupancySerializer})
    def create(self, request: Request) -> Response:
        user = _actor(request)
        data = self._input(OccupancyCreateSerializer)
        unit = units_visible_to(user).filter(code=data["unit"]).order_by("pk").first()
        if unit is None:
            raise UserError(f"房屋不存在：{data['unit']}")
        party = _parties_linkable(user, [data["party"]])[data["party"]]
        occupancy = services.occupancy_create(
            unit=unit,
            party=party,
            role=data["role"],
            is_payer=data["is_payer"],
            since=data["since"],
            actor=user,
        )
        return self._output(occupancy, status.HTTP_201_CREATED)

    @extend_schema(request=OccupancyEndSerializer, responses=OccupancySerializer, summary="结束")
    @action(detail=True, methods=["post"])
    def end(self, request: Request, pk: str) -> Response:
        occupancy = self.get_object()
        data = self._input(OccupancyEndSerializer)
        occupancy = services.occupancy_end(
            occupancy=occupancy, until=data["until"], actor=_actor(request)
        )
        return self._output(occupancy)


def register(router: BaseRouter) -> None:
    """Put the estates endpoints on the v1 router."""
    router.register("estates", EstateViewSet, basename="estate")
    router.register("buildings", BuildingViewSet, basename="building")
    router.register("units", UnitViewSet, basename="unit")
    router.register("parties", PartyViewSet, basename="party")
    router.register("occupancies", OccupancyViewSet, basename="occupancy")
