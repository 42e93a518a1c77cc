"""Load testing the tracking pipeline: the generator, the monitor and their bookkeeping.

The management commands ``load_test_tracking_events`` and ``monitor_load_test_tracking`` are
thin wrappers around :mod:`.generator` and :mod:`.monitor`.
"""
