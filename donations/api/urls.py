"""The donations app's staff API routes, mounted at /api/ by the project's URL configuration."""

from rest_framework.routers import SimpleRouter

from donations.api.allocations import (
    AllocationPlanViewSet,
    AllocationViewSet,
    CampaignBooksViewSet,
    RecipientConfirmationViewSet,
)
from donations.api.intake import DonationViewSet, ReceiptViewSet
from donations.api.warehouse import StockMovementViewSet, WarehouseViewSet

router = SimpleRouter()
router.register("donations", DonationViewSet, basename="donation")
router.register("receipts", ReceiptViewSet, basename="receipt")
router.register("allocation-plans", AllocationPlanViewSet, basename="allocation-plan")
router.register("allocations", AllocationViewSet, basename="allocation")
router.register("recipient-confirmations", RecipientConfirmationViewSet, basename="recipient-confirmation")
router.register("stock-movements", StockMovementViewSet, basename="stock-movement")
router.register("warehouses", WarehouseViewSet, basename="warehouse")
router.register("campaign-books", CampaignBooksViewSet, basename="campaign-books")

urlpatterns = router.urls
