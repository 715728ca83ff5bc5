"""The relief app's staff API routes, mounted at /api/relief/ by the project's URL configuration."""

from rest_framework.routers import SimpleRouter

from relief.api.aid import AidViewSet, LivelihoodShareViewSet
from relief.api.applications import ApplicationViewSet
from relief.api.beneficiaries import BeneficiaryViewSet, DuplicateViewSet
from relief.api.projects import ProjectViewSet

router = SimpleRouter()
router.register("projects", ProjectViewSet, basename="relief-project")
router.register("beneficiaries", BeneficiaryViewSet, basename="relief-beneficiary")
router.register("duplicates", DuplicateViewSet, basename="relief-duplicate")
router.register("applications", ApplicationViewSet, basename="relief-application")
router.register("aid", AidViewSet, basename="relief-aid")
router.register("livelihood-shares", LivelihoodShareViewSet, basename="relief-livelihood-share")

urlpatterns = router.urls
