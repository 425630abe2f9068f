"""Contact rules of one case, set by admins: cease contact, the rulebook, holds.

The rules themselves live in ``portal.messaging`` (``contact_controls``, ``guard``); this
package holds only the case page's routes over them.
"""
