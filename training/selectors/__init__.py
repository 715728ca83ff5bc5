"""Training selectors: reads for pages, admin, reports."""
