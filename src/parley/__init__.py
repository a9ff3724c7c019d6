"""Parley: a self-hosted, faithful implementation of Intercom's Conversations REST API."""

__version__ = "0.1.0"
