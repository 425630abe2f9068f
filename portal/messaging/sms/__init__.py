"""SMS provider webhooks: delivery reports and replies (STOP/TD/退订 opt out, START opts in)."""
