"""The relief app's staff API (DRF), one module per concern; routes in ``urls.py``.

Every write calls the service the admin calls (``relief/services/``); rows are branch-scoped as
in the admin, and a beneficiary's details are masked for staff without the relief roles."""
