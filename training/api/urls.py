"""The training app's staff API routes, mounted at /api/training/ by the project's URL configuration."""

from rest_framework.routers import SimpleRouter

from training.api.aeds import AedViewSet, EquipmentBatchViewSet, EquipmentDistributionViewSet
from training.api.certificates import CertificateViewSet, ExamResultViewSet, RegistrationViewSet
from training.api.plans import TrainingPlanViewSet
from training.api.sessions import AttendanceViewSet, SessionViewSet

router = SimpleRouter()
router.register("plans", TrainingPlanViewSet, basename="training-plan")
router.register("sessions", SessionViewSet, basename="training-session")
router.register("attendance", AttendanceViewSet, basename="training-attendance")
router.register("registrations", RegistrationViewSet, basename="training-registration")
router.register("exam-results", ExamResultViewSet, basename="training-exam-result")
router.register("certificates", CertificateViewSet, basename="training-certificate")
router.register("equipment-batches", EquipmentBatchViewSet, basename="training-equipment-batch")
router.register("equipment-distributions", EquipmentDistributionViewSet, basename="training-equipment-distribution")
router.register("aeds", AedViewSet, basename="training-aed")

urlpatterns = router.urls
