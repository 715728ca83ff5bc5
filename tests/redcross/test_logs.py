import logging

from redcross.logs import RedactTokensFilter


def test_donor_tokens_never_reach_the_log():
    record = logging.LogRecord(
        "django.request", logging.WARNING, __file__, 1, "Not Found: %s", ("/donations/d/Abc-123_xyz/receipt.pdf",), None
    )
    RedactTokensFilter().filter(record)
    assert "Abc-123_xyz" not in record.getMessage()
    assert record.getMessage() == "Not Found: /donations/d/…"
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, '"GET /donations/verify/AQ6AXR8GYY/ HTTP/1.1" 200', (), None
    )
    RedactTokensFilter().filter(record)
    assert "AQ6AXR8GYY" not in record.getMessage()
