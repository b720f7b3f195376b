"""Staff UI URLs (namespace "web"). Login, logout and password change are in auth_urls."""

from django.urls import path

from propfee.web.views import (
    account,
    audit,
    dashboard,
    estates,
    imports,
    parties,
    unit_writes,
    units,
    waivers,
)

app_name = "web"
urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("estates/", estates.estate_list, name="estate_list"),
    path("estates/<str:code>/", estates.estate_detail, name="estate_detail"),
    path(
        "estates/<str:code>/buildings/<str:building_code>/",
        estates.building_detail,
        name="building_detail",
    ),
    path("units/", units.unit_list, name="unit_list"),
    path("units/building-options/", units.building_options, name="building_options"),
    path("units/<str:code>/", units.unit_detail, name="unit_detail"),
    path(
        "units/<str:code>/occupants/<id:occupancy_id>/reveal/",
        units.occupant_reveal,
        name="occupant_reveal",
    ),
    path("units/<str:code>/edit/", unit_writes.unit_edit, name="unit_edit"),
    path("units/<str:code>/occupants/add/", unit_writes.occupant_add, name="occupant_add"),
    path(
        "units/<str:code>/occupants/<id:occupancy_id>/edit/",
        unit_writes.occupant_edit,
        name="occupant_edit",
    ),
    path(
        "units/<str:code>/occupants/<id:occupancy_id>/end/",
        unit_writes.occupancy_end,
        name="occupancy_end",
    ),
    path("units/<str:code>/payments/add/", unit_writes.payment_add, name="payment_add"),
    path(
        "units/<str:code>/charges/<id:charge_id>/waiver/",
        waivers.waiver_request_add,
        name="waiver_request_add",
    ),
    path(
        "units/<str:code>/waivers/<id:waiver_id>/reverse/",
        waivers.waiver_reverse_view,
        name="waiver_reverse",
    ),
    path("waivers/", waivers.waiver_request_list, name="waiver_request_list"),
    path("waivers/limits/", waivers.waiver_limits, name="waiver_limits"),
    path(
        "waivers/<id:pk>/approve/",
        waivers.waiver_request_approve_view,
        name="waiver_request_approve",
    ),
    path(
        "waivers/<id:pk>/reject/",
        waivers.waiver_request_reject_view,
        name="waiver_request_reject",
    ),
    path("units/<str:code>/transfer/", unit_writes.ownership_transfer, name="ownership_transfer"),
    path("parties/", parties.party_list, name="party_list"),
    path("audit/", audit.audit_list, name="audit_list"),
    path("accounts/api-token/", account.api_token, name="api_token"),
    path("accounts/lockouts/", account.login_lockout_list, name="login_lockout_list"),
    path("imports/", imports.import_upload, name="import_upload"),
    path("imports/confirm/", imports.import_confirm, name="import_confirm"),
    path("imports/cancel/", imports.import_cancel, name="import_cancel"),
    path("imports/templates/<str:kind>.xlsx", imports.import_template, name="import_template"),
]
