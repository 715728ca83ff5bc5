"""Public disclosure pages, mounted at /disclosure/."""

from django.urls import path

from donations import public_views

app_name = "disclosure"

urlpatterns = [
    path("", public_views.honor_roll, name="index"),
    path("honor-roll.csv", public_views.honor_roll_csv, name="honor_roll_csv"),
    path("donations/<str:serial>/", public_views.donation_page, name="donation"),
    path("campaigns/", public_views.campaign_list, name="campaigns"),
    path("campaigns/<slug:slug>/", public_views.campaign_page, name="campaign"),
]
