from sqlalchemy import Engine, inspect

from models.db import schema_is_current


def test_migrations_take_an_empty_database_to_the_latest_schema(engine: Engine) -> None:
    assert schema_is_current(engine)
    assert {"patient", "dosing_session", "decision", "app_user", "audit_event"} <= set(
        inspect(engine).get_table_names()
    )
