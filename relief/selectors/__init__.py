"""Relief selectors: the reads pages, the API, reports and the nightly check share."""
