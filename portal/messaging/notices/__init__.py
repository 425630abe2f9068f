"""The borrower's notice centre: notices in the portal, the overdue notice, the unread count."""
