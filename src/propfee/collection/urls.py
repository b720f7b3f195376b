"""催收 URLs (namespace "collection")."""

from django.urls import path

from propfee.collection import (
    issue_views,
    legal_views,
    manager_views,
    plan_views,
    policy_views,
    views,
    workbench,
)

app_name = "collection"
urlpatterns = [
    path("", views.run_list, name="index"),
    path("runs/", views.run_list, name="run_list"),
    path("runs/preview/", views.run_preview, name="run_preview"),
    path("runs/start/", views.run_start, name="run_start"),
    path("runs/<id:pk>/", views.run_detail, name="run_detail"),
    # 催收策略
    path("policies/", policy_views.policy_list, name="policy_list"),
    path("policies/import/", policy_views.policy_import, name="policy_import"),
    path("policies/<id:pk>/", policy_views.policy_detail, name="policy_detail"),
    path("policies/<id:pk>/edit/", policy_views.policy_edit, name="policy_edit"),
    path("policies/<id:pk>/export/", policy_views.policy_export, name="policy_export"),
    path(
        "policies/estates/<id:estate_id>/",
        policy_views.estate_policy_choose,
        name="estate_policy_choose",
    ),
    path("today/", workbench.today, name="today"),
    path("cases/", workbench.case_list, name="case_list"),
    path("cases/<id:pk>/", workbench.case_detail, name="case_detail"),
    path("cases/<id:pk>/contact/", workbench.contact_new, name="contact_new"),
    path("cases/<id:pk>/message/", workbench.case_message, name="case_message"),
    path("cases/<id:pk>/reveal/", workbench.payer_reveal, name="payer_reveal"),
    path("cases/<id:pk>/timeline/", workbench.case_timeline_more, name="case_timeline"),
    path("cases/<id:pk>/stage/<str:direction>/", workbench.case_stage, name="case_stage"),
    path("cases/<id:pk>/reasons/", workbench.case_reasons, name="case_reasons"),
    path("cases/<id:pk>/collector/", workbench.case_collector, name="case_collector"),
    path(
        "cases/<id:pk>/promises/<id:promise_id>/cancel/",
        workbench.promise_withdraw,
        name="promise_cancel",
    ),
    path(
        "attachments/<id:pk>/",
        workbench.contact_attachment_file,
        name="contact_attachment_file",
    ),
    path("tasks/<id:pk>/done/", workbench.task_done, name="task_done"),
    path("tasks/<id:pk>/reschedule/", workbench.task_move, name="task_reschedule"),
    # 分期、暂停、服务问题、法律事务、诉讼时效
    path("plans/", plan_views.plan_list, name="plan_list"),
    path("plans/new/", plan_views.plan_new, name="plan_new"),
    path("plans/<id:pk>/approve/", plan_views.plan_approve, name="plan_approve"),
    path("plans/<id:pk>/reject/", plan_views.plan_reject, name="plan_reject"),
    path("holds/", issue_views.hold_list, name="hold_list"),
    path("holds/new/", issue_views.hold_new, name="hold_new"),
    path("holds/<id:pk>/release/", issue_views.hold_release_view, name="hold_release"),
    path("issues/", issue_views.issue_list, name="issue_list"),
    path("issues/new/", issue_views.issue_new, name="issue_new"),
    path("issues/<id:pk>/", issue_views.issue_detail, name="issue_detail"),
    path("legal/", legal_views.legal_list, name="legal_list"),
    path("legal/new/", legal_views.legal_new, name="legal_new"),
    path("legal/<id:pk>/", legal_views.legal_detail, name="legal_detail"),
    path("legal/<id:pk>/evidence/", legal_views.legal_evidence, name="legal_evidence"),
    path("limitation/", legal_views.limitation_list, name="limitation_list"),
    # 催收看板
    path("board/", manager_views.board, name="board"),
    path("board/overdue-tasks/", manager_views.overdue_task_list, name="overdue_tasks"),
    path("board/approvals/<id:pk>/approve/", manager_views.stage_approve, name="stage_approve"),
    path("board/approvals/<id:pk>/reject/", manager_views.stage_reject, name="stage_reject"),
]
