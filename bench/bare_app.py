"""The baseline: a bare FastAPI app, served the same way as the rendered service."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/health/live")
async def live() -> dict[str, str]:
    return {"status": "alive"}
