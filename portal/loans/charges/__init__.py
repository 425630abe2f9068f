"""Late charges: the charge policy per loan product (versioned), their daily accrual under the
cost cap, and the staff waiver of late charges.

- ``models``: ``charge_policy`` (versions per product) and ``late_charge`` (the accrual ledger).
- ``services``: the policy in force, saving a version, the history; waiving a loan's charges.
- ``accrual``: the set-based accrual step of the daily collections run.
- ``forms`` / ``routes``: the admin's policy page (blueprint ``loans_charges``).
"""
