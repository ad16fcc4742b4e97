"""The schema's readable sources say the truth: the SQL functions' current text lives in
geo_service/sql/*.sql (a freshly migrated database runs exactly those files, whatever the
migrations wrote on the way), and models.py describes the migrated tables."""

from __future__ import annotations

import re

from sqlalchemy import Engine, text

from geo_service.db import apply_sql_functions, sql_function_files

DEFINITIONS = text(
    """
    SELECT p.oid::regprocedure::text AS signature, pg_get_functiondef(p.oid) AS definition
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname = 'public' AND p.proname LIKE 'gs\\_%'
     ORDER BY 1
    """
)


def test_every_gs_function_has_its_file_and_every_file_a_function(engine: Engine) -> None:
    with engine.connect() as conn:
        live = {row.signature.split("(")[0] for row in conn.execute(DEFINITIONS)}
    files = {path.stem for path in sql_function_files()}
    assert files == live


def test_a_migrated_database_runs_exactly_the_files(engine: Engine) -> None:
    """Re-applying the files changes no definition: the database already had their text."""
    with engine.connect() as conn:
        before = dict(conn.execute(DEFINITIONS).all())
        apply_sql_functions(conn)
        after = dict(conn.execute(DEFINITIONS).all())
        conn.rollback()
    assert before == after


def test_a_changed_file_would_show(engine: Engine) -> None:
    """The comparison above can fail: a function whose text differs from its file does."""
    with engine.connect() as conn:
        source = (sql_function_files()[0]).read_text()
        changed = re.sub(r"\$\$", "$$ -- changed", source, count=1)
        before = dict(conn.execute(DEFINITIONS).all())
        conn.connection.cursor().execute(changed)
        after = dict(conn.execute(DEFINITIONS).all())
        conn.rollback()
    assert before != after


def test_models_describe_the_migrated_schema(engine: Engine) -> None:
    """models.py is for Alembic's autogenerate only; it must still say the truth."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from geo_service.models import Base, include_object

    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": include_object, "compare_type": True}
        )
        assert compare_metadata(context, Base.metadata) == []
