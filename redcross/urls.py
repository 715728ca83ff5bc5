from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from donations.api import DonationViewSet, ReceiptViewSet
from donations.api_allocations import register_routes as register_allocation_routes
from donations.api_public import register_public_routes
from redcross import views
from redcross.api import BranchViewSet

router = DefaultRouter()
router.register("branches", BranchViewSet, basename="branch")
router.register("donations", DonationViewSet, basename="donation")
router.register("receipts", ReceiptViewSet, basename="receipt")
register_allocation_routes(router)
# open data: read-only, no login, throttled
public_router = DefaultRouter(trailing_slash=True)
public_router.include_root_view = False
register_public_routes(public_router)

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("i18n/setlang/", views.set_language, name="set_language"),
    path("donations/", include("donations.urls")),
    path("disclosure/", include("donations.public_urls")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/public/", include(public_router.urls)),
    path("api/", include(router.urls)),
]
# Media files (receipts, attachments) are never served from a public URL: views check access.

handler404 = "redcross.views.page_not_found"
