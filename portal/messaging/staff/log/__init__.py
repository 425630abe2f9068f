"""The message log: the outbox with filters and a summary by status."""
