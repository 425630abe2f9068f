"""Collections reports: the overdue list and its CSV export, the portfolio dashboard.

Read-only queries, each a fixed number of set-based SQL statements whatever the number of rows.
Stage and bucket names come from ``portal.collections.labels``.
"""
