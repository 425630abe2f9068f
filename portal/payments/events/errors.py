"""Why an event was not processed (the webhook turns these into its answer)."""


class EventNotReady(Exception):
    """The event is about something the portal has not seen yet: deliver it again later."""


class MalformedEvent(ValueError):
    """Signed by the processor, but not an event this code can read (no id, type or object)."""
