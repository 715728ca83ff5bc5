"""Staff forms of the relief admin: they parse the input; the services in ``relief/services/`` decide."""
