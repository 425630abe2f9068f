"""Cases as collectors work them: the queue, who may open a case, its page, and its actions.

- ``access``: who may open a case; loading it (locked for changes).
- ``queue``: the work queue in priority order, one query a page.
- ``profile``: the case page's borrower, loans and masked contact data; audited reveal.
- ``timeline``: every event of a case, merged, in a fixed number of queries.
- ``actions``, ``promises``, ``assessments``, ``assignment``: what staff record, each audited.
- ``routes`` (blueprint ``collections_cases``): the queue, the case page and its actions;
  ``page`` renders the case page (again with a refused form's errors); ``forms``.

Every service takes ``now`` and flushes without committing; the routes commit once.
"""
