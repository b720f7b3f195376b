"""The whole REST API driven from its own OpenAPI schema (schemathesis): every operation of
`/api/schema/` gets 20 generated requests — valid and invalid bodies, query parameters and path
ids — sent in-process to Django's WSGI application on the test database, as a company admin
with a token. No request may make the server answer 5xx, and every documented answer must match
its schema.

Deterministic (`derandomize`) and bounded: no shrinking, no example database; about 25 s of CPU
on SQLite. `status_code_conformance` is not checked: the schema documents each operation's
success answers, not DRF's 400/403/404, which are answered on purpose."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from propfee.wsgi import application

EXAMPLES_PER_OPERATION = 20
CHECKS = [not_a_server_error, response_schema_conformance]


@pytest.fixture
def wsgi_in_test_transaction(db):
    """Django's WSGI handler as Django's test client runs it: the end of a request must not
    close the connection that holds the test's transaction (on PostgreSQL it would)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield application
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _token_restore(user, key: str) -> None:
    """The caller's token as it was: a generated request may revoke or rotate it (`DELETE
    /auth/token/`, a password change), and every later request must still be the admin's."""
    Token.objects.filter(user=user).exclude(key=key).delete()
    Token.objects.get_or_create(key=key, defaults={"user": user})


def test_no_operation_answers_a_server_error_or_breaks_its_schema(
    wsgi_in_test_transaction, world, admin_user
):
    token = Token.objects.create(user=admin_user)
    # The token, not a session: the schema itself may require a signed-in caller.
    headers = {"Authorization": f"Token {token.key}"}
    schema = schemathesis.openapi.from_wsgi(
        "/api/schema/?format=json", application, headers=headers
    )
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20  # every operation of the estates API, auth and me

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def exercise(case):
            _token_restore(admin_user, token.key)
            case.call_and_validate(headers=headers, checks=CHECKS)

        # One operation's failure must not hide the others': collect them all, then report.
        try:
            exercise()
        except (Exception, BaseExceptionGroup) as failure:
            failures.append(f"{operation.label}: {str(failure)[:3000]}")
    assert not failures, "\n\n".join(failures)
