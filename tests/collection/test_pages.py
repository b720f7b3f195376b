"""The runs page (/collection/runs/): the list with reports, a dry-run preview, then the
confirmed run; only managers and admins; the 催收 menu item."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from propfee.collection.models import Case, DunningRun
from propfee.collection.services import dunning_run
from propfee.core.roles import ScopeTooNarrow


@pytest.fixture
def as_manager(client, manager, company, policies):
    manager.company = company
    manager.save()
    client.force_login(manager)
    return client


def test_preview_then_confirm(as_manager, owing):
    owing("101", months=[1, 2, 3])
    response = as_manager.post(reverse("collection:run_preview"), {"as_of": "2026-04-01"})
    text = response.content.decode()
    assert response.status_code == 200
    assert "尚未写入任何数据" in text and "DEMO-3-101" in text and "温馨提醒" in text
    assert not Case.objects.exists() and not DunningRun.objects.exists()

    response = as_manager.post(
        reverse("collection:run_start"), {"as_of": "2026-04-01"}, follow=True
    )
    run = DunningRun.objects.get()
    assert response.redirect_chain[-1][0] == reverse("collection:run_detail", args=[run.pk])
    assert "催收批次已完成：新立案 1 件" in response.content.decode()
    assert Case.objects.count() == 1
    # The message is dispatched in the background.
    assert DBTaskResult.objects.filter(task_path__endswith="dunning_dispatch_task").count() == 1

    page = as_manager.get(reverse("collection:run_list")).content.decode()
    assert "2026-04-01" in page and reverse("collection:run_detail", args=[run.pk]) in page


def test_a_refused_run_says_why(as_manager, company, lock_held_elsewhere):
    response = as_manager.post(
        reverse("collection:run_preview"), {"as_of": "2026-04-01"}, follow=True
    )
    assert "正在运行中" in response.content.decode()


def test_collectors_cannot_open_runs(client, collector):
    client.force_login(collector)
    assert client.get(reverse("collection:run_list")).status_code == 403
    assert client.post(reverse("collection:run_start"), {"as_of": "2026-04-01"}).status_code == 403
    home = client.get("/").content.decode()
    assert reverse("collection:run_list") not in home


def test_menu_item_for_managers(as_manager):
    home = as_manager.get("/").content.decode()
    assert reverse("collection:run_list") in home and "催收" in home


def test_a_manager_of_one_estate_may_not_run_the_whole_company(
    as_manager, manager, admin_user, company, other_estate, owing
):
    owing("101", months=[1, 2, 3])
    # The preview stays open to them; the run acts on the other estate too.
    assert (
        as_manager.post(reverse("collection:run_preview"), {"as_of": "2026-04-01"}).status_code
        == 200
    )
    refused = as_manager.post(reverse("collection:run_start"), {"as_of": "2026-04-01"})
    assert refused.status_code == 403
    assert "涉及您负责范围以外的项目" in refused.content.decode()
    with pytest.raises(ScopeTooNarrow):
        dunning_run(company=company, as_of=dt.date(2026, 4, 1), actor=manager)
    assert not DunningRun.objects.exists()
    dunning_run(
        company=company,
        as_of=dt.date(2026, 4, 1),
        actor=admin_user,
        dispatch=False,
    )
    assert Case.objects.count() == 1
