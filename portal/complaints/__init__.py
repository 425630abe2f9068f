"""Complaint handling: borrowers' complaints, their regulatory clocks, lifecycle and remedies."""
