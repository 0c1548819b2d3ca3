"""manage.py as a real process: exit statuses 0/1/2, messages, and never a traceback."""

from __future__ import annotations

import fcntl
import os
import pty
import select as io_select
import subprocess
import sys
import termios
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from models.tables import audit_table, decision_table, patient_table, session_table, user_table
from redflags.fields import DECISION_COLUMNS, REVIEW_COLUMNS, SESSION_COLUMNS

REPO = Path(__file__).resolve().parents[1]
DAY = date.today() - timedelta(days=10)  # the CLI judges "the future" by the real clock


def manage(
    *args: str, url: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {
        **{k: v for k, v in os.environ.items() if k != "REDFLAGS_DEBUG"},
        "DATABASE_URL": url,
        "CLINIC_TIMEZONE": "UTC",
        **(env or {}),
    }
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=environment,
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    return done


def count(engine: Engine, table: object = session_table) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def sessions_csv(*rows: str, header: str = "patient_id,session_date,route,dose_mg,note") -> str:
    return "\r\n".join([header, *rows]) + "\r\n"


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_bytes(content.encode("utf-8"))
    return path


GOOD = sessions_csv(
    f"P-1,{DAY.isoformat()}T09:30,esketamine_nasal,56,first",
    f'007,{DAY.isoformat()},ketamine_iv,37.5,"=HYPERLINK(""x"")"',
)


# ---------------------------------------------------------------- usage (exit 2)


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("no-such-command",),
        ("export",),
        ("export", "everything"),
        ("import-sessions",),
        ("create-user", "alice"),
        ("create-user", "alice", "--role", "owner"),
        ("import-sessions", "f.csv", "--force"),
    ],
)
def test_wrong_usage_exits_2_with_the_usage(args: tuple[str, ...], sqlite_url: str) -> None:
    done = manage(*args, url=sqlite_url)
    assert done.returncode == 2
    assert "usage: manage.py" in done.stderr


def test_help_lists_every_command_quickly(sqlite_url: str) -> None:
    started = time.monotonic()
    done = manage("--help", url=sqlite_url)
    assert done.returncode == 0
    assert time.monotonic() - started < 5
    for command in (
        "init-db",
        "demo",
        "create-user",
        "import-sessions",
        "import-decisions",
        "export",
        "verify-audit",
    ):
        assert command in done.stdout


def test_help_does_not_import_the_heavy_modules() -> None:
    probe = (
        "import sys, runpy; sys.argv = ['manage.py', '--help']\n"
        "try:\n    runpy.run_path('manage.py', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "heavy = [m for m in ('pandas', 'sqlalchemy', 'sqlmodel', 'streamlit')"
        " if m in sys.modules]\n"
        "print('HEAVY', heavy)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert "HEAVY []" in done.stdout


# ---------------------------------------------------------------- the database


def test_init_db_migrates_an_empty_database_and_says_which(
    empty_engine: Engine, db_url: str
) -> None:
    done = manage("init-db", url=db_url)
    assert done.returncode == 0, done.stderr
    assert "the schema is created (revision 0001)" in done.stdout
    assert db_url.split("://")[0] in done.stdout
    again = manage("init-db", url=db_url)  # again: nothing to do, and it says so
    assert again.returncode == 0
    assert "the schema is already up to date (revision 0001)" in again.stdout


def test_an_unmigrated_database_asks_for_init_db(
    empty_engine: Engine, db_url: str, tmp_path: Path
) -> None:
    done = manage("import-sessions", str(write(tmp_path, "s.csv", GOOD)), url=db_url)
    assert done.returncode == 1
    assert "run `python manage.py init-db` first" in done.stderr


@pytest.mark.parametrize("command", [("verify-audit",), ("export", "sessions"), ("demo",)])
def test_a_mistyped_sqlite_path_is_named_and_left_uncreated(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    missing = tmp_path / "no-such-folder" / "redflags.db"
    done = manage(*command, url=f"sqlite:///{missing}")
    assert done.returncode == 1
    assert f"There is no database file at {missing}: check DATABASE_URL" in done.stderr
    assert not missing.parent.exists()


def test_init_db_creates_a_new_sqlite_file_and_its_folder(tmp_path: Path) -> None:
    new = tmp_path / "new-folder" / "redflags.db"
    done = manage("init-db", url=f"sqlite:///{new}")
    assert done.returncode == 0, done.stderr
    assert new.is_file() and oct(new.stat().st_mode & 0o777) == "0o600"


@pytest.mark.postgres
def test_a_postgresql_database_that_is_not_utf8_is_refused_before_anything_is_written(
    pg_admin_engine: Engine,
) -> None:
    import uuid

    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    name = f"t_latin1_{uuid.uuid4().hex[:10]}"
    with pg_admin_engine.connect() as connection:
        connection.execute(
            text(f"CREATE DATABASE \"{name}\" ENCODING 'LATIN1' LOCALE 'C' TEMPLATE template0")
        )
    url = make_url(str(pg_admin_engine.url)).set(database=name)
    try:
        for command in (("init-db",), ("export", "sessions")):
            done = manage(*command, url=url.render_as_string(hide_password=False))
            assert done.returncode == 1
            assert "uses the LATIN1 encoding; it must be UTF8" in done.stderr
        latin1 = create_engine(url)
        with latin1.connect() as connection:
            assert (
                connection.execute(text("SELECT to_regclass('alembic_version')")).scalar() is None
            )
        latin1.dispose()
    finally:
        with pg_admin_engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))


def test_an_unreachable_database_is_named_without_its_password(tmp_path: Path) -> None:
    url = "postgresql+psycopg://clinic:s3cret-pw@127.0.0.1:9/records"
    done = manage("export", "sessions", url=url)
    assert done.returncode == 1
    assert "Cannot reach the database at postgresql+psycopg://clinic:***@127.0.0.1:9/records" in (
        done.stderr
    )
    assert "s3cret-pw" not in done.stderr + done.stdout


RETRY = "The database stopped this command because another write was in its way ("


@pytest.mark.postgres
def test_a_deadlock_on_postgresql_is_explained_as_a_write_to_run_again(pg_url: str) -> None:
    import threading

    from sqlalchemy import create_engine
    from sqlalchemy.exc import OperationalError

    import manage as command_line

    engine = create_engine(pg_url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (id int PRIMARY KEY)"))
        connection.execute(text("INSERT INTO t VALUES (1), (2)"))
    both_hold_one = threading.Barrier(2)
    lost: list[OperationalError] = []

    def write(first: int, second: int) -> None:
        try:
            with engine.begin() as connection:
                connection.execute(text("UPDATE t SET id = id WHERE id = :i"), {"i": first})
                both_hold_one.wait()
                connection.execute(text("UPDATE t SET id = id WHERE id = :i"), {"i": second})
        except OperationalError as error:
            lost.append(error)

    writers = [threading.Thread(target=write, args=pair) for pair in ((1, 2), (2, 1))]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=60)
    engine.dispose()
    assert len(lost) == 1
    explained = command_line._explain(lost[0])
    assert explained is not None and explained.startswith(RETRY + "deadlock detected)")
    assert explained.endswith("nothing was changed; run the command again.")


def test_a_locked_sqlite_file_is_explained_as_a_write_to_run_again(tmp_path: Path) -> None:
    import sqlite3

    from sqlalchemy import create_engine
    from sqlalchemy.exc import OperationalError

    import manage as command_line

    path = tmp_path / "busy.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
    with pytest.raises(OperationalError) as caught, engine.begin() as connection:
        connection.execute(text("INSERT INTO t VALUES (1)"))
    holder.close()
    engine.dispose()
    explained = command_line._explain(caught.value)
    assert explained == RETRY + "database is locked): nothing was changed; run the command again."


def test_a_database_url_of_another_kind_is_refused(tmp_path: Path) -> None:
    done = manage("init-db", url="mysql://localhost/x")
    assert done.returncode == 1
    assert "DATABASE_URL must start with" in done.stderr


def test_a_bad_clinic_time_zone_is_refused(engine: Engine, db_url: str, tmp_path: Path) -> None:
    done = manage(
        "import-sessions",
        str(write(tmp_path, "s.csv", GOOD)),
        url=db_url,
        env={"CLINIC_TIMEZONE": "Mars/Olympus"},
    )
    assert done.returncode == 1
    assert "CLINIC_TIMEZONE" in done.stderr and count(engine) == 0


# ---------------------------------------------------------------- import


def test_import_sessions_prints_the_counts_and_writes(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    path = write(tmp_path, "sessions.csv", GOOD)
    done = manage("import-sessions", str(path), url=db_url)
    assert done.returncode == 0, done.stderr
    assert "Rows read: 2, imported: 2, unchanged: 0" in done.stdout
    assert count(engine) == 2
    again = manage("import-sessions", str(path), url=db_url)
    assert "imported: 0, unchanged: 2" in again.stdout and count(engine) == 2


def test_a_dry_run_writes_nothing(engine: Engine, db_url: str, tmp_path: Path) -> None:
    done = manage("import-sessions", str(write(tmp_path, "s.csv", GOOD)), "--dry-run", url=db_url)
    assert done.returncode == 0
    assert "Dry run" in done.stdout and "would import: 2" in done.stdout
    assert count(engine) == 0


def test_a_bad_file_exits_1_with_one_line_per_problem(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    bad = sessions_csv(
        f"P-1,{DAY.isoformat()},esketamine_nasal,50,",
        "P-2,03/04/2026,ketamine_iv,35,",
        f"P-3,{DAY.isoformat()},ketamine_iv,35,ok",
    )
    done = manage("import-sessions", str(write(tmp_path, "bad.csv", bad)), url=db_url)
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert lines[0].startswith("row 1, column dose_mg: esketamine nasal spray")
    assert lines[1].startswith("row 2, column session_date: '03/04/2026' is not an ISO 8601 date")
    assert lines[2].startswith("Nothing was imported: 2 problems in bad.csv")
    assert done.stdout == ""
    assert count(engine) == 0 and count(engine, patient_table) == 0


def test_a_bad_file_with_more_than_ten_thousand_problems_lists_every_one(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    rows = [f"P-{n},{DAY.isoformat()},ketamine_iv,0," for n in range(1, 6002)]
    rows += [f"P-{n},2026-02-30,ketamine_iv,35," for n in range(1, 6002)]
    done = manage(
        "import-sessions", str(write(tmp_path, "bad.csv", sessions_csv(*rows))), url=db_url
    )
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert len(lines) == 12_003, lines[-3:]
    assert lines[6_001 - 1].startswith("row 6001, column dose_mg:")
    assert lines[12_002 - 1].startswith("row 12002, column session_date:")
    assert lines[-1].startswith("Nothing was imported: 12002 problems in bad.csv")
    assert count(engine) == 0


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "the file is empty"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "PNG image"),
        ("patient_id,note\r\nP-1,café\r\n".encode("cp1252"), "CSV UTF-8"),
        (GOOD.encode("utf-16"), "UTF-16"),
        (b"patient_id;session_date;route;dose_mg\r\n", "semicolons"),
        (bytes(range(256)) * 4, "CSV UTF-8"),
    ],
    ids=["empty", "png", "cp1252", "utf16", "semicolons", "binary"],
)
def test_files_that_are_not_utf8_csv_are_refused_without_a_traceback(
    engine: Engine, db_url: str, tmp_path: Path, content: bytes, words: str
) -> None:
    done = manage("import-sessions", str(write(tmp_path, "x.csv", content)), url=db_url)
    assert done.returncode == 1
    assert words in done.stderr
    assert count(engine) == 0


def test_a_missing_file_is_refused(engine: Engine, db_url: str, tmp_path: Path) -> None:
    done = manage("import-sessions", str(tmp_path / "nowhere.csv"), url=db_url)
    assert done.returncode == 1
    assert "cannot read the file nowhere.csv: No such file or directory" in done.stderr


def test_a_file_over_the_size_limit_is_refused(engine: Engine, db_url: str, tmp_path: Path) -> None:
    done = manage(
        "import-sessions",
        str(write(tmp_path, "s.csv", GOOD)),
        url=db_url,
        env={"REDFLAGS_IMPORT_MAX_BYTES": "10"},
    )
    assert done.returncode == 1 and "over the import limit" in done.stderr


def test_import_decisions_needs_the_patients_first(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    decisions = (
        "\r\n".join(
            [",".join(DECISION_COLUMNS), f"P-1,{DAY.isoformat()}T16:00,pause,,,,,Dr. A;patient,,,,"]
        )
        + "\r\n"
    )
    path = write(tmp_path, "d.csv", decisions)
    refused = manage("import-decisions", str(path), url=db_url)
    assert refused.returncode == 1
    assert refused.stderr.startswith("row 1, column patient_id: no patient has this code")
    manage("import-sessions", str(write(tmp_path, "s.csv", GOOD)), url=db_url)
    done = manage("import-decisions", str(path), url=db_url)
    assert done.returncode == 0, done.stderr
    assert count(engine, decision_table) == 1


# ---------------------------------------------------------------- export


def test_export_sessions_to_stdout_is_the_csv_and_nothing_else(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    manage("import-sessions", str(write(tmp_path, "s.csv", GOOD)), url=db_url)
    done = subprocess.run(
        [sys.executable, "manage.py", "export", "sessions"],
        cwd=REPO,
        env={**os.environ, "DATABASE_URL": db_url, "CLINIC_TIMEZONE": "UTC"},
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0
    lines = done.stdout.split(b"\r\n")
    assert lines[0] == ",".join(SESSION_COLUMNS).encode()
    assert lines[1].startswith(b"007," + DAY.isoformat().encode() + b",ketamine_iv,37.5,")
    assert lines[1].endswith(b',\'=HYPERLINK(""x"")"') or b"'=HYPERLINK" in lines[1]
    assert lines[2].startswith(b"P-1," + DAY.isoformat().encode() + b"T09:30,esketamine_nasal,56,")
    assert done.stderr == b""


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux's /dev/full")
def test_an_export_that_standard_output_cannot_take_says_so_and_exits_1(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    manage("import-sessions", str(write(tmp_path, "s.csv", GOOD)), url=db_url)
    with Path("/dev/full").open("wb") as full:
        done = subprocess.run(
            [sys.executable, "manage.py", "export", "sessions"],
            cwd=REPO,
            env={**os.environ, "DATABASE_URL": db_url, "CLINIC_TIMEZONE": "UTC"},
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    assert done.returncode == 1
    assert done.stderr.startswith(
        "Cannot write the export to standard output: No space left on device."
    ), done.stderr
    assert "Exception ignored" not in done.stderr and "Traceback" not in done.stderr


@pytest.mark.skipif(not Path("/proc/version").exists(), reason="needs Linux's /proc")
def test_an_out_file_in_a_folder_that_takes_no_new_file_names_the_folder(
    engine: Engine, db_url: str
) -> None:
    done = manage("export", "sessions", "--out", "/proc/version", url=db_url)
    assert done.returncode == 1
    assert done.stderr.startswith(
        "Cannot write /proc/version: no file can be created in /proc ("
    ), done.stderr
    assert done.stderr.rstrip().endswith("Nothing was exported.")


def test_the_cli_round_trip_is_byte_identical(
    engine: Engine, db_url: str, sqlite_url: str, tmp_path: Path
) -> None:
    manage("import-sessions", str(write(tmp_path, "s.csv", GOOD)), url=db_url)
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    done = manage("export", "sessions", "--out", str(first), url=db_url)
    assert done.returncode == 0 and "Exported 2 sessions rows" in done.stdout
    other = sqlite_url.replace("redflags.db", "other.db")
    assert manage("init-db", url=other).returncode == 0
    assert manage("import-sessions", str(first), url=other).returncode == 0
    assert manage("export", "sessions", "--out", str(second), url=other).returncode == 0
    assert second.read_bytes() == first.read_bytes()


def test_export_options_are_checked(engine: Engine, db_url: str, tmp_path: Path) -> None:
    manage("import-sessions", str(write(tmp_path, "s.csv", GOOD)), url=db_url)
    unknown = manage("export", "sessions", "--patient", "P-404", url=db_url)
    assert unknown.returncode == 1 and "no patient has the code 'P-404'" in unknown.stderr
    bad_date = manage("export", "review", "--as-of", "03/04/2026", url=db_url)
    assert bad_date.returncode == 1 and "write YYYY-MM-DD" in bad_date.stderr
    for far in ("9999-12-31", "0001-01-01"):
        out_of_range = manage("export", "sessions", "--as-of", far, url=db_url)
        assert out_of_range.returncode == 1 and "check the year" in out_of_range.stderr
        assert "Traceback" not in out_of_range.stderr
    no_folder = manage("export", "sessions", "--out", str(tmp_path / "no" / "x.csv"), url=db_url)
    assert no_folder.returncode == 1 and "does not exist" in no_folder.stderr
    one = manage("export", "sessions", "--patient", "007", url=db_url)
    assert one.returncode == 0 and one.stdout.count("\n") == 2
    dash = manage("export", "sessions", "--patient", "007", "--out", "-", url=db_url)
    assert dash.returncode == 0 and dash.stdout == one.stdout
    assert not (REPO / "-").exists()


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_an_export_that_cannot_be_written_leaves_no_audit_row_and_no_file(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    manage("import-sessions", str(write(tmp_path, "s.csv", GOOD)), url=db_url)
    before = count(engine, audit_table)
    failed = manage("export", "sessions", "--out", "/proc/sessions.csv", url=db_url)
    assert failed.returncode == 1 and "Nothing was exported" in failed.stderr
    assert count(engine, audit_table) == before
    done = manage("export", "sessions", "--out", str(tmp_path / "out.csv"), url=db_url)
    assert done.returncode == 0 and count(engine, audit_table) == before + 1
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.csv")] == []


def test_export_out_paths_that_cannot_be_used_say_why(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    manage("import-sessions", str(write(tmp_path, "s.csv", GOOD)), url=db_url)
    too_long = manage("export", "review", "--out", str(tmp_path / ("a" * 300 + ".csv")), url=db_url)
    assert too_long.returncode == 1, too_long.stderr
    assert "this path cannot be used (File name too long)" in too_long.stderr
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    piped = manage("export", "review", "--out", str(fifo), url=db_url)
    assert piped.returncode == 1 and "not a plain file" in piped.stderr
    assert fifo.is_fifo(), "the pipe was replaced by a file"
    for done in (too_long, piped):
        assert "Traceback" not in done.stderr and "Unexpected error" not in done.stderr


def test_export_out_through_a_link_writes_the_file_it_points_at(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    manage("import-sessions", str(write(tmp_path, "s.csv", GOOD)), url=db_url)
    target = tmp_path / "records" / "sessions.csv"
    target.parent.mkdir()
    target.write_text("old\n")
    link = tmp_path / "latest.csv"
    link.symlink_to(target)
    done = manage("export", "sessions", "--out", str(link), url=db_url)
    assert done.returncode == 0, done.stderr
    assert link.is_symlink() and target.read_text().startswith("patient_id,session_date")


@pytest.mark.parametrize(
    "command",
    [
        ("init-db",),
        ("import-sessions", "{file}", "--dry-run"),
        ("export", "sessions"),
        ("verify-audit",),
    ],
    ids=lambda c: c[0],
)
def test_every_command_refuses_to_start_on_an_invalid_rules_file(
    engine: Engine, db_url: str, tmp_path: Path, command: tuple[str, ...]
) -> None:
    rules = write(
        tmp_path,
        "rules.toml",
        (REPO / "redflags" / "rules.toml").read_text().replace("[window]", "[window]\nsesions = 3"),
    )
    sessions = write(tmp_path, "s.csv", GOOD)
    before = count(engine, audit_table)
    args = [part.format(file=sessions) for part in command]
    done = manage(*args, url=db_url, env={"REDFLAGS_RULES_FILE": str(rules)})
    assert done.returncode == 1
    assert "window.sesions" in done.stderr
    assert count(engine, audit_table) == before, "nothing ran"


def test_export_review_and_decisions(engine: Engine, db_url: str, tmp_path: Path) -> None:
    manage("import-sessions", str(write(tmp_path, "s.csv", GOOD)), url=db_url)
    review = manage("export", "review", "--as-of", DAY.isoformat(), url=db_url)
    assert review.returncode == 0, review.stderr
    lines = review.stdout.splitlines()
    assert lines[0] == ",".join(REVIEW_COLUMNS) and len(lines) == 3
    decisions = manage("export", "decisions", url=db_url)
    assert decisions.returncode == 0 and decisions.stdout.splitlines() == [
        ",".join(DECISION_COLUMNS)
    ]


def test_imports_and_exports_from_the_cli_are_audited(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    manage("import-sessions", str(write(tmp_path, "s.csv", GOOD)), url=db_url)
    manage("import-sessions", str(write(tmp_path, "bad.csv", b"")), url=db_url)
    manage("export", "sessions", "--out", str(tmp_path / "out.csv"), url=db_url)
    with engine.connect() as connection:
        rows = connection.execute(
            select(audit_table.c.action, audit_table.c.username).order_by(audit_table.c.id)
        ).all()
    actions = [action for action, _ in rows]
    assert actions == ["sessions_import", "sessions_import", "records_export"]
    assert all(user.startswith("cli:") for _, user in rows)


# ---------------------------------------------------------------- users, demo, audit


def test_create_user_reads_the_password_from_standard_input(engine: Engine, db_url: str) -> None:
    done = manage(
        "create-user", "alice", "--role", "clinician", url=db_url, stdin="a long passphrase\n"
    )
    assert done.returncode == 0, done.stderr
    assert "User alice (clinician) created." in done.stdout
    assert "a long passphrase" not in done.stdout + done.stderr
    assert count(engine, user_table) == 1
    again = manage(
        "create-user", "ALICE", "--role", "viewer", url=db_url, stdin="another passphrase\n"
    )
    assert again.returncode == 1 and "already exists" in again.stderr


@pytest.mark.parametrize(
    ("stdin", "words"), [("", "No password given"), ("short\n", "at least 12")]
)
def test_create_user_refuses_a_missing_or_short_password(
    engine: Engine, db_url: str, stdin: str, words: str
) -> None:
    done = manage("create-user", "bob", "--role", "viewer", url=db_url, stdin=stdin)
    assert done.returncode == 1 and words in done.stderr
    assert count(engine, user_table) == 0


def test_create_user_refuses_a_password_that_is_not_utf8(engine: Engine, db_url: str) -> None:
    done = subprocess.run(
        [sys.executable, "manage.py", "create-user", "zed", "--role", "viewer"],
        cwd=REPO,
        env={**os.environ, "DATABASE_URL": db_url},
        input=b"\xff\xfea long passphrase\n",
        capture_output=True,
        timeout=180,
    )
    assert done.returncode == 1, done.stderr
    assert b"must be text (UTF-8)" in done.stderr and b"Traceback" not in done.stderr
    assert count(engine, user_table) == 0


def test_a_file_name_that_is_not_utf8_imports_and_is_audited(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    name = os.fsdecode(b"sessions-\xff.csv")  # how Python sees such a name
    path = write(tmp_path, name, GOOD)
    done = manage("import-sessions", str(path), url=db_url)
    assert done.returncode == 0, done.stderr
    missing = manage("import-sessions", str(tmp_path / os.fsdecode(b"none-\xff.csv")), url=db_url)
    assert missing.returncode == 1 and "No such file" in missing.stderr
    with engine.connect() as connection:
        names = connection.execute(
            select(audit_table.c.entity_id).where(audit_table.c.action == "sessions_import")
        ).scalars()
        assert [n.rsplit("/", 1)[-1] for n in names] == ["sessions-\ufffd.csv", "none-\ufffd.csv"]
    assert manage("verify-audit", url=db_url).returncode == 0


@pytest.mark.parametrize(
    ("typed", "status", "said"),
    [
        ("a long passphrase\na long passphrase\n", 0, ""),
        ("a long passphrase\nsomething else\n", 1, "The two passwords differ"),
        ("\x04", 1, "No password given: the prompt was closed (Ctrl-D)"),
    ],
)
def test_create_user_at_a_terminal_asks_twice(
    engine: Engine, db_url: str, typed: str, status: int, said: str
) -> None:
    main, secondary = pty.openpty()

    def with_the_terminal_as_its_own() -> None:  # getpass reads /dev/tty: make it this pty
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    process = subprocess.Popen(
        [sys.executable, "manage.py", "create-user", "carol", "--role", "admin"],
        cwd=REPO,
        env={**os.environ, "DATABASE_URL": db_url},
        stdin=secondary,
        preexec_fn=with_the_terminal_as_its_own,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    os.close(secondary)
    answers = typed.splitlines(keepends=True)
    shown = b""
    deadline = time.monotonic() + 60
    while answers and process.poll() is None and time.monotonic() < deadline:
        # getpass flushes what was typed before its prompt, so answer each prompt in turn.
        if io_select.select([main], [], [], 0.5)[0]:
            shown += os.read(main, 1024)
            if shown.count(b"assword") > len(typed.splitlines()) - len(answers):
                os.write(main, answers.pop(0).encode())
    _, err = process.communicate(timeout=120)
    os.close(main)
    assert process.returncode == status, err
    assert "Traceback" not in err
    assert count(engine, user_table) == (1 if status == 0 else 0)
    assert said in err


def test_demo_loads_the_demo_clinic_and_again_changes_nothing(engine: Engine, db_url: str) -> None:
    done = manage("demo", url=db_url)
    assert done.returncode == 0, done.stderr
    assert "Demo clinic loaded" in done.stdout
    sessions = count(engine)
    assert sessions > 0
    again = manage("demo", url=db_url)
    assert again.returncode == 0 and count(engine) == sessions


def test_demo_refuses_a_database_with_real_records(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    manage("import-sessions", str(write(tmp_path, "s.csv", GOOD)), url=db_url)
    done = manage("demo", url=db_url)
    assert done.returncode == 1 and "demo" in done.stderr


def test_verify_audit_passes_an_intact_trail_and_fails_an_edited_one(
    sqlite_url: str, tmp_path: Path
) -> None:
    assert manage("init-db", url=sqlite_url).returncode == 0
    manage("import-sessions", str(write(tmp_path, "s.csv", GOOD)), url=sqlite_url)
    intact = manage("verify-audit", url=sqlite_url)
    assert intact.returncode == 0 and "intact: 1 rows" in intact.stdout

    from sqlalchemy import create_engine

    raw = create_engine(sqlite_url)
    with raw.begin() as connection:  # what an intruder with file access could do
        connection.execute(text("DROP TRIGGER IF EXISTS audit_event_no_update"))
        connection.execute(text("UPDATE audit_event SET details = '{}' WHERE id = 1"))
    raw.dispose()
    broken = manage("verify-audit", url=sqlite_url)
    assert broken.returncode == 1
    assert broken.stderr.startswith("audit row 1: content does not match its hash")
