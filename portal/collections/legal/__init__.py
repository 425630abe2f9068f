"""Legal escalation of collection cases: evidence, approval, the lawyer letter, outside agencies.

Modules: ``evidence`` (what the system holds about a case and the checklist), ``bundle`` (the
evidence ZIP with its manifest), ``services`` (request, approve, reject, download), ``letters``
(the lawyer letter as outbox messages, HTML and PDF), ``agency`` (placements and their CSV),
``access`` (the acting staff member; which case they may see is ``cases.access``), ``queries``
(what the pages show), ``forms``, ``errors`` and ``routes`` (blueprint ``collections_legal``).
"""
