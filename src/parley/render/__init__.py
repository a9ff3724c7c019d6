"""The Intercom wire format, produced here and nowhere else, for the version a client asked for.

Renderers are pure functions from storage rows (or small value objects) to plain dicts; they never
query. The edge serialises their output with orjson."""
