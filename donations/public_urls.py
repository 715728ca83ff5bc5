"""Public disclosure pages, mounted at /disclosure/."""

from django.urls import path

from donations.views import bulletins as bulletin_views
from donations.views import public as public_views

app_name = "disclosure"

urlpatterns = [
    path("", public_views.honor_roll, name="index"),
    path("honor-roll.csv", public_views.honor_roll_csv, name="honor_roll_csv"),
    path("donations/<str:serial>/", public_views.donation_page, name="donation"),
    path("campaigns/", public_views.campaign_list, name="campaigns"),
    path("campaigns/<slug:slug>/", public_views.campaign_page, name="campaign"),
]

# bulletins (公示) and disclosure deadlines
urlpatterns += [
    path("bulletins/", bulletin_views.bulletin_archive, name="bulletins"),
    path("bulletins/feed.atom", bulletin_views.BulletinFeed(), name="bulletins_feed"),
    path("bulletins/verify/", bulletin_views.bulletin_verify, name="bulletin_verify"),
    path("bulletins/<str:code>/<str:kind>/<int:number>/", bulletin_views.bulletin_detail, name="bulletin"),
    path(
        "bulletins/<str:code>/<str:kind>/<int:number>/content.json",
        bulletin_views.bulletin_content_json,
        name="bulletin_json",
    ),
    path("bulletins/<str:code>/<str:kind>/<int:number>/pdf/", bulletin_views.bulletin_pdf, name="bulletin_pdf"),
    path("deadlines/", bulletin_views.disclosure_deadlines, name="deadlines"),
]
