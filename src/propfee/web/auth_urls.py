"""Sign-in pages with global URL names ("login", "logout", "password_change",
"password_change_done"), as Django's auth expects; the templates are the staff UI's."""

from django.contrib.auth import views as auth_views
from django.urls import path

from propfee.web.forms import PasswordChangeForm

urlpatterns = [
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            template_name="web/auth/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(
            template_name="web/auth/password_change.html", form_class=PasswordChangeForm
        ),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name="web/auth/password_change_done.html"
        ),
        name="password_change_done",
    ),
]
