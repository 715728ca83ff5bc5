"""The training app's staff API (DRF), one module per concern; routes in ``urls.py``."""
