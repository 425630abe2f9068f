"""Prohibited wording: the built-in lists and the terms admins added."""
