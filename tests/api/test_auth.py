"""API authentication (token and session) and `GET /api/v1/me/`."""

from __future__ import annotations

from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from propfee.core.roles import Role
from tests.conftest import PASSWORD
from tests.factories import BuildingFactory


def test_token_obtain_and_use(world, collector):
    client = APIClient()
    response = client.post(
        "/api/v1/auth/token/", {"username": "collector1", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert Token.objects.get(user=collector).key == token

    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = client.get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["username"] == "collector1"
    assert client.get("/api/v1/units/DEMO-3-1502/").status_code == 200


def test_token_wrong_password_and_bad_token(world, collector):
    client = APIClient()
    response = client.post(
        "/api/v1/auth/token/", {"username": "collector1", "password": "wrong"}, format="json"
    )
    assert response.status_code == 400
    assert "token" not in response.json()

    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = client.get("/api/v1/units/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_inactive_user_token_is_refused(world, collector):
    token = Token.objects.create(user=collector)
    collector.is_active = False
    collector.save()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/api/v1/me/").status_code == 401


def test_session_login(world, collector):
    client = APIClient()
    assert client.login(username="collector1", password=PASSWORD)
    assert client.get("/api/v1/units/").json()["count"] == 1


def test_session_writes_need_csrf(world, admin_user):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(admin_user)
    response = client.post("/api/v1/estates/", {"code": "NEW1", "name": "新"}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_anonymous_me_is_401(anon):
    assert anon.get("/api/v1/me/").status_code == 401


def test_me_for_a_scoped_collector(world, make_user, client_for):
    tower = BuildingFactory(estate=world.other_estate, code="7", name="7栋")
    user = make_user(
        Role.COLLECTOR,
        username="wang",
        display_name="王小明",
        estates=[world.estate],
        buildings=[tower],
    )
    assert client_for(user).get("/api/v1/me/").json() == {
        "username": "wang",
        "display_name": "王小明",
        "role": "collector",
        "role_display": "催收专员",
        "is_superuser": False,
        "company": {"code": "ACME", "name": "安家物业"},
        "capabilities": [
            "view_estates",
            "view_units",
            "view_parties",
            "reveal_personal_data",
            "view_outbox",
            "send_messages",
            "request_waivers",
            "view_reports",
            "issue_documents",
            "work_cases",
        ],
        "scope": {
            "all_estates": False,
            "estates": ["DEMO"],
            "buildings": [{"estate": "WEST", "code": "7", "name": "7栋"}],
        },
    }


def test_me_for_admin_and_committee(world, admin_user, staff, client_for):
    me = client_for(admin_user).get("/api/v1/me/").json()
    assert me["role"] == "admin"
    assert me["scope"] == {"all_estates": True, "estates": ["DEMO", "WEST"], "buildings": []}
    assert "manage_company" in me["capabilities"]

    committee = client_for(staff(Role.COMMITTEE)).get("/api/v1/me/").json()
    assert committee["capabilities"] == ["view_estates"]
    assert committee["scope"]["estates"] == ["DEMO"]
