"""Telling people about reports as they move: units, reporters and +1s, area alerts, feeds
and webhooks.

A write path (``reports.create_report``, ``workflow._apply``, ``citizens.plus_one``, an alert
subscription) defers a job with ``gs_defer`` in its own transaction: the outbox. The worker
(``geo-service worker``, procrastinate on the same database) fans each event out into
``messages`` (one per recipient, unique per cause and recipient), each delivered by its own
job with retries and backoff; what still fails after the last try waits for an admin
(``/api/v1/outbox``: list, retry, discard). A request never waits for mail.
"""
