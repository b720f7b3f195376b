"""报表与分析 URLs (namespace "analytics")."""

from django.urls import path

from propfee.analytics import views

app_name = "analytics"
urlpatterns = [
    path("", views.report_index, name="index"),
    path("aging/", views.aging, name="aging"),
    path("arrears/", views.arrears, name="arrears"),
    path("buildings/", views.buildings, name="buildings"),
    path("collection-rate/", views.collection_rate, name="collection_rate"),
]
