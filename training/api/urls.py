"""The training app's staff API routes, mounted at /api/training/ by the project's URL configuration."""

from rest_framework.routers import SimpleRouter

router = SimpleRouter()

urlpatterns = router.urls
