"""The collection strategy: buckets, stages and their contacts, saved as versions.

- ``services``: the strategy in force, its validation, saving a new version, the history.
- ``forms``: the strategy page's form.
- ``routes``: the strategy page (blueprint ``collections_strategy``).
"""
