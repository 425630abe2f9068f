"""Installment plans: the admins' plan policy (versions), offers priced from a loan's position
(pure: ``policy``, ``schedule``, ``offers``), and the pages that show them."""
