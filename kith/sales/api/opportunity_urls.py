"""API routes of opportunities, pipelines, the board and approvals (inside the ``sales-api`` namespace, at /api/v1/)."""

from django.urls import URLPattern, path

from kith.sales.api import opportunities as views

urlpatterns: list[URLPattern] = [
    path("opportunities/", views.OpportunityListView.as_view(), name="opportunities"),
    path("opportunities/<int:pk>/", views.OpportunityDetailView.as_view(), name="opportunity"),
    path("opportunities/<int:pk>/move/", views.OpportunityMoveView.as_view(), name="opportunity-move"),
    path(
        "opportunities/<int:pk>/approvals/",
        views.OpportunityApprovalsView.as_view(),
        name="opportunity-approvals",
    ),
    path("pipelines/", views.PipelineListView.as_view(), name="pipelines"),
    path("close-reasons/", views.CloseReasonListView.as_view(), name="close-reasons"),
    path("approvals/", views.ApprovalListView.as_view(), name="approvals"),
    path("approvals/<int:pk>/decide/", views.ApprovalDecideView.as_view(), name="approval-decide"),
]
