"""The plan's progress arithmetic: percentages, rates and the ETA."""

import unittest

from hypothesis import given
from hypothesis import strategies as st

from watcher_maintenance.planning.progress import PlanEta
from watcher_maintenance.planning.progress import Transfer

GiB = 1024 ** 3


def transfer(total, copied):
    return Transfer(total=total, processed=copied, remaining=total - copied)


class TestTransfer(unittest.TestCase):

    def test_percent_is_the_memory_no_longer_remaining(self):
        self.assertEqual(25.0, transfer(4 * GiB, GiB).percent)
        # Pages sent again after the guest dirtied them count in
        # processed, not in the percentage.
        self.assertEqual(50.0, Transfer(4 * GiB, 6 * GiB, 2 * GiB).percent)

    def test_nonsense_counters_stay_within_0_and_100(self):
        self.assertEqual(0.0, Transfer(0, 0, 0).percent)
        self.assertEqual(0.0, Transfer(GiB, 0, 2 * GiB).percent)
        self.assertEqual(100.0, Transfer(GiB, GiB, -5).percent)


class TestPlanEta(unittest.TestCase):

    def test_no_estimate_before_any_progress_is_seen(self):
        eta = PlanEta()
        self.assertIsNone(eta.observe(0, {}, 4 * GiB).eta)
        first = eta.observe(1, {'m1': transfer(4 * GiB, 0)}, 4 * GiB)
        self.assertEqual({'m1': None}, dict(first.rates))
        self.assertIsNone(first.eta)
        self.assertEqual(8 * GiB, first.bytes_left)

    def test_observed_rate_applied_to_running_and_waiting_guests(self):
        eta = PlanEta()
        eta.observe(10, {'m1': transfer(4 * GiB, 0)}, 4 * GiB)
        now = eta.observe(12, {'m1': transfer(4 * GiB, GiB)}, 4 * GiB)
        self.assertEqual(GiB / 2, now.rates['m1'])
        self.assertEqual(GiB / 2, now.throughput)
        # 3 GiB left of m1 and 4 GiB waiting, at 0.5 GiB/s.
        self.assertEqual(7 * GiB, now.bytes_left)
        self.assertEqual(14.0, now.eta)

    def test_refined_when_a_migration_finishes(self):
        eta = PlanEta()
        eta.observe(0, {'m1': transfer(4 * GiB, 0)}, 4 * GiB)
        eta.observe(2, {'m1': transfer(4 * GiB, GiB)}, 4 * GiB)
        # m1 finished faster than it started; m2 has just begun.
        now = eta.observe(4, {'m2': transfer(4 * GiB, 0)}, 0)
        self.assertEqual(GiB, now.throughput)      # 4 GiB in 4 s
        self.assertEqual(4.0, now.eta)
        self.assertEqual({'m2': None}, dict(now.rates))

    def test_parallel_migrations_add_up(self):
        eta = PlanEta()
        eta.observe(0, {'a': transfer(2 * GiB, 0), 'b': transfer(2 * GiB, 0)})
        now = eta.observe(1, {'a': transfer(2 * GiB, GiB),
                              'b': transfer(2 * GiB, GiB)})
        self.assertEqual(2 * GiB, now.throughput)
        self.assertEqual(1.0, now.eta)

    def test_nothing_left_once_everything_finished(self):
        eta = PlanEta()
        eta.observe(0, {'m1': transfer(GiB, 0)})
        self.assertEqual(0.0, eta.observe(1, {}, 0).eta)

    @given(st.lists(st.integers(1, 64), min_size=1, max_size=6),
           st.integers(1, 8))
    def test_a_steady_rate_gives_the_exact_eta(self, sizes, rate):
        """Guests migrated one after another at a steady rate: after the
        first reading, the ETA is the time the rest really takes."""
        sizes = [s * rate for s in sizes]     # whole seconds each
        eta, now, seen = PlanEta(), 0, 0
        for index, size in enumerate(sizes):
            waiting = sum(sizes[index + 1:])
            for second in range(size // rate + 1):
                copied = min(second * rate, size)
                if copied == size:
                    break
                estimate = eta.observe(now, {str(index): transfer(
                    size, copied)}, waiting)
                seen += 1
                if seen > 1:
                    self.assertAlmostEqual(
                        (size - copied + waiting) / rate, estimate.eta)
                now += 1
