"""One-time form submissions (`propfee.core.submission`): a token is claimed once, in the
transaction of the write; a refused write gives it back; nobody else can claim it."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from propfee.core.models import SubmissionToken
from propfee.core.roles import Role
from propfee.core.submission import (
    TOKEN_FIELD,
    SubmissionMissing,
    submission_once,
    submission_token_new,
)

pytestmark = pytest.mark.django_db


def _post(user, token: str):
    request = RequestFactory().post("/somewhere/", {TOKEN_FIELD: token})
    request.user = user
    return request


def test_a_token_runs_the_write_once_and_answers_the_first_page_again(collector):
    token, writes = submission_token_new(), []

    def save() -> tuple[str, str]:
        writes.append(1)
        return "已登记", f"/done/{len(writes)}/"

    first = submission_once(_post(collector, token), save, fallback_url="/")
    again = submission_once(_post(collector, token), save, fallback_url="/")
    assert writes == [1]
    assert (first.url, first.repeated) == ("/done/1/", False)
    assert (again.url, again.repeated, again.message) == (
        "/done/1/",
        True,
        "该表单已提交，未重复登记。",
    )


def test_a_refused_write_gives_the_token_back(collector):
    token = submission_token_new()

    def refused() -> tuple[str, str]:
        raise ValueError("不能登记")

    with pytest.raises(ValueError, match="不能登记"):
        submission_once(_post(collector, token), refused, fallback_url="/")
    assert not SubmissionToken.objects.exists()
    done = submission_once(_post(collector, token), lambda: ("好", "/ok/"), fallback_url="/")
    assert (done.url, done.repeated) == ("/ok/", False)


def test_a_token_is_nobody_elses_and_must_be_well_formed(collector, make_user, estate):
    token = submission_token_new()
    submission_once(_post(collector, token), lambda: ("好", "/ok/"), fallback_url="/")
    other = make_user(Role.COLLECTOR, username="collector2", estates=[estate])
    for user, posted in ((other, token), (collector, ""), (collector, "not-a-token")):
        with pytest.raises(SubmissionMissing, match="页面已过期"):
            submission_once(_post(user, posted), lambda: ("好", "/again/"), fallback_url="/")
    assert SubmissionToken.objects.get().user == collector
