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
    path("runs/<int:pk>/", views.run_detail, name="run_detail"),
    # 催收策略
    path("policies/", policy_views.policy_list, name="policy_list"),
    path("policies/import/", policy_views.policy_import, name="policy_import"),
    path("policies/<int:pk>/", policy_views.policy_detail, name="policy_detail"),
    path("policies/<int:pk>/edit/", policy_views.policy_edit, name="policy_edit"),
    path("policies/<int:pk>/export/", policy_views.policy_export, name="policy_export"),
    path(
        "policies/estates/<int:estate_id>/",
        policy_views.estate_policy_choose,
        name="estate_policy_choose",
    ),
    path("today/", workbench.today, name="today"),
    path("cases/", workbench.case_list, name="case_list"),
    path("cases/<int:pk>/", workbench.case_detail, name="case_detail"),
    path("cases/<int:pk>/contact/", workbench.contact_new, name="contact_new"),
    path("cases/<int:pk>/message/", workbench.case_message, name="case_message"),
    path("cases/<int:pk>/reveal/", workbench.payer_reveal, name="payer_reveal"),
    path("cases/<int:pk>/timeline/", workbench.case_timeline_more, name="case_timeline"),
    path("cases/<int:pk>/stage/<str:direction>/", workbench.case_stage, name="case_stage"),
    path("cases/<int:pk>/reasons/", workbench.case_reasons, name="case_reasons"),
    path("cases/<int:pk>/collector/", workbench.case_collector, name="case_collector"),
    path(
        "cases/<int:pk>/promises/<int:promise_id>/cancel/",
        workbench.promise_withdraw,
        name="promise_cancel",
    ),
    path("tasks/<int:pk>/done/", workbench.task_done, name="task_done"),
    path("tasks/<int:pk>/reschedule/", workbench.task_move, name="task_reschedule"),
    # 分期、暂停、服务问题、法律事务、诉讼时效
    path("plans/", plan_views.plan_list, name="plan_list"),
    path("plans/new/", plan_views.plan_new, name="plan_new"),
    path("plans/<int:pk>/approve/", plan_views.plan_approve, name="plan_approve"),
    path("plans/<int:pk>/reject/", plan_views.plan_reject, name="plan_reject"),
    path("holds/", issue_views.hold_list, name="hold_list"),
    path("holds/new/", issue_views.hold_new, name="hold_new"),
    path("holds/<int:pk>/release/", issue_views.hold_release_view, name="hold_release"),
    path("issues/", issue_views.issue_list, name="issue_list"),
    path("issues/new/", issue_views.issue_new, name="issue_new"),
    path("issues/<int:pk>/", issue_views.issue_detail, name="issue_detail"),
    path("legal/", legal_views.legal_list, name="legal_list"),
    path("legal/new/", legal_views.legal_new, name="legal_new"),
    path("legal/<int:pk>/", legal_views.legal_detail, name="legal_detail"),
    path("legal/<int:pk>/evidence/", legal_views.legal_evidence, name="legal_evidence"),
    path("limitation/", legal_views.limitation_list, name="limitation_list"),
    # 催收看板
    path("board/", manager_views.board, name="board"),
    path("board/overdue-tasks/", manager_views.overdue_task_list, name="overdue_tasks"),
    path("board/approvals/<int:pk>/approve/", manager_views.stage_approve, name="stage_approve"),
    path("board/approvals/<int:pk>/reject/", manager_views.stage_reject, name="stage_reject"),
]
