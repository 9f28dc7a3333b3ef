"""State: SQLModel tables, engines and Alembic migrations."""
