import threading

import pytest
from django.db import connection, connections, transaction

from redcross.models import NumberSequence
from redcross.numbering import (
    NumberingError,
    format_serial,
    sequence_current,
    sequence_lock,
    sequence_next,
    sequence_next_block,
    sequence_take,
)


@pytest.mark.django_db
def test_numbers_start_at_one_and_count_up_per_scope():
    assert [sequence_take(scope="receipt:XA:2026") for _ in range(3)] == [1, 2, 3]
    assert sequence_take(scope="receipt:XA:2027") == 1
    assert sequence_current(scope="receipt:XA:2026") == 3
    assert sequence_current(scope="never-used") == 0


@pytest.mark.django_db
def test_a_rolled_back_document_gives_its_number_back():
    sequence_take(scope="s")
    with pytest.raises(RuntimeError), transaction.atomic():
        assert sequence_next(scope="s") == 2
        raise RuntimeError("document could not be saved")
    assert sequence_take(scope="s") == 2  # no gap


@pytest.mark.django_db(transaction=True)
def test_numbers_outside_a_transaction_are_refused():
    with pytest.raises(NumberingError):
        sequence_next(scope="s")
    assert not NumberSequence.objects.filter(scope="s").exists()


def test_serial_format():
    assert format_serial(prefix="XA", year=2020, number=123) == "XA2020-000123"
    assert format_serial(prefix="NN", year=2020, number=1234567) == "NN2020-1234567"


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_threads_get_twenty_distinct_gapless_numbers():
    """Each thread has its own database connection and transaction, as web workers do.

    On PostgreSQL the sequence row lock serialises them; on SQLite the
    IMMEDIATE transaction mode does.
    """
    threads_count = 20
    barrier = threading.Barrier(threads_count)
    results: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def take() -> None:
        try:
            barrier.wait(timeout=30)
            with transaction.atomic():
                number = sequence_next(scope=f"concurrent:{connection.vendor}")
            with lock:
                results.append(number)
        except BaseException as exc:  # report in the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=take) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sorted(results) == list(range(1, threads_count + 1))


@pytest.mark.django_db(transaction=True)
def test_blocks_and_single_numbers_interleave_without_gaps_or_overlaps_under_concurrency():
    """Imports take blocks of serials while clerks take single ones: every number exactly once."""
    scope = f"block:{connection.vendor}"
    sizes = [1, 50, 1, 7, 1, 120, 1, 3, 1, 1]
    barrier = threading.Barrier(len(sizes))
    taken: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def take(size: int) -> None:
        try:
            barrier.wait(timeout=30)
            with transaction.atomic():
                first = sequence_next_block(scope=scope, count=size)
            with lock:
                taken.extend(range(first, first + size))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=take, args=(size,)) for size in sizes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sorted(taken) == list(range(1, sum(sizes) + 1))
    assert sequence_current(scope=scope) == sum(sizes)


@pytest.mark.django_db
def test_a_rolled_back_block_gives_its_numbers_back_and_empty_blocks_are_refused():
    with pytest.raises(RuntimeError), transaction.atomic():
        assert sequence_next_block(scope="rollback-block", count=10) == 1
        raise RuntimeError("the import failed")
    with transaction.atomic():
        assert sequence_next_block(scope="rollback-block", count=2) == 1
        assert sequence_next(scope="rollback-block") == 3
        with pytest.raises(ValueError):
            sequence_next_block(scope="rollback-block", count=0)


@pytest.mark.django_db(transaction=True)
def test_locking_a_scope_takes_no_number_and_needs_a_transaction():
    with pytest.raises(NumberingError):
        sequence_lock(scope="receipt:XA:2026")
    sequence_take(scope="receipt:XA:2026")
    with transaction.atomic():
        assert sequence_lock(scope="receipt:XA:2026") == 1
        assert sequence_lock(scope="receipt:XB:2026") == 0  # a scope never used gets its row
    assert sequence_take(scope="receipt:XA:2026") == 2
