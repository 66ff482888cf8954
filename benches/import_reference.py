#!/usr/bin/env python3
"""The import a volunteer would write with Python's standard library, as a yardstick.

`cargo bench --bench import` runs it on the same files as `campaign`, in the same run, and
prints both times and the ratio. It does the same logical work minus phone parsing: a row
needs a name, an email with an @ (when there is one) and an email or a ZIP; one signer per
trimmed, lowercased email, or without an email per lowercased name and ZIP; one transaction;
one prepared INSERT OR IGNORE through executemany over the CSV reader, against a UNIQUE index
on (campaign, key). The export is csv.writer over a SELECT.

    import_reference.py import DB CAMPAIGN FILE  ->  {"read": ., "added": ., "duplicates": ., "rejected": .}
    import_reference.py export DB CAMPAIGN FILE  ->  {"exported": .}
"""

import csv
import json
import sqlite3
import sys
from datetime import datetime, timezone

SCHEMA = """
CREATE TABLE IF NOT EXISTS signatures (
    id INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    email TEXT,
    postcode TEXT,
    phone TEXT,
    opt_in INTEGER NOT NULL,
    private INTEGER NOT NULL,
    source TEXT NOT NULL,
    signed_at TEXT NOT NULL,
    dedupe_key TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS signatures_key ON signatures (campaign_id, dedupe_key);
"""

INSERT = """
INSERT OR IGNORE INTO signatures
    (campaign_id, name, email, postcode, phone, opt_in, private, source, signed_at, dedupe_key)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""

YES = {"yes", "y", "true", "1", "x", "sí", "si"}


def import_csv(db, campaign, path):
    conn = sqlite3.connect(db)
    conn.executescript(SCHEMA)
    counts = {"read": 0, "rejected": 0}
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")

    def rows(reader):
        header = [h.strip().lower() for h in next(reader)]
        name, email, zip_, phone, opt_in, private = (
            header.index(c) for c in ("name", "email", "zip", "phone", "opt_in", "private")
        )
        for row in reader:
            counts["read"] += 1
            n, e, z = row[name].strip(), row[email].strip(), row[zip_].strip()
            if not n or (e and "@" not in e) or not (e or z):
                counts["rejected"] += 1
                continue
            key = e.lower() if e else n.lower() + "\n" + z.upper().replace(" ", "")
            yield (
                campaign,
                n,
                e or None,
                z or None,
                row[phone].strip() or None,
                row[opt_in].strip().lower() in YES,
                row[private].strip().lower() in YES,
                "online",
                now,
                key,
            )

    before = conn.total_changes
    with open(path, newline="", encoding="utf-8") as f, conn:
        conn.executemany(INSERT, rows(csv.reader(f)))
    added = conn.total_changes - before
    conn.close()
    counts["added"] = added
    counts["duplicates"] = counts["read"] - counts["rejected"] - added
    return counts


def export_csv(db, campaign, path):
    conn = sqlite3.connect(db)
    cursor = conn.execute(
        "SELECT name, email, postcode, phone, opt_in, private, source, signed_at"
        " FROM signatures WHERE campaign_id = ? ORDER BY id",
        (campaign,),
    )
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow([d[0] for d in cursor.description])
        writer.writerows(cursor)
        exported = conn.execute(
            "SELECT count(*) FROM signatures WHERE campaign_id = ?", (campaign,)
        ).fetchone()[0]
    conn.close()
    return {"exported": exported}


def main(argv):
    if len(argv) != 5 or argv[1] not in ("import", "export"):
        print(__doc__, file=sys.stderr)
        return 2
    command, db, campaign, path = argv[1], argv[2], int(argv[3]), argv[4]
    run = import_csv if command == "import" else export_csv
    print(json.dumps(run(db, campaign, path)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
