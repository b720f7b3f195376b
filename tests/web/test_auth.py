"""Sign-in pages and the login requirement of every staff page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

STAFF_PAGES = [
    "/",
    "/estates/",
    "/units/",
    "/units/DEMO-3-1502/",
    "/parties/",
    "/audit/",
    "/imports/",
    "/accounts/password/",
]


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_staff_pages_redirect_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={path}"


def test_login_page_is_chinese_and_signs_in(client, collector):
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    assert "员工登录" in page.text
    response = client.post(
        "/accounts/login/", {"username": "collector1", "password": PASSWORD, "next": "/units/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/units/"
    assert client.get("/").status_code == 200


def test_login_with_a_wrong_password_says_so(client, collector):
    response = client.post("/accounts/login/", {"username": "collector1", "password": "nope"})
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.text


def test_logout_is_a_post(signed_in, collector):
    client = signed_in(collector)
    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert client.get("/").status_code == 302


def test_password_change(signed_in, collector):
    client = signed_in(collector)
    page = client.get("/accounts/password/")
    assert "修改密码" in page.text
    response = client.post(
        "/accounts/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "Xq7-new-passphrase",
            "new_password2": "Xq7-new-passphrase",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("password_change_done")
    assert "密码已修改" in client.get(response["Location"]).text
    collector.refresh_from_db()
    assert collector.check_password("Xq7-new-passphrase")


def test_user_menu_has_password_change_and_logout(signed_in, collector):
    page = signed_in(collector).get("/").text
    assert 'href="/accounts/password/"' in page
    assert 'action="/accounts/logout/"' in page
    assert "退出登录" in page
