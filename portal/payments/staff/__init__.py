"""Staff pages about payments: reconciliation (``routes.py``), issues and refunds."""
