"""Public training pages (mounted at /training/): the course calendar, registration, AEDs."""

from django.urls import path  # noqa: F401

app_name = "training"

urlpatterns: list = []
