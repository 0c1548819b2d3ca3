"""The command line of the red-flag dashboard (records.md).

    python manage.py init-db
    python manage.py demo
    python manage.py create-user NAME --role ROLE
    python manage.py import-sessions FILE [--dry-run]
    python manage.py import-decisions FILE [--dry-run]
    python manage.py export sessions|review|decisions [--as-of DATE] [--patient ID] [--out FILE]
    python manage.py verify-audit

``DATABASE_URL`` selects the database (unset: the SQLite file under data/).
Exit status: 0 success, 1 invalid input or a refused operation (the message
says what to fix), 2 wrong usage. Every command calls the same service
functions as the dashboard, as the command-line operator (an admin).
"""

from __future__ import annotations

import argparse
import io
import os
import re
import sys
import tempfile
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from services.access import Actor

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
ROLES = ("admin", "clinician", "viewer")
EXPORTS = ("sessions", "review", "decisions")


class CommandError(Exception):
    """A refused command: the message says what to fix (exit status 1)."""


def _err(message: str) -> None:
    print(message, file=sys.stderr)


# ---------------------------------------------------------------- the database


def _database_label() -> str:
    from models.db import database_url, describe_url

    return describe_url(database_url())


def _engine(*, migrated: bool = True) -> Engine:
    """The engine for DATABASE_URL; with ``migrated``, refuse an unmigrated schema."""
    from models.db import check_encoding, database_url, get_engine, schema_is_current, sqlite_file

    missing = sqlite_file(database_url())
    if migrated and missing is not None and not missing.exists():
        # Do not leave an empty file (and folders) behind for a mistyped path.
        raise CommandError(
            f"There is no database file at {missing}: check DATABASE_URL, "
            "or create it with `python manage.py init-db`."
        )
    engine = get_engine()
    check_encoding(engine)
    if migrated and not schema_is_current(engine):
        raise CommandError(
            f"The database at {_database_label()} has no schema or an old one: "
            "run `python manage.py init-db` first."
        )
    return engine


def _actor() -> Actor:
    from services.access import command_line_actor

    return command_line_actor()


# ---------------------------------------------------------------- commands


def cmd_init_db(_args: argparse.Namespace) -> int:
    from models.db import upgrade

    label = _database_label()
    before, after = upgrade(_engine(migrated=False))
    if before is None:
        print(f"Database {label}: the schema is created (revision {after}).")
    elif before != after:
        print(f"Database {label}: the schema is upgraded from revision {before} to {after}.")
    else:
        print(f"Database {label}: the schema is already up to date (revision {after}).")
    return EXIT_OK


def cmd_demo(_args: argparse.Namespace) -> int:
    try:
        from services.demo import load_demo
    except ModuleNotFoundError as error:  # pragma: no cover - until the demo lands
        raise CommandError(f"The demo loader is not installed ({error.name}).") from None
    result = load_demo(engine=_engine(), actor=_actor())
    how = "refreshed" if result.refreshed else "loaded"
    print(
        f"Demo clinic {how} for {result.loaded_for.isoformat()}: {result.patients} patients; "
        f"sessions imported {result.sessions_imported}, unchanged {result.sessions_unchanged}; "
        f"decisions imported {result.decisions_imported}, "
        f"unchanged {result.decisions_unchanged}. Log in as demo / demo."
    )
    return EXIT_OK


def _read_password(name: str) -> str:
    """The new password: twice at a prompt on a terminal, else one line of standard input."""
    if sys.stdin is not None and sys.stdin.isatty():
        import getpass

        try:
            first = getpass.getpass(f"Password for {name}: ")
            second = getpass.getpass("Repeat the password: ")
        except EOFError:  # Ctrl-D at the prompt
            raise CommandError(
                "No password given: the prompt was closed (Ctrl-D); nothing was created. "
                "Run the command again and type the password twice."
            ) from None
        if first != second:
            raise CommandError("The two passwords differ; nothing was created. Try again.")
        return first
    line = sys.stdin.readline() if sys.stdin is not None else ""
    password = line.rstrip("\r\n")
    if not password:
        raise CommandError(
            "No password given: type it at the prompt, or pipe one line to standard input "
            "(never on the command line)."
        )
    return password


def cmd_create_user(args: argparse.Namespace) -> int:
    from redflags.codes import Role
    from services.users import create_user

    engine = _engine()
    password = _read_password(args.name)
    user = create_user(
        engine=engine, actor=_actor(), username=args.name, role=Role(args.role), password=password
    )
    print(f"User {user.username} ({user.role}) created.")
    return EXIT_OK


def _report_import(result: Any) -> int:
    if result.ok:
        print(result.summary())
        return EXIT_OK
    for line in result.messages():
        _err(line)
    _err(result.summary())
    return EXIT_INVALID


def cmd_import_sessions(args: argparse.Namespace) -> int:
    from services.records import import_sessions

    engine = _engine()
    return _report_import(
        import_sessions(engine=engine, actor=_actor(), data=Path(args.file), dry_run=args.dry_run)
    )


def cmd_import_decisions(args: argparse.Namespace) -> int:
    from services.records import import_decisions

    engine = _engine()
    return _report_import(
        import_decisions(engine=engine, actor=_actor(), data=Path(args.file), dry_run=args.dry_run)
    )


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _as_of(text: str | None) -> date | None:
    from redflags.validation import Invalid, check_year

    if text is None:
        return None
    try:
        if not _ISO_DATE.fullmatch(text.strip()):
            raise ValueError
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise CommandError(
            f"--as-of {text!r} is not a date: write YYYY-MM-DD, e.g. 2026-11-02."
        ) from None
    try:
        check_year(day, text.strip())
    except Invalid as error:
        raise CommandError(f"--as-of {error}.") from None
    return day


def _check_out_path(out: str) -> Path:
    """The file --out names, checked before the export runs; a link is followed to its file."""
    try:
        # The file is written beside its target and moved over it: follow a link, so
        # that the file it points at gets the export, not the link replaced.
        path = Path(os.path.realpath(out))
        folder = path.parent
        if path.is_dir():
            raise CommandError(f"--out {out}: that is a folder; give a file name.")
        if path.exists() and not path.is_file():
            raise CommandError(
                f"--out {out}: that is not a plain file (a device, pipe or socket); give a "
                "file name, or leave out --out to write to standard output."
            )
        if not folder.is_dir():
            raise CommandError(f"--out {out}: the folder {folder} does not exist.")
        if not os.access(folder, os.W_OK):
            raise CommandError(f"--out {out}: the folder {folder} is not writable.")
    except OSError as error:
        raise CommandError(
            f"--out {out}: this path cannot be used ({error.strerror or error}); "
            "give a shorter or another file name."
        ) from None
    return path


class _StagedFile:
    """The --out file, written beside its destination first and moved there at the end.

    :meth:`stage` runs inside the export's audit transaction: a file that cannot
    be written leaves no audit row. :meth:`publish` moves it into place once the
    row is committed; :meth:`discard` removes a staged file that never got there.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.temporary: Path | None = None

    def stage(self, data: bytes) -> None:
        try:
            descriptor, name = tempfile.mkstemp(
                dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp"
            )
            self.temporary = Path(name)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as error:
            where = (
                f"no file can be created in {self.path.parent}" if self.temporary is None else ""
            )
            self.discard()
            reason = f"{where} ({error.strerror})" if where else error.strerror or str(error)
            raise CommandError(
                f"Cannot write {self.path}: {reason}. Nothing was exported."
            ) from None

    def publish(self) -> None:
        if self.temporary is None:
            raise CommandError(f"Cannot write {self.path}: nothing was staged.")
        try:
            self.temporary.replace(self.path)
        except OSError as error:
            self.discard()
            raise CommandError(f"Cannot write {self.path}: {error.strerror or error}.") from None

    def discard(self) -> None:
        if self.temporary is not None:
            self.temporary.unlink(missing_ok=True)


def _quiet_stdout() -> None:
    """Point standard output at /dev/null, so that Python's own flush at exit does not
    fail again on what could not be written."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def cmd_export(args: argparse.Namespace) -> int:
    from services import records

    as_of = _as_of(args.as_of)
    # "-" is standard output, as for most command-line tools.
    out = _check_out_path(args.out) if args.out and args.out != "-" else None
    engine = _engine()
    common: dict[str, Any] = {
        "engine": engine,
        "actor": _actor(),
        "patient": args.patient,
        "as_of": as_of,
        "destination": str(out) if out else "stdout",
    }
    exporters: dict[str, Callable[..., records.ExportResult]] = {
        "sessions": records.export_sessions,
        "review": records.export_review,
        "decisions": records.export_decisions,
    }
    staged = _StagedFile(out) if out else None
    try:
        result = exporters[args.what](**common, deliver=staged.stage if staged else None)
    except BaseException:
        if staged is not None:
            staged.discard()
        raise
    if staged is not None:
        staged.publish()
    if out is None:
        try:
            sys.stdout.buffer.write(result.data)
            sys.stdout.buffer.flush()
        except BrokenPipeError:  # e.g. `| head`: the reader left; not an error of the export
            _quiet_stdout()
        except OSError as error:  # a full disk, say: the export is audited, its data lost
            _quiet_stdout()
            raise CommandError(
                f"Cannot write the export to standard output: {error.strerror or error}. The "
                "audit log records the export, but its data did not all get out; free the space "
                "(or use --out FILE) and export again."
            ) from None
        return EXIT_OK
    print(f"Exported {result.rows} {args.what} rows to {out} (SHA-256 {result.sha256}).")
    return EXIT_OK


def cmd_verify_audit(args: argparse.Namespace) -> int:
    from services.audit import is_audit_hash, verify_audit

    noted = args.expect.strip().lower() if args.expect is not None else None
    if noted is not None and not is_audit_hash(noted):
        raise CommandError(
            f"--expect {args.expect!r} is not an audit hash: give the 64 hexadecimal digits "
            "that an earlier verify-audit printed as the newest hash."
        )
    report = verify_audit(engine=_engine(), actor=_actor(), noted_hash=noted)
    if not report.intact:
        for problem in report.problems:
            _err(f"audit row {problem.event_id}: {problem.problem}")
        if report.missing_hash is not None:
            _err(
                f"The noted hash {report.missing_hash} is not in the trail: rows were "
                "removed from its end or the trail was rewritten since it was noted."
            )
        _err(
            f"The audit trail is broken in "
            f"{len(report.problems) + (report.missing_hash is not None)} place(s) among "
            f"{report.rows} rows."
        )
        return EXIT_INVALID
    print(
        f"The audit trail is intact: {report.rows} rows, each chained to the one before. "
        f"Newest hash: {report.head_hash} (note it down elsewhere to detect a rewrite)."
    )
    return EXIT_OK


# ---------------------------------------------------------------- parsing and errors


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="manage.py",
        description="Command line of the red-flag dashboard. DATABASE_URL selects the database.",
        epilog="Exit status: 0 success, 1 invalid input or refused, 2 wrong usage.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    command = commands.add_parser("init-db", help="create or upgrade the schema in DATABASE_URL")
    command.set_defaults(handler=cmd_init_db)

    command = commands.add_parser("demo", help="load the synthetic demo clinic (idempotent)")
    command.set_defaults(handler=cmd_demo)

    command = commands.add_parser(
        "create-user",
        help="add a user; the password is read from a prompt or standard input",
    )
    command.add_argument("name", metavar="NAME", help="the username")
    command.add_argument("--role", required=True, choices=ROLES, help="what the user may do")
    command.set_defaults(handler=cmd_create_user)

    for name, what, handler in (
        ("import-sessions", "sessions", cmd_import_sessions),
        ("import-decisions", "decisions", cmd_import_decisions),
    ):
        command = commands.add_parser(
            name,
            help=f"import a {what} CSV file: all rows or none",
            description=f"Validate the whole {what} CSV file (records.md) and import it in one "
            "transaction; every problem is printed as `row N, column C: reason`.",
        )
        command.add_argument("file", metavar="FILE", help="the CSV file (UTF-8)")
        command.add_argument(
            "--dry-run", action="store_true", help="validate and report; write nothing"
        )
        command.set_defaults(handler=handler)

    command = commands.add_parser("export", help="write sessions, review or decisions as CSV")
    command.add_argument("what", metavar="WHAT", choices=EXPORTS, help="sessions|review|decisions")
    command.add_argument(
        "--as-of",
        metavar="DATE",
        help="YYYY-MM-DD: the review's evaluation date (default today); for sessions and "
        "decisions, only those on or before it",
    )
    command.add_argument("--patient", metavar="ID", help="only this patient code")
    command.add_argument(
        "--out", metavar="FILE", help="write here (default, or -: standard output)"
    )
    command.set_defaults(handler=cmd_export)

    command = commands.add_parser("verify-audit", help="check the audit trail's hash chain")
    command.add_argument(
        "--expect",
        metavar="HASH",
        help="a newest hash printed by an earlier run: check that it is still in the trail "
        "(finds rows cut from the end)",
    )
    command.set_defaults(handler=cmd_verify_audit)
    return parser


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0].strip() if lines else type(error).__name__


#: PostgreSQL SQLSTATEs of a write that lost to another: deadlock, serialization, lock wait.
_BUSY_SQLSTATES = frozenset({"40P01", "40001", "55P03"})


def _busy(error: Exception) -> bool:
    """Whether a database error means another writer was in the way (worth a retry)."""
    orig = getattr(error, "orig", None)
    if getattr(orig, "sqlstate", None) in _BUSY_SQLSTATES:
        return True
    return "database is locked" in str(orig)


def _explain(error: Exception) -> str | None:
    """The message for an error that bad input or a bad environment can cause, else None."""
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

    from models.db import DatabaseUrlError
    from redflags.clinic_time import ClinicTimezoneError
    from services.access import PermissionDenied
    from services.records import RecordsError
    from services.users import UserError

    if isinstance(error, OperationalError | InterfaceError):
        reason = _first_line(error.orig) if error.orig is not None else type(error).__name__
        if _busy(error):
            return (
                f"The database stopped this command because another write was in its way "
                f"({reason}): nothing was changed; run the command again."
            )
        try:
            where = _database_label()
        except DatabaseUrlError:
            where = "DATABASE_URL"
        return f"Cannot reach the database at {where}: {reason}"
    if isinstance(error, DBAPIError):
        # Never print the statement or its parameters: they may hold patient data.
        reason = _first_line(error.orig) if error.orig is not None else type(error).__name__
        return f"The database refused the operation: {reason}"
    known: tuple[type[Exception], ...] = (
        CommandError,
        DatabaseUrlError,
        ClinicTimezoneError,
        PermissionDenied,
        RecordsError,
        UserError,
    )
    if isinstance(error, known):
        return str(error)
    for module, name in (
        ("services.demo", "DemoRefused"),
        ("redflags.config", "RulesConfigError"),
    ):
        kind = getattr(sys.modules.get(module), name, None)
        if isinstance(kind, type) and isinstance(error, kind):
            return str(error)
    return None


def _check_rules_file() -> None:
    """Every command starts only with a valid rules file in force (rules.md §10)."""
    from redflags.config import load_rules

    load_rules()  # raises RulesConfigError naming the key and what is allowed


def main(argv: Sequence[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        # A file name that is not UTF-8 must not turn a clear message into a crash.
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    args = build_parser().parse_args(argv)
    try:
        _check_rules_file()
        status: int = args.handler(args)
    except KeyboardInterrupt:
        _err("Interrupted; nothing more was done.")
        return 130
    except Exception as error:
        message = _explain(error)
        if message is None:
            if os.environ.get("REDFLAGS_DEBUG"):
                raise
            message = (
                f"Unexpected error ({type(error).__name__}). Run again with REDFLAGS_DEBUG=1 "
                "to see the details."
            )
        _err(message)
        return EXIT_INVALID
    return status


if __name__ == "__main__":
    sys.exit(main())
