"""Emergency contacts: the people a borrower names, the rules on adding them, their opt-outs."""
