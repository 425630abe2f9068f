"""One-click unsubscribe: signed links in emails and the page they open."""
