#!/usr/bin/env python3
"""A CSV data set as evaluate's input: one JSON event per row, in the file's order.

    scripts/csv-to-events.py FILE.csv --label COLUMN [--id-prefix r-] > events.jsonl

Every other column is a feature: a number when it parses as one, else a string. No entity,
no timestamp: the events carry only what the row holds (an event without an entity is
predicted and learned without entity aggregates). The label is a number when it parses as
one (0/1 or a regression target), else a class name. An empty, NaN or infinite cell (as
pandas writes a missing value) is missing: the feature is left out, and a row without a
label becomes an event without one (predicted, not learned). JSON has no NaN: written as
it is, the whole row would be a dead letter. The file must be UTF-8 (a byte order mark is
allowed) and every row as wide as the header: otherwise it stops, naming the line.
"""
import math
import argparse
import csv
import io
import json
import sys


def value(text):
    """The cell as a number, a string, or None when it is missing."""
    if text is None or text == "":
        return None
    try:
        number = float(text)
    except ValueError:
        return text
    if not math.isfinite(number):
        return None
    return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else number


# DictReader's key for the cells of a row longer than the header.
EXTRA = object()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("csv")
    parser.add_argument("--label", required=True, help="the target column")
    parser.add_argument("--id-prefix", default="r-", help="event ids are PREFIX<row>, from 0")
    args = parser.parse_args()
    with open(args.csv, "rb") as f:
        data = f.read()
    try:
        content = data.decode("utf-8-sig")  # a spreadsheet's byte order mark is not part of a column name
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        sys.exit(f"csv-to-events: {args.csv}:{line}: not UTF-8 ({e.reason})")
    rows = csv.DictReader(io.StringIO(content, newline=""), restkey=EXTRA)
    columns = rows.fieldnames
    if not columns:
        sys.exit(f"csv-to-events: {args.csv} is empty (no header line)")
    if args.label not in columns:
        sys.exit(f"csv-to-events: {args.csv} has no column '{args.label}' (columns: {', '.join(columns)})")
    for i, row in enumerate(rows):
        # A row of another width stops the conversion at its line: dropped or shifted cells
        # would change the stream without a word.
        if EXTRA in row or None in row.values():
            cells = sum(v is not None for k, v in row.items() if k is not EXTRA) + len(row.get(EXTRA, []))
            sys.exit(f"csv-to-events: {args.csv}:{rows.line_num}: {cells} cell(s), the header has {len(columns)} columns")
        label = value(row.pop(args.label))
        features = {k: v for k, v in ((k, value(text)) for k, text in row.items()) if v is not None}
        event = {"id": f"{args.id_prefix}{i}", "features": features}
        if label is not None:
            event["label"] = label
        sys.stdout.write(json.dumps(event, separators=(",", ":")) + "\n")

if __name__ == "__main__":
    main()
