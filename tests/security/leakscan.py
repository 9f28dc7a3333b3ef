"""Find planted secrets in whatever the product wrote: files, database contents, captured text.

A finding names the needle's label and where it was seen, never the needle itself (so a failing assertion
does not print the secret either).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import sqlalchemy as sa

AUTH_PREFIXES = ("Zoho-oauthtoken ", "Bearer ")


def needles_for(secrets: Mapping[str, str], tokens: Mapping[str, str]) -> dict[str, str]:
    """label -> value for every secret, every token, and each token behind each Authorization scheme."""
    needles = {label: value for label, value in secrets.items() if value}
    for label, token in tokens.items():
        if not token:
            continue
        needles[label] = token
        for prefix in AUTH_PREFIXES:
            needles[f"{prefix.strip()} + {label}"] = prefix + token
    return needles


def scan_text(where: str, text: str, needles: Mapping[str, str]) -> list[str]:
    return [f"{label} in {where}" for label, value in needles.items() if value in text]


def scan_bytes(where: str, data: bytes, needles: Mapping[str, str]) -> list[str]:
    found = []
    for label, value in needles.items():
        encoded = value.encode()
        # UTF-8 as written, and UTF-16 (SQLite can store text either way).
        if encoded in data or value.encode("utf-16-le") in data:
            found.append(f"{label} in {where}")
    return found


def scan_tree(root: Path, needles: Mapping[str, str]) -> tuple[list[str], list[Path]]:
    """Every file under `root` (logs, rotated logs, DB, WAL, key file, ...): findings and files read."""
    findings: list[str] = []
    files = sorted(path for path in root.rglob("*") if path.is_file())
    for path in files:
        findings += scan_bytes(str(path), path.read_bytes(), needles)
    return findings, files


def dump_database(engine: sa.Engine) -> dict[str, list[str]]:
    """Every row of every table as text (each column rendered with str); works on SQLite and PostgreSQL."""
    dump: dict[str, list[str]] = {}
    inspector = sa.inspect(engine)
    with engine.connect() as conn:
        for table in inspector.get_table_names():
            columns = [column["name"] for column in inspector.get_columns(table)]
            quoted = ", ".join(conn.dialect.identifier_preparer.quote(name) for name in columns)
            name = conn.dialect.identifier_preparer.quote(table)
            rows = conn.execute(sa.text(f"SELECT {quoted} FROM {name}")).all()  # noqa: S608 (inspected names)
            dump[table] = ["\x1f".join("" if value is None else str(value) for value in row) for row in rows]
    return dump


def scan_database(engine: sa.Engine, needles: Mapping[str, str]) -> tuple[list[str], int]:
    """Findings in the dumped rows, and how many rows were read."""
    findings: list[str] = []
    rows = 0
    for table, lines in dump_database(engine).items():
        rows += len(lines)
        for line in lines:
            findings += scan_text(f"table {table}", line, needles)
    return sorted(set(findings)), rows


def scan_texts(texts: Iterable[tuple[str, str]], needles: Mapping[str, str]) -> list[str]:
    findings: list[str] = []
    for where, text in texts:
        findings += scan_text(where, text, needles)
    return findings
