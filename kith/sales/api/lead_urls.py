"""API routes of leads, assignment rules, web-to-lead forms and follow-up tasks (inside the ``sales-api`` namespace, at /api/v1/)."""

from django.urls import path

from kith.sales.api import leads as views

urlpatterns = [
    path("leads/", views.LeadListView.as_view(), name="leads"),
    path("leads/<int:pk>/", views.LeadDetailView.as_view(), name="lead"),
    path("leads/<int:pk>/convert/", views.LeadConvertView.as_view(), name="lead-convert"),
    path("lead-rules/", views.RuleListView.as_view(), name="lead-rules"),
    path("lead-rules/<int:pk>/", views.RuleDetailView.as_view(), name="lead-rule"),
    path("tasks/", views.TaskListView.as_view(), name="tasks"),
    path("tasks/<int:pk>/", views.TaskDetailView.as_view(), name="task"),
]
