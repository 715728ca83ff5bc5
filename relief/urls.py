"""Public relief pages (mounted at /relief/): projects, the online application and its status."""

from django.urls import path

from relief.views import apply, projects, status

app_name = "relief"

urlpatterns: list = [
    path("", projects.project_list, name="projects"),
    path("projects/<int:pk>/", projects.project_detail, name="project"),
    path("projects/<int:pk>/apply/", apply.ApplicationSignupView.as_view(), name="apply"),
    path("a/<str:token>/", apply.ApplicationManageView.as_view(), name="manage"),
    path("status/", status.status_lookup, name="status"),
]
