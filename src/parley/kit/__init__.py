"""Domain-free building blocks. Imports the standard library (and orjson) only."""
