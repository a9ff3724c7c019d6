"""Use cases, one module per concept. Services take the caller's transaction and a Context,
decide with domain rules, read and write through db/, and never commit or speak HTTP."""
