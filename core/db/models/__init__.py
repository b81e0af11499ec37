"""All SQLAlchemy models. Every module of this package is imported here, so ``Base.metadata``
is complete for Alembic and for the schema-equals-models test, whichever area a model lives in.
"""

from __future__ import annotations

import importlib
import pkgutil

from core.db.models.base import Base

__all__ = ["Base"]

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
