"""The borrower's contact preferences: which channels may be used for reminders and collection."""
