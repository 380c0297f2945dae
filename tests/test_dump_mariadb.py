"""clinickv-dump --format sql loads into MariaDB after the DDL, with foreign key checks
on: a full dump of two tenants, then incremental dumps (upserts and deletes, cascades
included) on top; afterwards MariaDB holds, table by table, the rows clinickv holds, with
the same values (docs/backup.md). Skipped (exit 77) when MariaDB is not installed.
"""

import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import ckserver  # noqa: E402
import dumpdata  # noqa: E402
import mariadb  # noqa: E402
from dumpdata import tool, seq_of  # noqa: E402

WORK = None
DB = "healthcare_saas"


def path(name):
    return os.path.join(WORK, name)


def dump(data, out, *args):
    return tool("clinickv-dump", "--data", data, "-o", out, *args)


def jsonl_rows(p):
    """{table: {id: row}} of a JSON-lines full dump."""
    out = {}
    with open(p, encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            if rec["type"] == "row":
                out.setdefault(rec["table"], {})[rec["row"]["id"]] = rec["row"]
    return out


def load_schema(db):
    db.sql("CREATE DATABASE %s CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci" % DB)
    src = os.environ.get("CLINICKV_SOURCE") or os.path.join(os.path.dirname(__file__), "..")
    for f in ("00-master-schema.sql", "01-pharmacy-module.sql"):
        db.source(os.path.join(src, "schema", f), database=DB)


def compare(db, data, tag):
    """MariaDB's tables against a JSON-lines dump of the data directory: the same ids
    in every table, and the same values in the columns a SQL round trip keeps."""
    j = path(tag + ".jsonl")
    dump(data, j, "--format", "jsonl")
    want = jsonl_rows(j)
    tables = [r[0] for r in db.sql("SELECT table_name FROM information_schema.tables "
                                   "WHERE table_schema = '%s'" % DB)]
    assert len(tables) == 40, tables
    for t in tables:
        ids = sorted(r[0] for r in db.sql("SELECT id FROM `%s`" % t, database=DB))
        assert ids == sorted(want.get(t, {})), "%s: %d rows in MariaDB, %d in clinickv" % (
            t, len(ids), len(want.get(t, {})))
    # Values that needed care: escaped strings, JSON text, DECIMAL, TIMESTAMP(3), BLOB.
    for row in want["appointments"].values():
        # HEX(): the client's XML cannot carry the control characters of the strings
        got = db.sql("SELECT HEX(notes), HEX(planned_procedures), appointment_date FROM "
                     "appointments WHERE id = '%s'" % row["id"], database=DB)[0]
        text = lambda h: None if h is None else bytes.fromhex(h).decode("utf-8")  # noqa: E731
        assert text(got[0]) == row["notes"], (text(got[0]), row["notes"])
        if row["planned_procedures"] is None:
            assert got[1] is None
        else:
            assert json.loads(text(got[1])) == row["planned_procedures"]
        # TIMESTAMP(0): whole seconds of clinickv's milliseconds
        assert got[2] == row["appointment_date"][:19].replace("T", " "), (got[2], row)
    for row in want["analytics_events"].values():
        got = db.sql("SELECT occurred_at FROM analytics_events WHERE id = '%s'" % row["id"],
                     database=DB)[0]
        assert got[0] == row["occurred_at"][:23].replace("T", " "), (got, row["occurred_at"])
    for row in want["patients"].values():
        got = db.sql("SELECT TO_BASE64(encrypted_demographics) FROM patients WHERE id = '%s'"
                     % row["id"], database=DB)[0]
        assert got[0].replace("\n", "") == row["encrypted_demographics"]
    for row in want["products"].values():
        got = db.sql("SELECT unit_price FROM products WHERE id = '%s'" % row["id"], database=DB)[0]
        assert got[0] == row["unit_price"], (got, row["unit_price"])


def test_sql_into_mariadb():
    pw = dumpdata.PASSWORD
    with ckserver.Server() as srv, mariadb.server() as db:
        srv.start()
        fac = dumpdata.populate(srv)
        srv.cli("tenant", "create", "--data", srv.data, "--tenant", "acme", "--admin-email",
                "boss@acme.example", "--admin-password", pw)
        with srv.client() as c:
            c.login("acme", "boss@acme.example", pw)
            dumpdata.populate(srv, client=c, rounds=1)
        seqf = path("seq")
        dump(srv.data, path("full.sql"), "--format", "sql", "--seq-file", seqf)
        text = open(path("full.sql"), encoding="utf-8").read()
        assert "SET SESSION foreign_key_checks = 1;" in text
        load_schema(db)
        db.source(path("full.sql"), database=DB)
        compare(db, srv.data, "full")
        # Incrementals: inserts, updates, soft deletes, cascading hard deletes.
        for n in (1, 2):
            dumpdata.mutate(fac, n)
            inc = path("incr-%d.sql" % n)
            dump(srv.data, inc, "--format", "sql", "--since", seq_of(seqf), "--seq-file", seqf)
            db.source(inc, database=DB)
            compare(db, srv.data, "incr-%d" % n)
        # A tenant deleted in clinickv goes in MariaDB too, though InnoDB checks ON DELETE
        # RESTRICT (payments -> invoices) row by row: the dump deletes children first.
        srv.cli("tenant", "delete", "--data", srv.data, "--tenant", "acme")
        inc = path("incr-del.sql")
        dump(srv.data, inc, "--format", "sql", "--since", seq_of(seqf), "--seq-file", seqf)
        db.source(inc, database=DB)
        compare(db, srv.data, "incr-del")
        assert db.sql("SELECT COUNT(*) FROM tenants", database=DB) == [("1",)]
        # the trailer's checksum verifies
        p = tool("clinickv-restore", "--verify", "-i", path("full.sql"))
        assert b"checksum verified" in p.stdout
        fac.client.close()


def main():
    global WORK
    avail = mariadb.available()
    if not avail:
        print("SKIP: " + avail.reason)
        sys.exit(77)
    WORK = tempfile.mkdtemp(prefix="clinickv-dumpsql-")
    try:
        ckserver.run_tests([test_sql_into_mariadb])
    finally:
        shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
