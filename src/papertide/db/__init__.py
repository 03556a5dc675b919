"""The only package that speaks SQL: engine, schema, migrations, reads and writes."""

from papertide.db.engine import Database, make_engine

__all__ = ["Database", "make_engine"]
