"""Training services: every write, one transaction each."""
