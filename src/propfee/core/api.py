"""REST API plumbing shared by every app (pagination, capability checks, domain errors as HTTP
answers) and `GET /api/v1/me/`: who the caller is, their role and their scope."""

from __future__ import annotations

from typing import Any

from django import forms
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from propfee.core import roles
from propfee.core.credentials import api_token_expires_at, api_token_obtain, api_token_revoke
from propfee.core.identifiers import ID_MAX, ID_MAX_DIGITS
from propfee.core.logins import lockout_message
from propfee.core.models import User
from propfee.core.personal_data import PersonalDataError
from propfee.core.roles import Capability, role_can
from propfee.estates.models import Building, Estate
from propfee.estates.selectors import estates_visible_to, scope_for


class StandardPagination(PageNumberPagination):
    """50 rows a page by default; `?page_size=` up to 500."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


# Ids in URLs, bodies and filters are bounded (see core.identifiers): a larger number is a
# 404 or a 400, never a query the database cannot bind.
ID_LOOKUP_REGEX = f"[0-9]{{1,{ID_MAX_DIGITS}}}"


def IdField(**kwargs: Any) -> serializers.IntegerField:
    """An id in a request body: an integer from 1 to ID_MAX."""
    return serializers.IntegerField(min_value=1, max_value=ID_MAX, **kwargs)


class IdFilter(filters.NumberFilter):
    """`?party=12`: an integer id from 1 to ID_MAX; anything else is a 400."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(*args, **kwargs)


class UserError(exceptions.APIException):
    """A write refused by a domain rule: 400 with the service's (Chinese) message."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "请求无效"
    default_code = "invalid"


def capability_denied_message(capability: str) -> str:
    try:
        label = str(Capability(capability).label)
    except ValueError:
        label = capability
    return f"没有权限：{label}"


class CapabilityPermission(BasePermission):
    """Reads need the view's `read_capability`; a write action needs its entry in
    `write_capabilities`. Collection actions are checked up front; detail actions only after
    the object was found in the caller's scope, so an object outside it is 404 for any role."""

    message = "没有权限"

    def _holds(self, request: Request, capability: str | None) -> bool:
        if capability is None or role_can(request.user, capability):  # type: ignore[arg-type]
            return True
        self.message = capability_denied_message(capability)
        return False

    def has_permission(self, request: Request, view: Any) -> bool:
        if not self._holds(request, getattr(view, "read_capability", None)):
            return False
        if getattr(view, "detail", False):
            return True
        return self._holds(request, getattr(view, "write_capabilities", {}).get(view.action))

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        return self._holds(request, getattr(view, "write_capabilities", {}).get(view.action))


class DomainErrorsMixin:
    """Turns what the services raise into HTTP answers: a missing capability → 403, a refused
    write (`user_errors`) → 400 with its message."""

    user_errors: tuple[type[Exception], ...] = (PersonalDataError,)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, roles.PermissionDenied):
            exc = exceptions.PermissionDenied(capability_denied_message(str(exc)))
        elif isinstance(exc, self.user_errors):
            exc = UserError(str(exc))
        return super().handle_exception(exc)  # type: ignore[misc]


# --- /api/v1/me/ -------------------------------------------------------------------------


class CompanyBriefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class ScopeBuildingSerializer(serializers.Serializer):
    estate = serializers.CharField(help_text="项目编码")
    code = serializers.CharField(help_text="楼栋编码")
    name = serializers.CharField()


class ScopeSerializer(serializers.Serializer):
    all_estates = serializers.BooleanField(help_text="是否可见本公司全部项目")
    estates = serializers.ListField(child=serializers.CharField(), help_text="整项目负责的项目编码")
    buildings = ScopeBuildingSerializer(many=True, help_text="单独负责的楼栋")


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    display_name = serializers.CharField()
    role = serializers.ChoiceField(choices=roles.Role.choices)
    role_display = serializers.CharField()
    is_superuser = serializers.BooleanField()
    company = CompanyBriefSerializer(allow_null=True)
    capabilities = serializers.ListField(child=serializers.ChoiceField(choices=Capability.choices))
    scope = ScopeSerializer()


def me_payload(user: User) -> dict[str, Any]:
    scope = scope_for(user)
    if scope.all:
        estate_codes = list(
            estates_visible_to(user).order_by("code").values_list("code", flat=True)
        )
    else:
        estate_codes = list(
            Estate.objects.filter(pk__in=scope.estate_ids)
            .order_by("code")
            .values_list("code", flat=True)
        )
    buildings = (
        Building.objects.filter(pk__in=scope.building_ids)
        .select_related("estate")
        .order_by("estate__code", "code")
    )
    company = user.company
    return {
        "username": user.username,
        "display_name": str(user),
        "role": user.role,
        "role_display": user.get_role_display(),  # type: ignore[attr-defined]
        "is_superuser": user.is_superuser,
        "company": {"code": company.code, "name": company.name} if company else None,
        "capabilities": [c for c in Capability.values if role_can(user, c)],
        "scope": {
            "all_estates": scope.all,
            "estates": estate_codes,
            "buildings": [
                {"estate": b.estate.code, "code": b.code, "name": b.name} for b in buildings
            ],
        },
    }


class MeView(APIView):
    """The signed-in staff user: name, role, company, capabilities and scope."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeSerializer, operation_id="me_retrieve", tags=["auth"])
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(me_payload(request.user)).data)  # type: ignore[arg-type]


class LoginLockedOut(exceptions.APIException):
    """Too many failed sign-ins from this username or address: 429 until the cool-off ends."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "login_locked_out"


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="API 令牌")
    expires_at = serializers.DateTimeField(help_text="到期时间")


@extend_schema(tags=["auth"])
class TokenObtainView(ObtainAuthToken):
    """POST username and password → `{"token": "…", "expires_at": "…"}`; send it as
    `Authorization: Token …`. DELETE revokes the caller's token. Repeated failures lock the
    username and the address out for a while (429)."""

    def get_permissions(self) -> list[BasePermission]:
        if self.request.method == "DELETE":
            return [IsAuthenticated()]
        return []

    @extend_schema(responses={200: TokenSerializer, 429: None}, operation_id="auth_token_create")
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        valid = serializer.is_valid()
        # axes marks the request it refused (or locked out with this very failure).
        if getattr(request, "axes_locked_out", False):
            raise LoginLockedOut(lockout_message())
        if not valid:
            raise exceptions.ValidationError(serializer.errors)
        token = api_token_obtain(user=serializer.validated_data["user"])
        return Response(
            TokenSerializer({"token": token.key, "expires_at": api_token_expires_at(token)}).data
        )

    @extend_schema(request=None, responses={204: None}, operation_id="auth_token_destroy")
    def delete(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        api_token_revoke(user=request.user, actor=request.user)  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)
