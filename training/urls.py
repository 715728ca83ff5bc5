"""Public training pages (mounted at /training/): the course calendar, registration, AEDs."""

from django.urls import path

from training.views import aeds, rescue

app_name = "training"

urlpatterns: list = [
    path("aeds/", aeds.aed_list, name="aeds"),
    path("aeds.geojson", aeds.aed_geojson, name="aeds_geojson"),
    path("rescue-cases/", rescue.rescue_case_list, name="rescue_cases"),
    path("rescue-cases/<int:pk>/", rescue.rescue_case_detail, name="rescue_case"),
]
