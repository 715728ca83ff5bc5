"""Public training views, one module per concern (courses, AEDs)."""
