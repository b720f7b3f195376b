"""操作日志 shows every audit row: rows whose changes list related objects (a contact record's
attachments, a plan's installments, a run's actions) are readable on the page and in the
export, not a 500 for the whole page."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import given, settings
from hypothesis import strategies as st

from propfee.collection.constants import ContactChannel, ContactOutcome
from propfee.collection.contacts import contact_record_create
from propfee.collection.plans import installment_plan_request
from propfee.core.models import AuditEntry
from propfee.core.roles import Role
from propfee.estates.selectors import audit_entries_visible_to
from propfee.web.audit_display import audit_changes, audit_changes_text

pytest.register_assert_rewrite("tests.collection.workbench_fixtures")
from tests.collection.workbench_fixtures import TODAY  # noqa: E402

pytest_plugins = ["tests.collection.workbench_fixtures"]

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@pytest.fixture
def audited(make_case, wb_collector, media, run):
    """A contact record with an attachment, an installment plan and a daily run, each made by
    its real service (which writes its audit row)."""
    case = make_case("1601", wb_collector)
    contact_record_create(
        case=case,
        actor=wb_collector,
        channel=ContactChannel.PHONE,
        outcome=ContactOutcome.ANSWERED,
        note="业主称月底缴清",
        attachments=[SimpleUploadedFile("通话记录.pdf", PDF, "application/pdf")],
    )
    installment_plan_request(
        unit=case.unit,
        total_fen=20000,
        count=2,
        first_due_on=TODAY + dt.timedelta(days=10),
        reason="业主失业，申请分两期",
        actor=wb_collector,
    )
    run(TODAY)
    return case


@pytest.fixture
def superuser(make_user):
    """Sees every row, the company-wide run's too."""
    return make_user(Role.ADMIN, username="root", company=None, is_superuser=True)


def test_audit_page_shows_rows_that_list_related_objects(audited, superuser, client):
    types = set(AuditEntry.objects.values_list("object_type", flat=True))
    assert {"collection.contactrecord", "collection.installmentplan"} <= types
    assert "collection.dunningrun" in types
    client.force_login(superuser)
    response = client.get("/audit/")
    assert response.status_code == 200
    page = response.text
    assert "通话记录.pdf" in page  # the contact record's attachment, by its file name
    assert "催收附件" in page or "附件" in page
    assert "2026-04-25 100.00" in page  # the plan's first installment
    assert "催收批次" in page


def test_audit_export_has_every_row_with_its_changes(audited, admin_user, client):
    client.force_login(admin_user)
    visible = audit_entries_visible_to(admin_user).count()
    response = client.get("/audit/", {"export": "xlsx"})
    assert response.status_code == 200
    content = b"".join(response.streaming_content) if response.streaming else response.content
    sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    rows = [[str(c.value or "") for c in row] for row in sheet.iter_rows()]
    header = rows[0]
    changes = header.index("修改内容")
    object_type = header.index("对象类型")
    by_type = {row[object_type]: row[changes] for row in rows[1:]}
    assert "通话记录" in by_type["催收记录"]
    assert "200.00" in by_type["分期计划"]
    assert "2026-04-25 100.00" in by_type["分期计划"]
    assert len(rows) - 1 == visible >= 3


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)
_MODELS = [m for m in apps.get_models() if m._meta.app_label in {"collection", "estates", "ledger"}]


@st.composite
def _rows(draw):
    model = draw(st.sampled_from(_MODELS))
    keys = [f.name for f in model._meta.get_fields()] + ["phones", "owners", "installments"]
    changed = st.dictionaries(st.sampled_from(keys), _JSON, max_size=4)
    return AuditEntry(
        action="update",
        object_type=model._meta.label_lower,
        before=draw(changed | st.none()),
        after=draw(changed | st.none()),
    )


@settings(max_examples=200, deadline=None, derandomize=True)
@given(entry=_rows())
def test_any_recorded_change_reads_as_text(entry):
    for change in audit_changes(entry):
        assert isinstance(change.label, str)
        assert isinstance(change.before, str)
        assert isinstance(change.after, str)
    assert isinstance(audit_changes_text(entry), str)
