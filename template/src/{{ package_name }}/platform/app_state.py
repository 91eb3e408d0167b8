"""Typed access to what `create_app` and the lifespan store on `app.state`.

Routes reach it through their request, middleware through its ASGI scope (`scope["app"]`, set by
Starlette before any middleware runs), with no `Request` built on the hot path.
"""

from typing import TypeVar

from starlette.types import Scope

T = TypeVar("T")


def app_state(scope: Scope, name: str, kind: type[T]) -> T:
    value = getattr(scope["app"].state, name, None)
    if not isinstance(value, kind):  # a wiring error, not a runtime condition
        msg = (
            f"app.state.{name} is not a {kind.__name__}: build the app with create_app() "
            "and serve it inside its lifespan"
        )
        raise TypeError(msg)
    return value
