"""The REST edge: parse, authenticate, open the transaction, call a service, render, respond."""
