"""Cross-cutting concerns, one module each: database, Redis, probes, logs, metrics, errors."""
