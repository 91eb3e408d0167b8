"""Market items: the example resource that goes route -> service -> PostgreSQL -> migration."""
