"""CSV in and out, holding no rule: files written for Excel (UTF-8 with a byte-order mark,
so Arabic opens intact; a cell that Excel would run as a formula made plain text) and
files read from a sheet (UTF-8 with or without the mark, comma or semicolon separated,
a header row naming the columns in any order).

What each list writes and what each upload means by its columns are the services'."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from kamportal.errors import ValidationError

BOM = "\ufeff"
# A cell starting with one of these is read by Excel (and LibreOffice) as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Rows joined into one piece of the streamed body.
LINES_A_PIECE = 200


# --- Writing ----------------------------------------------------------------------------------


def cell(value: Any) -> str:
    """One value as a cell: nothing for None, dates and instants in ISO 8601, money and
    numbers plain (a point, no grouping), yes/no for a flag; text starting like a formula
    behind an apostrophe (CSV injection)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | int | float):
        return format(value, "f") if isinstance(value, Decimal) else str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The file as pieces of text to stream: the byte-order mark and the header row, then
    the rows, LINES_A_PIECE at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    yield BOM + buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    for count, row in enumerate(rows, start=1):
        writer.writerow([cell(value) for value in row])
        if count % LINES_A_PIECE == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


# --- Reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CsvRow:
    """A row of a file: its line (the header is line 1) and its fields by name."""

    line: int
    fields: dict[str, str]


def read_rows(
    data: bytes,
    *,
    fields: Sequence[str],
    required: Sequence[str],
    max_bytes: int,
    max_rows: int,
    what: str = "rows",
) -> list[CsvRow]:
    """The file's rows, blank lines skipped, each with the columns among `fields` it has.
    Raises ValidationError (field "file") for a file that is empty, too large, not UTF-8
    text, not CSV, or whose header row lacks one of `required`: what to do about it, in the
    user's words (`what` names the rows: "figures", "clients")."""
    if not data.strip():
        raise ValidationError("The file is empty.", field="file")
    if len(data) > max_bytes:
        raise ValidationError(
            f"The file is larger than {max_bytes / (1024 * 1024):g} MB: split it.", field="file"
        )
    if b"\x00" in data:
        raise ValidationError(
            "This is not a CSV file (it holds binary data). Save the sheet as CSV (UTF-8).",
            field="file",
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(
            "The file is not UTF-8 text. Save the sheet as CSV (UTF-8).", field="file"
        ) from None
    first_line = text.lstrip().split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = _header(reader, fields, required)
        rows = []
        for values in reader:
            if not any(value.strip() for value in values):
                continue
            if len(rows) == max_rows:
                raise ValidationError(f"At most {max_rows:,} rows a file: split it.", field="file")
            found = {
                name: values[place]
                for place, name in enumerate(header)
                if name in fields and place < len(values)
            }
            rows.append(CsvRow(reader.line_num, found))
    except csv.Error:
        raise ValidationError(
            f"Line {reader.line_num} cannot be read as CSV (a quote left open?).", field="file"
        ) from None
    if not rows:
        raise ValidationError(f"The file has a header row but no {what}.", field="file")
    return rows


def _header(reader: Any, fields: Sequence[str], required: Sequence[str]) -> list[str]:
    header = [name.strip().lower() for name in next(reader, [])]
    missing = [name for name in required if name not in header]
    if missing:
        optional = [name for name in fields if name not in required]
        also = f" (and {', '.join(optional)}, if you like)" if optional else ""
        raise ValidationError(
            f"The header row lacks {', '.join(missing)}: the first row names the columns "
            f"{', '.join(required)}{also}, in any order.",
            field="file",
        )
    return header
