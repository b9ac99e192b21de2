"""Pages of leads, assignment rules, web-to-lead forms and follow-up tasks (inside the ``sales`` namespace)."""

from django.urls import path

from kith.sales.views import leads as views

urlpatterns = [
    path("", views.lead_list, name="lead_list"),
    path("new/", views.lead_create, name="lead_create"),
    path("<int:pk>/", views.lead_detail, name="lead_detail"),
    path("<int:pk>/edit/", views.lead_edit, name="lead_edit"),
    path("<int:pk>/delete/", views.lead_delete, name="lead_delete"),
    path("<int:pk>/contacted/", views.lead_contacted, name="lead_contacted"),
    path("<int:pk>/qualify/", views.lead_qualify, name="lead_qualify"),
    path("<int:pk>/disqualify/", views.lead_disqualify, name="lead_disqualify"),
    path("<int:pk>/assign/", views.lead_assign, name="lead_assign"),
    path("<int:pk>/convert/", views.lead_convert, name="lead_convert"),
    path("<int:pk>/tasks/", views.task_add, name="lead_task_add"),
    path("tasks/", views.task_list, name="task_list"),
    path("tasks/<int:pk>/done/", views.task_done, name="task_done"),
    path("rules/", views.rule_list, name="lead_rule_list"),
    path("rules/new/", views.rule_create, name="lead_rule_create"),
    path("rules/<int:pk>/edit/", views.rule_edit, name="lead_rule_edit"),
    path("rules/<int:pk>/delete/", views.rule_delete, name="lead_rule_delete"),
    path("web-forms/", views.web_form_list, name="web_form_list"),
    path("web-forms/new/", views.web_form_create, name="web_form_create"),
    path("web-forms/<int:pk>/", views.web_form_detail, name="web_form_detail"),
    path("web-forms/<int:pk>/edit/", views.web_form_edit, name="web_form_edit"),
    path("web-forms/<int:pk>/delete/", views.web_form_delete, name="web_form_delete"),
]
