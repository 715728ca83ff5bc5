"""Public training pages (mounted at /training/): the course calendar, registration, AEDs."""

from django.urls import path

from training.views import aeds, courses, rescue

app_name = "training"

urlpatterns: list = [
    path("", courses.course_calendar, name="calendar"),
    path("calendar.ics", courses.calendar_feed, name="feed"),
    path("sessions/<int:pk>/", courses.session_detail, name="session"),
    path("sessions/<int:pk>.ics", courses.session_feed, name="session_feed"),
    path("sessions/<int:pk>/register/", courses.RegistrationSignupView.as_view(), name="register"),
    path("r/<str:token>/", courses.RegistrationManageView.as_view(), name="manage"),
    path("aeds/", aeds.aed_list, name="aeds"),
    path("aeds.geojson", aeds.aed_geojson, name="aeds_geojson"),
    path("rescue-cases/", rescue.rescue_case_list, name="rescue_cases"),
    path("rescue-cases/<int:pk>/", rescue.rescue_case_detail, name="rescue_case"),
]
