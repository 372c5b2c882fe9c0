"""Notify's pure rules: which rule fires for an event, who hears it, by which
channel, when a retry may happen, and how an address is shown in the log."""
