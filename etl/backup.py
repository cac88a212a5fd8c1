"""A warehouse backup folder: its layout, its manifest, and the check that it is whole.

    DIR/manifest.json              what the backup holds (below)
    DIR/tables/<table>.parquet     every table of the warehouse, as of one snapshot
    DIR/archive/<ab>/<sha256>      every archived original the tables refer to

The manifest records the format, the warehouse's schema version, the DuckLake snapshot the
tables were read at, when and from where, the rows of every table and the size and SHA-256 of
every file in the folder. `verify` checks all of it before a restore touches anything.

This module only reads and writes the backup folder; the warehouse side (reading a snapshot,
restoring into a warehouse) is in etl/warehouse.py.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

FORMAT = "localism-warehouse-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
_CHUNK = 1 << 20


class BackupError(Exception):
    """A backup folder is missing, damaged or incomplete (the message says what is wrong)."""


@dataclass(frozen=True)
class Manifest:
    """What a verified backup holds."""

    schema_version: str
    snapshot_id: int
    taken_at: str
    source: str
    tables: dict[str, int]  # table -> rows
    archived: list[str]  # SHA-256 of every archived original, sorted

    @staticmethod
    def table_file(table: str) -> str:
        return f"tables/{table}.parquet"

    @staticmethod
    def archive_file(digest: str) -> str:
        return f"archive/{digest[:2]}/{digest}"


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def fsync_tree(folder: Path) -> None:
    """fsync every file and folder under `folder` (so a finished backup survives a power cut)."""
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fd = os.open(dirpath, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_manifest(folder: Path, manifest: Manifest) -> None:
    """Write `folder/manifest.json`: the manifest's fields plus the size and SHA-256 of every file."""
    files = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        files[rel] = {"bytes": path.stat().st_size, "sha256": sha256_of(path)}
    body = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "schema_version": manifest.schema_version,
        "snapshot_id": manifest.snapshot_id,
        "taken_at": manifest.taken_at,
        "source": manifest.source,
        "tables": {t: {"rows": n, "file": Manifest.table_file(t)} for t, n in sorted(manifest.tables.items())},
        "archived": manifest.archived,
        "files": files,
    }
    (folder / MANIFEST).write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _read_manifest(folder: Path) -> dict:
    if not folder.is_dir():
        raise BackupError(f"{folder} is not a folder: there is no backup there.")
    path = folder / MANIFEST
    if not path.is_file():
        raise BackupError(f"{folder} has no {MANIFEST}: it is not a backup, or one that did not finish.")
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackupError(f"{path} is damaged: it is not valid JSON ({exc}).") from exc
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise BackupError(f"{path} is not the manifest of a localism warehouse backup.")
    if body.get("format_version") != FORMAT_VERSION:
        raise BackupError(f"{path}: backup format version {body.get('format_version')!r} is not one this "
                          f"version reads ({FORMAT_VERSION}).")
    for key, kind in (("schema_version", str), ("snapshot_id", int), ("taken_at", str), ("source", str),
                      ("tables", dict), ("archived", list), ("files", dict)):
        if not isinstance(body.get(key), kind):
            raise BackupError(f"{path} is damaged: its '{key}' is missing or not a {kind.__name__}.")
    return body


def _file_problems(folder: Path, files: dict) -> list[str]:
    problems = []
    for rel, entry in sorted(files.items()):
        path = folder / rel
        if ".." in Path(rel).parts or Path(rel).is_absolute():
            problems.append(f"{rel}: not a path inside the backup")
        elif not path.is_file():
            problems.append(f"{rel}: missing")
        elif not isinstance(entry, dict) or path.stat().st_size != entry.get("bytes"):
            problems.append(f"{rel}: damaged (its size differs from the manifest's)")
        elif sha256_of(path) != entry.get("sha256"):
            problems.append(f"{rel}: damaged (its SHA-256 differs from the manifest's)")
    return problems


def verify(folder: Path) -> Manifest:
    """Check a backup folder against its manifest; raise BackupError naming every problem.

    Every file the manifest lists must be there with its size and SHA-256; every table and every
    archived original must be among them (an archived original's name is its own SHA-256).
    """
    folder = Path(folder)
    body = _read_manifest(folder)
    files: dict = body["files"]
    problems = _file_problems(folder, files)
    tables: dict[str, int] = {}
    for table, entry in sorted(body["tables"].items()):
        if not isinstance(entry, dict) or not isinstance(entry.get("rows"), int):
            problems.append(f"table {table}: no row count in the manifest")
            continue
        tables[table] = entry["rows"]
        if Manifest.table_file(table) not in files:
            problems.append(f"table {table}: its file {Manifest.table_file(table)} is not in the backup")
    archived = [str(d) for d in body["archived"]]
    for digest in archived:
        rel = Manifest.archive_file(digest)
        if rel not in files:
            problems.append(f"archived file {digest}: not in the backup")
        elif files[rel].get("sha256") != digest:
            problems.append(f"archived file {digest}: the manifest gives it another SHA-256")
    if not tables:
        problems.append("the manifest lists no tables")
    if problems:
        shown = "\n  ".join(problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise BackupError(f"The backup in {folder} is damaged or incomplete:\n  {shown}{more}")
    return Manifest(schema_version=body["schema_version"], snapshot_id=body["snapshot_id"],
                    taken_at=body["taken_at"], source=body["source"], tables=tables, archived=sorted(archived))
