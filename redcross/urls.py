from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from redcross import verification_views, views
from redcross.api import BranchViewSet
from redcross.api_docs import ApiDocsView, OpenDataIndex
from redcross.public_forms import ConsentManageView

# The kernel's own routes; each app mounts its API by name below, so importing the project's
# URLs imports no app module until Django resolves them.
router = DefaultRouter()
router.register("branches", BranchViewSet, basename="branch")

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("i18n/setlang/", views.set_language, name="set_language"),
    # the one verification page of every numbered document (redcross.verification)
    path("verify/", verification_views.verify_lookup, name="verify_lookup"),
    path("verify/<str:code>/", verification_views.verify_document, name="verify_document"),
    # a consent given online, seen and withdrawn through its private link (redcross.public_forms)
    path("consent/<str:token>/", ConsentManageView.as_view(), name="consent_manage"),
    path("donations/", include("donations.urls")),
    path("disclosure/", include("donations.public_urls")),
    path("training/", include("training.urls")),
    path("relief/", include("relief.urls")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", ApiDocsView.as_view(url_name="api-schema"), name="api-docs"),
    # open data: read-only, no login, throttled
    path("api/public/", OpenDataIndex.as_view(), name="api-public-index"),
    path("api/public/", include("donations.api.public_urls")),
    path("api/", include("donations.api.urls")),
    path("api/training/", include("training.api.urls")),
    path("api/relief/", include("relief.api.urls")),
    path("api/", include(router.urls)),
]
# Media files (receipts, attachments) are never served from a public URL: views check access.

handler403 = "redcross.views.permission_denied"
handler404 = "redcross.views.page_not_found"
handler500 = "redcross.views.server_error"
