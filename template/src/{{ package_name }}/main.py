"""Application factory: wiring only. Concerns live in `platform/`, features in their packages.

`uvicorn <package>.main:app` serves the module-level `app`, built on first access so that
importing `create_app` (tests, tools) does not read the environment.
"""

from fastapi import FastAPI
from starlette.middleware import Middleware

from .about import SERVICE_DESCRIPTION, SERVICE_TITLE
from .market.routes import router as market_router
from .platform import health
from .platform.errors import UnhandledErrorMiddleware, install_error_handlers
from .platform.logging import configure_logging
from .platform.metrics import AppMetrics, MetricsMiddleware, metrics_router
from .platform.request_context import RequestContextMiddleware
from .platform.resources import lifespan
from .settings import Settings, load_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    configure_logging(settings.log_level)
    app_metrics = AppMetrics()
    app = FastAPI(
        title=SERVICE_TITLE,
        description=SERVICE_DESCRIPTION,
        lifespan=lifespan(settings),
        # Outermost first: every response, errors included, gets a request id and is measured.
        middleware=[
            Middleware(RequestContextMiddleware),
            Middleware(MetricsMiddleware, metrics=app_metrics),
            Middleware(UnhandledErrorMiddleware),
        ],
    )
    app.state.metrics = app_metrics
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(metrics_router(app_metrics))
    app.include_router(market_router)
    return app


def __getattr__(name: str) -> FastAPI:
    if name == "app":
        application = create_app()
        globals()["app"] = application
        return application
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)
