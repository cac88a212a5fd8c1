"""`python -m etl`: create the warehouse, load reference data and quarterly returns.

Exit codes: 0 accepted (or an identical re-send), 1 rejected, 2 usage error.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import duckdb

from etl import access, opendata_cli, warehouse
from etl import contract as c
from etl.access import Actor
from etl.normalise import match_directorate
from etl.quarters import parse_quarter
from etl.read import MAX_FILE_BYTES, too_big_message
from etl.records import Outcome, audit
from etl.reference import read_reference
from etl.report import problems_text
from etl.stdout import result_only_stdout

EPILOG = """\
examples:
  python -m etl init --db data/council.duckdb
  python -m etl load-reference --db data/council.duckdb wards wards.csv
  python -m etl load-reference --db data/council.duckdb wards wards_wd25.csv --vintage WD25 --from-quarter "2023-24 Q1"
  python -m etl load --db data/council.duckdb --return engagement \\
      --directorate "Adults and Health" --quarter "2025-26 Q2" --user "J Smith" engagement.xlsx
  python -m etl demo --db data/demo.duckdb
  python -m etl add-user --users data/users.json --name j.smith --role lead --directorate ADH
  python -m etl template --return budget --format xlsx --out budget-template.xlsx
  python -m etl build-wards --census census2021-ts021-ward.csv --out wards.csv
  python -m etl init --db "ducklake:postgres:host=db.example dbname=localism" --data-path /srv/localism
  python -m etl migrate --from data/council.duckdb --to "ducklake:postgres:dbname=localism" --data-path /srv/localism
  python -m etl backup --db data/council.duckdb --to /backups/localism-2025-10-01
  python -m etl restore --from /backups/localism-2025-10-01 --db data/restored.duckdb

--db is a file path (the embedded warehouse; its data folder is PATH.data beside it unless
--data-path says otherwise) or ducklake:postgres:<libpq connection string> (a shared warehouse:
catalog in PostgreSQL, data in --data-path / LOCALISM_DATA_PATH). Default: $LOCALISM_DB.

Quarters may be written 2025-26 Q2, 2025/26 Q2, FY2025-26 Q2, Q2 2025/26 or 2025-26-Q2.
Files may be CSV (UTF-8 or Windows-1252, comma or semicolon separated) or Excel .xlsx.
A rejected file stores nothing; the report lists every problem with its line in the file.
A valid return whose figures look implausible (more participants than residents, a total 100
times the directorate's usual) is not stored either, and the command exits 1 with the warnings,
until it is sent with --accept-warnings; the warnings are kept with the submission.
Who is writing: your login name. When an accounts file is configured (--users, $LOCALISM_USERS,
or users.json beside the warehouse), your login's account and its role apply, as in the app;
--as-admin is the operator override, recorded in the audit log.
"""


class UsageError(Exception):
    """Wrong arguments: exit code 2."""


class FileRefused(Exception):
    """A file refused before it is read (over the size limit): exit code 1, nothing stored."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m etl",
        description="Load localism returns and reference data into the council's warehouse.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    db_help = (f"warehouse: a file path or ducklake:postgres:<connection string> "
               f"(default: {warehouse.default_db()})")
    data_help = "the warehouse's data folder (default: $LOCALISM_DATA_PATH, else PATH.data beside a file)"

    def add_db(s: argparse.ArgumentParser, default: str | None = warehouse.default_db()) -> None:
        s.add_argument("--db", default=default, help=db_help)
        s.add_argument("--data-path", default=None, help=data_help)

    s = sub.add_parser("init", help="create an empty warehouse")
    add_db(s)

    s = sub.add_parser(
        "load-reference",
        help="load (replace) reference data: wards, directorates, targets or boundaries",
        description="Replace one reference table. Load wards and directorates before returns, "
        "boundaries (GeoJSON) after wards.\n\n" + WARD_SETS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_db(s)
    _identity_options(s, "loading it")
    s.add_argument("--vintage", default=None,
                   help="wards and boundaries: the ward set, e.g. WD25 (default: see above)")
    s.add_argument("--from-quarter", "--from", dest="from_quarter", default=None, metavar="QUARTER",
                   help="wards: the first quarter the set applies to, e.g. '2025-26 Q1' (default: see above)")
    s.add_argument("kind", choices=c.REFERENCE_KINDS, help="which reference table")
    s.add_argument("file", type=Path, help="CSV/.xlsx file (GeoJSON for boundaries)")

    s = sub.add_parser(
        "load",
        help="submit one quarterly return",
        description="Check one return and store it if it has no problems. A newer accepted file for "
        "the same return, directorate and quarter replaces the older one (which stays in the history).",
    )
    add_db(s)
    s.add_argument("--return", dest="return_type", required=True, choices=c.RETURN_TYPES, help="which return")
    s.add_argument("--directorate", required=True, help="directorate name or short name")
    s.add_argument("--quarter", required=True, help="quarter, e.g. 2025-26 Q2")
    _identity_options(s, "sending it")
    s.add_argument("--accept-warnings", action="store_true",
                   help="store the return even though its figures raise plausibility warnings, once you have "
                   "checked them (without it, such a return is not stored and the command exits 1)")
    s.add_argument("--format", choices=("text", "json"), default="text", help="report format (json for other tools)")
    s.add_argument("file", type=Path, help="the return: CSV or .xlsx")

    s = sub.add_parser("demo", help="build the fictional demo council's warehouse from sample_data/")
    add_db(s)

    s = sub.add_parser(
        "migrate",
        help="move a warehouse, with its whole history, to another place or backend",
        description="Copy every submission, row, reference table, archived file, commentary, "
        "deadline and audit entry from one warehouse (a file, including the older single-file "
        "format, or a shared one) into a new, empty one. The source is only read.",
    )
    s.add_argument("--from", dest="source", required=True, help="the warehouse to move (file path or URI)")
    s.add_argument("--from-data-path", default=None, help="the source's data folder, if not the default")
    s.add_argument("--to", dest="target", required=True, help="the new warehouse (file path or URI)")
    s.add_argument("--data-path", default=None, help="the new warehouse's data folder")

    s = sub.add_parser(
        "backup",
        help="write a consistent, self-contained backup of a warehouse into a new folder",
        description="Copy every table (as of one snapshot: readers and writers carry on meanwhile) and every "
        "archived original file into a new folder, with a manifest of row counts, schema version, snapshot id "
        "and the SHA-256 of every file. The folder appears only once the backup is whole.",
    )
    add_db(s)
    s.add_argument("--to", type=Path, required=True, metavar="DIR", help="a new (or empty) folder for the backup")

    s = sub.add_parser(
        "compact",
        help="merge the warehouse's small data files (queries slow down as they accumulate)",
        description="Every write adds small data files; writes merge them tier by tier as they go, and this "
        "merges every table's files into as few as possible, dropping rows of superseded returns from them. "
        "Readers carry on meanwhile; writers wait. Safe to run at any time, e.g. nightly.",
    )
    add_db(s)

    s = sub.add_parser(
        "restore",
        help="restore a backup into a new or empty warehouse (or, with --replace, over one)",
        description="Check a backup against its manifest (every file's size and SHA-256, every table, every "
        "archived file) and restore it into the warehouse named by --db: created if missing, and it must "
        "be empty unless --replace. A damaged or incomplete backup is refused (exit 1) and nothing changes.",
    )
    add_db(s)
    s.add_argument("--from", dest="source", type=Path, required=True, metavar="DIR", help="the backup folder")
    s.add_argument("--replace", action="store_true",
                   help="replace everything in a warehouse that already holds data with the backup "
                   "(what it holds now is lost: back it up first)")
    s.add_argument("--check", action="store_true", help="only check the backup; restore nothing")

    s = sub.add_parser(
        "add-user",
        help="add (or replace) a dashboard account in the users file",
        description="Add a built-in account (argon2-hashed password, asked for at a prompt or read from "
        "stdin), or with --email an account that signs in through the council's identity provider.",
    )
    s.add_argument("--users", type=Path, default=None,
                   help="accounts file (default: $LOCALISM_USERS, else users.json beside the warehouse)")
    s.add_argument("--name", required=True, help="user name to sign in with")
    s.add_argument("--role", required=True, choices=("viewer", "lead", "admin"), help="what the account may do")
    s.add_argument("--directorate", action="append", default=[], help="a lead's directorate (repeatable)")
    s.add_argument("--email", default=None, help="e-mail address the identity provider signs them in with")
    s.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    s.add_argument("--no-password", action="store_true", help="identity-provider sign-in only (needs --email)")

    s = sub.add_parser("template", help="write a blank return template (CSV or Excel) generated from the schema")
    s.add_argument("--return", dest="return_type", required=True, choices=c.RETURN_TYPES, help="which return")
    s.add_argument("--format", choices=("csv", "xlsx"), default="xlsx", help="file format (default xlsx)")
    add_db(s, None)
    s.add_argument("--out", type=Path, required=True, help="file to write")
    opendata_cli.add_parsers(sub, add_db)
    return p


def _identity_options(s: argparse.ArgumentParser, doing: str) -> None:
    s.add_argument("--user", default=None,
                   help=f"who is {doing} (default: your login name). With an accounts file it must be your "
                   "login name: the roles of that account apply")
    s.add_argument("--users", type=Path, default=None,
                   help="accounts file whose roles apply (default: $LOCALISM_USERS, else users.json beside "
                   "the warehouse when it exists)")
    s.add_argument("--as-admin", action="store_true",
                   help="operator override: act as an administrator whatever the accounts file says; "
                   "recorded as '<login> (operator override)' in the submission and audit logs")


def _read_file(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:  # checked before reading: the file never enters memory
            raise FileRefused(f"{path.name}: {too_big_message(size)} Nothing was stored.")
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise UsageError(f"There is no file {path}.") from exc
    except IsADirectoryError as exc:
        raise UsageError(f"{path} is a folder, not a file.") from exc
    except OSError as exc:
        raise UsageError(f"Cannot read {path}: {exc.strerror}.") from exc


def _warehouse(args: argparse.Namespace) -> warehouse.Warehouse:
    """The warehouse named by --db / --data-path (it must exist)."""
    wh = warehouse.open_warehouse(args.db, args.data_path)
    if not wh.exists():
        raise UsageError(f"There is no warehouse at {wh.label}. Create one first: python -m etl init --db {args.db}")
    return wh


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _user(value: str | None) -> str:
    return value or _login()


def _accounts_file(args: argparse.Namespace) -> Path | None:
    """The accounts file whose roles apply: --users, else $LOCALISM_USERS, else the default one if it exists."""
    from accounts import settings

    if args.users:
        return args.users
    path = settings.users_path()
    return path if os.environ.get("LOCALISM_USERS") or path.exists() else None


def _actor(args: argparse.Namespace) -> Actor:
    """Who is writing: the login's account when an accounts file is configured (its roles apply),
    an audited operator override with --as-admin, else the login (or --user) with no roles to apply."""
    login = _login()
    if args.as_admin:
        return Actor(f"{login} (operator override)", "admin")
    path = _accounts_file(args)
    if path is None:  # no accounts: nobody has a role, as before accounts existed
        name = args.user or login
        return Actor(name if name == login else f"{name} (login {login})", "admin")
    from accounts import store

    if args.user and args.user.strip().lower() != login.lower():
        raise UsageError(f"--user: with an accounts file ({path}) you write as your login name, {login}; "
                         "--user cannot name someone else. An operator loading for someone else uses "
                         "--as-admin, which the audit log records.")
    actor = store.file_account(login, path)
    if actor is None:
        raise UsageError(f"{login} has no account in {path}. Ask an administrator to add one "
                         "(python -m etl add-user), or use --as-admin as an operator.")
    return actor


def _override_audit(actor: Actor, what: str) -> Callable[[Any], None] | None:
    if not actor.name.endswith("(operator override)"):
        return None
    return lambda con: audit(con, actor.name, "operator override", what)


class _Progress:
    """A progress bar on a terminal (stages of a load, with elapsed time); silent when redirected."""

    STAGES = ("reading and checking", "storing", "saving the warehouse")
    WIDTH = 24

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.started = time.monotonic()
        self.step = 0

    def __call__(self, stage: str) -> None:
        self.step = next((i + 1 for i, s in enumerate(self.STAGES) if stage.startswith(s)), self.step + 1)
        if self.tty:
            filled = self.WIDTH * (self.step - 1) // len(self.STAGES)
            bar = "#" * filled + "-" * (self.WIDTH - filled)
            elapsed = time.monotonic() - self.started
            self.stream.write(f"\r\033[K[{bar}] {stage}… {elapsed:.1f}s")
            self.stream.flush()

    def done(self) -> None:
        if self.tty:
            self.stream.write("\r\033[K")
            self.stream.flush()


WARD_SETS_HELP = """\
Ward sets (docs/ward-vintages.md): the wards are kept per set, each with a vintage (ONS's WDnn
label) and the first quarter it applies to; a quarter's returns and KPIs use the set of that
quarter, and no set is ever deleted. Without --vintage and --from-quarter:
  * a file with exactly the ward codes of a set replaces that set's wards (a correction);
  * a file with other codes starts a new set, named by the WDnn in the file's name
    (wards_wd25.csv -> WD25), else set-N, from the quarter after the latest quarter with
    a return, so no stored quarter changes its wards;
  * before any return is stored, a file with other codes replaces the newest set;
  * the first set ('initial' unless named) serves every quarter until a later set starts.
--vintage naming an existing set replaces its wards; a new one starts a set (from
--from-quarter, else the default above). A new set must start after the newest one.
Boundaries go into the set --vintage names, else the set whose ward codes they share most."""


def _print_outcome(outcome: Outcome, fmt: str) -> None:
    if fmt == "json":
        print(json.dumps(outcome.as_dict(), ensure_ascii=False, indent=2))
        return
    print(outcome.message)
    for w in outcome.warnings:
        print(f"{'Warning' if outcome.status == 'queried' else 'Note'}: {w}")
    if outcome.status == "queried":
        print("If these figures are right, send the file again with --accept-warnings; the warnings "
              "are then kept with the submission.")
    if outcome.problems:
        print()
        print(problems_text(outcome.problems))


def cmd_init(args: argparse.Namespace) -> int:
    wh = warehouse.open_warehouse(args.db, args.data_path)
    created = wh.init()
    print(f"Created an empty warehouse at {wh.label}." if created else f"{wh.label} is already a warehouse; left as it is.")
    return 0


def cmd_load_reference(args: argparse.Namespace) -> int:
    wh = _warehouse(args)
    actor = _actor(args)
    if (args.kind not in ("wards", "boundaries") and args.vintage) or (args.kind != "wards" and args.from_quarter):
        raise UsageError("--vintage is for wards and boundaries, --from-quarter for wards only.")
    first_quarter = None
    if args.from_quarter:
        try:
            first_quarter = parse_quarter(args.from_quarter)
        except ValueError as exc:
            raise UsageError(f"--from-quarter: {exc}") from exc
    vintage = args.vintage.strip() if args.vintage and args.vintage.strip() else None
    if args.vintage is not None and vintage is None:
        raise UsageError("--vintage: give a label such as WD25.")
    content = _read_file(args.file)
    try:
        outcome = access.load_reference_as(actor, wh, kind=args.kind, content=content, file_name=args.file.name,
                                           vintage=vintage, first_quarter=first_quarter)
    except PermissionError as exc:
        raise UsageError(f"{exc} Nothing was changed.") from exc
    if outcome.ok and (audit_override := _override_audit(actor, f"etl load-reference {args.kind}")):
        with wh.write() as con:
            audit_override(con)
    _print_outcome(outcome, "text")
    return 0 if outcome.ok else 1


def _directorate(wh: warehouse.Warehouse, name: str) -> str:
    """The reference spelling of `--directorate`, or a usage error naming the known ones."""
    with wh.read() as con:
        ref = read_reference(con)
    directorate = match_directorate(name, ref.directorates, ref.short_names)
    if directorate is None:
        known = ", ".join(ref.directorates) or "none loaded yet (load-reference directorates first)"
        raise UsageError(f"--directorate: '{name}' is not a directorate of this council. Known: {known}")
    return directorate


def cmd_load(args: argparse.Namespace) -> int:
    wh = _warehouse(args)
    try:
        quarter = parse_quarter(args.quarter)
    except ValueError as exc:
        raise UsageError(f"--quarter: {exc}") from exc
    directorate = _directorate(wh, args.directorate)
    actor = _actor(args)
    content = _read_file(args.file)
    progress = _Progress()
    try:
        outcome = access.submit_as(
            actor,
            wh,
            return_type=args.return_type,
            directorate=directorate,
            quarter=quarter,
            content=content,
            file_name=args.file.name,
            progress=progress,
            accept_warnings=args.accept_warnings,
            before_commit=_override_audit(actor, f"etl load {args.return_type} {directorate} {quarter}"),
        )
    except PermissionError as exc:
        raise UsageError(f"{exc} Nothing was stored.") from exc
    finally:
        progress.done()
    _print_outcome(outcome, args.format)
    return 0 if outcome.ok else 1


def cmd_demo(args: argparse.Namespace) -> int:
    from etl.demo import build_demo

    summary = build_demo(warehouse.open_warehouse(args.db, args.data_path), progress=print)
    print(summary)
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    summary = warehouse.migrate(args.source, args.target, source_data_path=args.from_data_path,
                      target_data_path=args.data_path, progress=print)
    print(summary)
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    try:
        summary = warehouse.backup(_warehouse(args), args.to, progress=_stderr)
    except warehouse.BackupRefused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: cannot write the backup: {exc.strerror or exc}"
              f"{f' ({exc.filename})' if exc.filename else ''}. No backup was written.", file=sys.stderr)
        return 1
    print(summary)
    return 0


def cmd_compact(args: argparse.Namespace) -> int:
    print(warehouse.compact_all(_warehouse(args), progress=_stderr))
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from etl.backup import BackupError

    try:
        if args.check:
            manifest = warehouse.verify_backup(args.source)
            print(f"{args.source} is a whole backup of {manifest.source} (snapshot {manifest.snapshot_id}, "
                  f"taken {manifest.taken_at}): {len(manifest.tables)} tables, "
                  f"{len(manifest.archived)} archived files, every file matches its SHA-256.")
            return 0
        summary = warehouse.restore(args.source, warehouse.open_warehouse(args.db, args.data_path),
                                    replace=args.replace, user=_login(), progress=_stderr)
    except BackupError as exc:
        print(f"error: {exc}" + ("" if args.check else "\nNothing was restored."), file=sys.stderr)
        return 1
    except warehouse.BackupRefused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(summary)
    return 0


def _stderr(line: str) -> None:
    print(line, file=sys.stderr)


def cmd_add_user(args: argparse.Namespace) -> int:
    from accounts import settings, store

    path = args.users or settings.users_path()
    password: str | None = None
    if args.no_password:
        if not args.email:
            raise UsageError("--no-password needs --email (sign-in through the identity provider).")
    elif args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"Password for {args.name}: ")
        if password != getpass.getpass("Again: "):
            raise UsageError("The two passwords differ; nothing was changed.")
    try:
        account = store.add_user(path, name=args.name, role=args.role, directorates=args.directorate,
                                 password=password, email=args.email)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    scope = f" for {', '.join(account.directorates)}" if account.directorates else ""
    print(f"Saved {account.name} ({account.role}{scope}) in {path}.")
    return 0


def cmd_template(args: argparse.Namespace) -> int:
    from etl import templates

    if args.format == "csv":
        data = templates.template_csv(args.return_type)
    else:
        names: list[str] = []
        if args.db:
            with _warehouse(args).read() as con:
                names = list(read_reference(con).directorates)
        data = templates.template_xlsx(args.return_type, directorates=names)
    args.out.write_bytes(data)
    print(f"Wrote the {args.return_type} template to {args.out}.")
    return 0


COMMANDS = {"init": cmd_init, "load-reference": cmd_load_reference, "load": cmd_load, "demo": cmd_demo,
            "migrate": cmd_migrate, "backup": cmd_backup, "compact": cmd_compact, "restore": cmd_restore, "add-user": cmd_add_user, "template": cmd_template, **opendata_cli.COMMANDS}


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    args = _parser().parse_args(argv)
    if getattr(args, "format", None) in ("csv", "json"):
        with result_only_stdout():  # nothing but the result on stdout: other tools parse it
            return _run(args)
    return _run(args)


def _run(args: argparse.Namespace) -> int:
    try:
        return COMMANDS[args.command](args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except FileRefused as exc:
        print(f"Rejected: {exc}", file=sys.stderr)
        return 1
    except duckdb.Error as exc:  # DuckDB could not write (a full disk): the old file is untouched
        print(f"error: cannot write the warehouse: {str(exc).splitlines()[0]}. Nothing was stored; "
              "the warehouse is as it was.", file=sys.stderr)
        return 1
    except OSError as exc:  # a full disk or a read-only folder: the old warehouse is untouched
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"error: cannot write the warehouse: {exc.strerror or exc}{where}. Nothing was stored; "
              "the warehouse is as it was.", file=sys.stderr)
        return 1
    except warehouse.WarehouseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nStopped: nothing was stored.", file=sys.stderr)
        return 1
