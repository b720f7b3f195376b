"""计费 URLs (namespace "billing")."""

from django.urls import path

from propfee.billing import views

app_name = "billing"
urlpatterns = [
    path("", views.run_list, name="run_list"),
    path("new/", views.run_new, name="run_new"),
    path("<id:pk>/", views.run_detail, name="run_detail"),
    path("<id:pk>/reverse/", views.run_reverse, name="run_reverse"),
    path("setup/", views.setup, name="setup"),
    path("setup/<id:pk>/fee-items/", views.fee_item_new, name="fee_item_new"),
    path("setup/<id:pk>/tariffs/", views.tariff_new, name="tariff_new"),
    path("setup/<id:pk>/contract/", views.contract_version_new, name="contract_version_new"),
]
