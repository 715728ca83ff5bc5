"""The open data API (read-only, no login, throttled), mounted at /api/public/."""

from rest_framework.routers import SimpleRouter

from donations.api.public import (
    PublicAllocationViewSet,
    PublicBulletinViewSet,
    PublicCampaignViewSet,
    PublicDonationViewSet,
)

router = SimpleRouter(trailing_slash=True)
router.register("bulletins", PublicBulletinViewSet, basename="public-bulletin")
router.register("donations", PublicDonationViewSet, basename="public-donation")
router.register("campaigns", PublicCampaignViewSet, basename="public-campaign")
router.register("allocations", PublicAllocationViewSet, basename="public-allocation")

urlpatterns = router.urls
