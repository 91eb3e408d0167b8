"""The service package: `main.create_app()` wires `platform/` concerns and the domain routers."""
