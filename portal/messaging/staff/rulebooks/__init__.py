"""Contact rules: the lender's rulebook and each rulebook's thresholds."""
