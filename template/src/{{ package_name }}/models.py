"""Every ORM model, imported in one place so that `Base.metadata` is complete for Alembic."""

from .market.models import Item
from .platform.db import Base

__all__ = ["Base", "Item"]
