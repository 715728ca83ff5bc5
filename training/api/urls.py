"""The training app's staff API routes, mounted at /api/training/ by the project's URL configuration."""

from rest_framework.routers import SimpleRouter

from training.api.plans import TrainingPlanViewSet
from training.api.sessions import AttendanceViewSet, SessionViewSet

router = SimpleRouter()
router.register("plans", TrainingPlanViewSet, basename="training-plan")
router.register("sessions", SessionViewSet, basename="training-session")
router.register("attendance", AttendanceViewSet, basename="training-attendance")

urlpatterns = router.urls
