"""Staff forms of the donations app, one module per concern (used by ``donations/admin/``)."""
