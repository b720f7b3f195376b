"""URL map: staff UI at / (billing pages at /billing/), REST API at /api/v1/, schema and docs
(signed-in staff only), Django admin for superusers."""

from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("propfee.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "api/docs/",
        login_required(
            SpectacularSwaggerSplitView.as_view(
                url_name="api-schema", template_name="web/api_docs.html"
            )
        ),
        name="api-docs",
    ),
    path("", include("propfee.web.auth_urls")),
    path("billing/", include("propfee.billing.urls")),
    path("reports/", include("propfee.analytics.urls")),
    path("messaging/", include("propfee.messaging.urls")),
    path("documents/", include("propfee.documents.urls")),
    path("collection/", include("propfee.collection.urls")),
    path("", include("propfee.web.urls")),
]
