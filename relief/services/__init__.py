"""Relief services: every write, one transaction each, checking branch, permission and input."""
