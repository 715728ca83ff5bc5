"""Public donor self-service and verification pages (mounted at /donations/)."""

from django.urls import path

from donations.views import lookup as views

app_name = "donations"

urlpatterns = [
    path("lookup/", views.lookup, name="lookup"),
    path("d/<str:token>/", views.donation, name="donation"),
    path("d/<str:token>/receipt.pdf", views.receipt_pdf, name="receipt_pdf"),
    path("d/<str:token>/certificate.pdf", views.certificate_pdf, name="certificate_pdf"),
    path("verify/<str:code>/", views.certificate_verify, name="certificate_verify"),
    path(
        "receipts/verify/<str:invoice_code>/<str:number>/<str:check_code>/",
        views.receipt_verify,
        name="receipt_verify",
    ),
]
