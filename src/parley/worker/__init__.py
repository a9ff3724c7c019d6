"""Background work inside the server process (timers)."""
