"""The tracking sink: tracking events (the tracking log) into ClickHouse.

* :mod:`.backend`: the event-tracking backend (``EVENT_TRACKING_BACKENDS``);
* :mod:`.events`: event -> ``tracking_events`` row, PII handling;
* :mod:`.transports`: ``direct``, ``celery`` and ``event_bus``, one module each (what they
  share: :mod:`.transports.base`);
* :mod:`.buffer`: in-process batching with retries, flushed at exit;
* :mod:`.store`: the insert; :mod:`.tasks`: the Celery task; :mod:`.consumer`: the
  event-bus consumer process; :mod:`.process`: clean stops on signals;
* :mod:`.conf`: the settings, each read with its default.
"""
