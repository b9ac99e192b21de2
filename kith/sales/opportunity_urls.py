"""Pages of opportunities, pipelines, the board and approvals (inside the ``sales`` namespace)."""

from django.urls import URLPattern, path

from kith.sales.views import opportunities as views

urlpatterns: list[URLPattern] = [
    path("", views.opportunity_list, name="opportunity_list"),
    path("board/", views.opportunity_board, name="opportunity_board"),
    path("new/", views.opportunity_create, name="opportunity_create"),
    path("<int:pk>/", views.opportunity_detail, name="opportunity_detail"),
    path("<int:pk>/edit/", views.opportunity_edit, name="opportunity_edit"),
    path("<int:pk>/delete/", views.opportunity_delete, name="opportunity_delete"),
    path("<int:pk>/move/", views.opportunity_move, name="opportunity_move"),
    path("<int:pk>/approvals/", views.approval_request, name="approval_request"),
    path("approvals/", views.approval_list, name="approval_list"),
    path("approvals/limits/", views.approval_limits, name="approval_limits"),
    path("approvals/<int:pk>/decide/", views.approval_decide, name="approval_decide"),
    path("approvals/<int:pk>/withdraw/", views.approval_withdraw, name="approval_withdraw"),
    path("pipelines/", views.pipeline_list, name="pipeline_list"),
    path("pipelines/<int:pk>/", views.pipeline_detail, name="pipeline_detail"),
    path("pipelines/<int:pk>/delete/", views.pipeline_delete, name="pipeline_delete"),
    path("pipelines/<int:pk>/stages/", views.stage_create, name="stage_create"),
    path("stages/<int:pk>/", views.stage_edit, name="stage_edit"),
    path("stages/<int:pk>/delete/", views.stage_delete, name="stage_delete"),
    path("stages/<int:pk>/move/", views.stage_move, name="stage_move"),
    path("reasons/", views.close_reason_create, name="close_reason_create"),
    path("reasons/<int:pk>/", views.close_reason_toggle, name="close_reason_toggle"),
]
