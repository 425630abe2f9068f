"""Staff actions on payments: the admin's refund."""
