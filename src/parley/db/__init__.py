"""Storage: SQL and nothing else. Repositories hold every query; the edge owns transactions."""
