"""Hardship: a borrower's declaration (reason, details, documents), the hardship-review hold on
collection contact, and an admin's decision (a pause, a waiver, a referral to a plan, or no
change), told to the borrower through the outbox."""
