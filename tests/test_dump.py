"""clinickv-dump, clinickv-restore and clinickv backup, against real servers and data
directories (docs/backup.md).

What a user relies on: a dump restores to exactly the data it was taken from (native
dumps of the two are byte-identical, `clinickv check` passes, the server serves it, PHI
still opens with the PHI keys), incrementals replay to exactly a later point in time,
damaged or incomplete dumps are refused with the target left alone, encrypted dumps
need their key, and one tenant moves into a live server.
"""

import json
import os
import shutil
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import ckserver  # noqa: E402
import dumpdata  # noqa: E402
from dumpdata import tool, clinickv, file_bytes, seq_of  # noqa: E402

WORK = None


def path(name):
    return os.path.join(WORK, name)


def dump(data, out, *args):
    return tool("clinickv-dump", "--data", data, "-o", out, *args)


def restore(data, *inputs, check=True, extra=()):
    args = ["--data", data]
    for i in inputs:
        args += ["-i", i]
    return tool("clinickv-restore", *(args + list(extra)), check=check)


def check_clean(data):
    p = clinickv("check", "--data", data)
    assert b"no problems" in p.stdout, p.stdout


def same_native(a_data, b_data, tag, *args):
    """Native dumps of two data directories, byte for byte."""
    a, b = path(tag + "-a.ckd"), path(tag + "-b.ckd")
    dump(a_data, a, *args)
    dump(b_data, b, *args)
    da, db = file_bytes(a), file_bytes(b)
    assert da == db, "%s: the dumps differ (%d and %d bytes)" % (tag, len(da), len(db))
    return da


def jsonl_rows(p, sealed=True):
    """The row records of a JSON-lines dump, sorted; sealed=False leaves out the PHI
    columns (ciphertexts, key ids, blind indexes), which a move seals again."""
    out = []
    for line in file_bytes(p).decode().splitlines():
        if not line.startswith('{"type":"row"'):
            continue
        if not sealed:
            rec = json.loads(line)
            for k in list(rec["row"]):
                if k.startswith("encrypted_") or k.endswith(("_key_id", "_search_hash")):
                    del rec["row"][k]
            line = json.dumps(rec, sort_keys=True)
        out.append(line)
    return sorted(out)


def test_usage():
    for name in ("clinickv-dump", "clinickv-restore"):
        p = tool(name, "--help")
        assert b"usage:" in p.stdout
        assert tool(name, check=False).returncode == 2
    p = tool("clinickv-dump", "--data", "x", "-o", "y", "--format", "xml", check=False)
    assert p.returncode == 2 and b"native, jsonl or sql" in p.stderr
    p = clinickv("backup", "--help")
    assert b"--to" in p.stdout
    # No data directory there: exit 1 with the reason, nothing written.
    p = tool("clinickv-dump", "--data", path("nowhere"), "-o", path("x.ckd"), check=False)
    assert p.returncode == 1 and b"no clinickv data directory" in p.stderr
    assert not os.path.exists(path("x.ckd"))


def test_roundtrip_native():
    """Dump a live server (written to while the dump runs), restore into a new
    directory, and serve it: same bytes, clean check, PHI opens with the copied keys."""
    with ckserver.Server() as srv:
        srv.start()
        fac = dumpdata.populate(srv)
        pat = fac.make("patients")
        # Writers keep going while the dump reads: it must neither block them nor
        # mix their rows into its snapshot.
        stop = threading.Event()
        errors = []

        def writer():
            try:
                with srv.admin() as c:
                    from rowfactory import RowFactory
                    f = RowFactory(c, describe=dumpdata.describe(c))
                    while not stop.is_set():
                        f.make("analytics_events")
            except Exception as e:  # pragma: no cover - reported below
                errors.append(e)

        th = threading.Thread(target=writer)
        th.start()
        try:
            full = path("rt.ckd")
            p = dump(srv.data, full, "--seq-file", path("rt.seq"), "--verbose")
            assert b"full dump of all tenants" in p.stderr
        finally:
            stop.set()
            th.join()
        assert not errors, errors
        # The snapshot is consistent with its seq: the changes after it, replayed on
        # the restored copy, give exactly the live data.
        incr = path("rt-incr.ckd")
        dump(srv.data, incr, "--since", seq_of(path("rt.seq")))
        dst = path("rt-restored")
        p = restore(dst, full, incr, extra=["--key-file", os.path.join(srv.data, "phi.keys")])
        assert b"restored" in p.stdout
        check_clean(dst)
        same_native(srv.data, dst, "rt")
        fac.client.close()
        srv.stop()
        # The restored directory serves: logins (password hashes) and PHI (sealed
        # with the source's keys, copied with --key-file) come back.
        with ckserver.Server(init=False, data_dir=dst) as copy:
            copy.start()
            with copy.admin() as c:
                got = c.call("row.get", {"table": "patients", "id": pat["id"]})
                assert got["demographics"] == pat["demographics"], got
                assert "encrypted_demographics" not in got


def test_roundtrip_jsonl():
    """The readable format restores to the same data: the native dump of the copy is
    the source's, byte for byte, and the JSON holds no plaintext PHI."""
    with ckserver.Server() as srv:
        srv.start()
        fac = dumpdata.populate(srv)
        fac.client.close()
        srv.stop()
        j = path("rt.jsonl")
        dump(srv.data, j, "--format", "jsonl")
        text = file_bytes(j).decode("utf-8")
        assert text.count("\n") == len(text.splitlines())
        trailer = json.loads(text.splitlines()[-1])
        assert trailer["type"] == "trailer" and len(trailer["counts"]) == 40, trailer  # all tables
        assert '"encrypted_demographics":"' in text            # sealed, base64
        for name in ("García", "Lindqvist", "ana.garcia@example.com"):  # demo patients' PHI
            assert name not in text, name
        dst = path("rt-jsonl")
        restore(dst, j)
        check_clean(dst)
        same_native(srv.data, dst, "rtj")
        # and back to JSON lines: the same text
        j2 = path("rt2.jsonl")
        dump(dst, j2, "--format", "jsonl")
        assert file_bytes(j2) == file_bytes(j)


def test_point_in_time():
    """full, writes, incremental, writes, incremental: the chain restores to the live
    data at the second incremental's seq, in native and JSON lines, all at once or
    applied one by one to the restored directory later."""
    with ckserver.Server() as srv:
        srv.start()
        fac = dumpdata.populate(srv)
        seqf = path("pit.seq")
        dump(srv.data, path("pit-full.ckd"), "--seq-file", seqf)
        dump(srv.data, path("pit-full.jsonl"), "--format", "jsonl")
        s0 = seq_of(seqf)
        dumpdata.mutate(fac, 1)
        dump(srv.data, path("pit-1.ckd"), "--since", s0, "--seq-file", seqf)
        s1 = seq_of(seqf)
        dump(srv.data, path("pit-1.jsonl"), "--since", s0, "--format", "jsonl")
        assert s1 > s0
        dumpdata.mutate(fac, 2)
        dump(srv.data, path("pit-2.ckd"), "--since", s1, "--seq-file", seqf)
        dump(srv.data, path("pit-2.jsonl"), "--since", s1, "--format", "jsonl")
        s2 = seq_of(seqf)
        # the live state at s2 (nothing written since)
        live = path("pit-live.ckd")
        dump(srv.data, live)
        # later writes are not part of the restore
        fac.make("patients")
        fac.client.close()

        a = path("pit-a")
        restore(a, path("pit-full.ckd"), path("pit-1.ckd"), path("pit-2.ckd"))
        check_clean(a)
        dump(a, path("pit-a.ckd"))
        assert file_bytes(path("pit-a.ckd")) == file_bytes(live)

        b = path("pit-b")
        restore(b, path("pit-full.jsonl"), path("pit-1.jsonl"), path("pit-2.jsonl"))
        dump(b, path("pit-b.ckd"))
        assert file_bytes(path("pit-b.ckd")) == file_bytes(live)

        # One at a time: the restored directory remembers where it is.
        c = path("pit-c")
        restore(c, path("pit-full.ckd"))
        p = restore(c, path("pit-2.ckd"), check=False)
        assert p.returncode == 1 and b"after seq %d" % s1 in p.stderr, p.stderr
        restore(c, path("pit-1.ckd"))
        restore(c, path("pit-2.ckd"))
        check_clean(c)
        dump(c, path("pit-c.ckd"))
        assert file_bytes(path("pit-c.ckd")) == file_bytes(live)
        # The restored directory's log continues the source's numbering: its own
        # incremental from s1 holds the same changes as the source's.
        dump(c, path("pit-c-incr.ckd"), "--since", s1)
        assert file_bytes(path("pit-c-incr.ckd")) == file_bytes(path("pit-2.ckd"))
        # A write to the copy ends its life as a replica.
        with ckserver.Server(init=False, data_dir=c) as copy:
            copy.start()
            with copy.admin() as cl:
                clinic = cl.call("row.query", {"table": "clinics", "allow_scan": True, "limit": 1})
                cl.call("row.update", {"table": "clinics", "id": clinic["rows"][0]["id"],
                                       "set": {"name": "Local change"}})
        dump(srv.data, path("pit-3.ckd"), "--since", s2)
        p = restore(c, path("pit-3.ckd"), check=False)
        assert p.returncode == 1 and b"written to since it was restored" in p.stderr, p.stderr


def test_refusals():
    """A truncated dump, a flipped byte, a missing incremental, another schema
    version: refused with a reason, and the target is left as it was."""
    with ckserver.Server() as srv:
        srv.start()
        fac = dumpdata.populate(srv, rounds=1)
        seqf = path("ref.seq")
        full = path("ref-full.ckd")
        dump(srv.data, full, "--seq-file", seqf)
        dumpdata.mutate(fac, 1)
        dump(srv.data, path("ref-1.ckd"), "--since", seq_of(path("ref.seq")), "--seq-file", seqf)
        dumpdata.mutate(fac, 2)
        dump(srv.data, path("ref-2.ckd"), "--since", seq_of(seqf))
        dump(srv.data, path("ref-full.jsonl"), "--format", "jsonl")
        fac.client.close()
    data = file_bytes(full)

    def refused(name, blob, why, inputs=None):
        p = path(name)
        if blob is not None:
            with open(p, "wb") as f:
                f.write(blob)
        target = path(name + "-target")
        r = restore(target, *(inputs or [p]), check=False)
        assert r.returncode == 1, (name, r.stdout, r.stderr)
        assert why in r.stderr, (name, r.stderr)
        assert not os.path.exists(target), name
        leftovers = [e for e in os.listdir(WORK) if e.startswith("." + name)]
        assert not leftovers, leftovers

    refused("trunc-end", data[:-1], b"truncated")
    refused("trunc-half", data[: len(data) // 2], b"truncated")
    refused("trunc-trailer", data[: len(data) - 20], b"truncated")
    mid = len(data) // 2
    flipped = data[:mid] + bytes([data[mid] ^ 0x01]) + data[mid + 1:]
    refused("flipped", flipped, b"")
    # A flipped byte inside a string value: only the checksum can tell.
    at = data.index(b"Supply")
    refused("flipped-text", data[:at] + b"S" + b"x" + data[at + 2:], b"checksum mismatch")
    refused("gap", None, b"an incremental dump is missing", [full, path("ref-2.ckd")])
    refused("overlap", None, b"overlap", [full, path("ref-1.ckd"), path("ref-1.ckd")])
    refused("incr-first", None, b"restore the full dump it follows first", [path("ref-1.ckd")])
    text = file_bytes(path("ref-full.jsonl")).decode()
    first, rest = text.split("\n", 1)
    other = first.replace('"schema_version":"', '"schema_version":"0000')
    refused("schema", (other + "\n" + rest).encode(), b"schema version")
    lines = text.splitlines(keepends=True)
    refused("jsonl-line", "".join(lines[:3] + lines[4:]).encode(), b"checksum mismatch")
    refused("empty", b"", b"not a clinickv dump")
    # An existing data directory is never overwritten by a full restore.
    target = path("ref-existing")
    restore(target, full)
    before = dumpdata.file_bytes(os.path.join(target, "db", "data.mdb"))
    r = restore(target, full, check=False)
    assert r.returncode == 1 and b"already holds a data directory" in r.stderr
    # nor changed by an incremental that does not apply
    r = restore(target, path("ref-2.ckd"), check=False)
    assert r.returncode == 1
    assert dumpdata.file_bytes(os.path.join(target, "db", "data.mdb")) == before
    # a non-empty directory is refused
    os.makedirs(path("nonempty"))
    open(path("nonempty/x"), "w").close()
    r = restore(path("nonempty"), full, check=False)
    assert r.returncode == 1 and b"not empty" in r.stderr
    # --verify checks without a target
    p = tool("clinickv-restore", "--verify", "-i", full, "-i", path("ref-1.ckd"),
             "-i", path("ref-2.ckd"))
    assert b"form one chain" in p.stdout and p.stdout.count(b"checksum verified") == 3
    r = tool("clinickv-restore", "--verify", "-i", path("flipped"), check=False)
    assert r.returncode == 1


def test_encryption():
    """--encrypt seals any format; without the right key nothing restores; a cut
    anywhere is detected; key files must be 32 private bytes."""
    key = path("dump.key")
    with open(key, "wb") as f:
        f.write(os.urandom(32))
    os.chmod(key, 0o600)
    with ckserver.Server() as srv:
        srv.start()
        dumpdata.populate(srv, rounds=1).client.close()
        enc = path("enc.ckd")
        dump(srv.data, enc, "--encrypt", key)
        dump(srv.data, path("enc.jsonl"), "--encrypt", key, "--format", "jsonl")
        blob = file_bytes(enc)
        assert blob.startswith(b"CKVDMPE1")
        assert b"demo" not in blob and b"admin@demo.clinic" not in blob
        assert b"admin@demo.clinic" not in file_bytes(path("enc.jsonl"))
        r = restore(path("enc-nokey"), enc, check=False)
        assert r.returncode == 1 and b"--decrypt" in r.stderr
        other = path("other.key")
        with open(other, "wb") as f:
            f.write(os.urandom(32))
        os.chmod(other, 0o600)
        r = restore(path("enc-wrong"), enc, check=False, extra=["--decrypt", other])
        assert r.returncode == 1 and b"does not authenticate" in r.stderr
        for n, cut in (("enc-cut-chunk", blob[:-1]), ("enc-cut-final", blob[: 8 + 24 + 4 + 17 + 100])):
            with open(path(n), "wb") as f:
                f.write(cut)
            r = restore(path(n + "-t"), path(n), check=False, extra=["--decrypt", key])
            assert r.returncode == 1 and b"truncated" in r.stderr, r.stderr
            assert not os.path.exists(path(n + "-t"))
        dst = path("enc-restored")
        restore(dst, enc, extra=["--decrypt", key])
        dst2 = path("enc-restored-jsonl")
        restore(dst2, path("enc.jsonl"), extra=["--decrypt", key])
        srv.stop()
        same_native(srv.data, dst, "enc")
        same_native(srv.data, dst2, "encj")
        # plain dump given a key: refused rather than guessed
        dump(srv.data, path("plain.ckd"))
        r = restore(path("plain-key"), path("plain.ckd"), check=False, extra=["--decrypt", key])
        assert r.returncode == 1 and b"not an encrypted dump" in r.stderr
        # key files: exactly 32 bytes, private
        os.chmod(key, 0o640)
        r = tool("clinickv-dump", "--data", srv.data, "-o", path("k.ckd"), "--encrypt", key,
                 check=False)
        assert r.returncode == 1 and b"readable by group or others" in r.stderr
        assert not os.path.exists(path("k.ckd"))
        short = path("short.key")
        with open(short, "wb") as f:
            f.write(os.urandom(31))
        os.chmod(short, 0o600)
        r = tool("clinickv-dump", "--data", srv.data, "-o", path("k.ckd"), "--encrypt", short,
                 check=False)
        assert r.returncode == 1 and b"exactly 32" in r.stderr


def test_stdout_stdin_and_quiet():
    """-o - and -i - stream; nothing is printed when stderr is not a terminal."""
    with ckserver.Server() as srv:
        dumpdata.populate(srv.start(), rounds=1).client.close()
        srv.stop()
        p = tool("clinickv-dump", "--data", srv.data, "-o", "-")
        assert p.stderr == b""
        dump(srv.data, path("file.ckd"))
        assert p.stdout == file_bytes(path("file.ckd"))
        r = tool("clinickv-restore", "--data", path("from-stdin"), "-i", "-", input=p.stdout)
        assert b"restored" in r.stdout
        same_native(srv.data, path("from-stdin"), "stdin")


def test_tenant_move():
    """One tenant, dumped alone, into a live server's data directory: written through
    the normal path in one transaction, logged, and served at once."""
    pw = dumpdata.PASSWORD
    with ckserver.Server() as src, ckserver.Server(tenant="other") as dst:
        src.start()
        dst.start()
        dumpdata.populate(src, rounds=1).client.close()
        src.cli("tenant", "create", "--data", src.data, "--tenant", "acme", "--admin-email",
                "boss@acme.example", "--admin-password", pw)
        with src.client() as c:
            c.login("acme", "boss@acme.example", pw)
            fac = dumpdata.populate(src, client=c, rounds=1)
            seqf = path("tm.seq")
            dump(src.data, path("tm.ckd"), "--tenant", "acme", "--seq-file", seqf)
            dump(src.data, path("tm-all.jsonl"), "--format", "jsonl")
            with dst.system() as s:
                before = s.call("sys.info")["changes"]["last_seq"]
            keys = ["--source-keys", os.path.join(src.data, "phi.keys")]
            p = restore(dst.data, path("tm.ckd"), extra=["--tenant", "acme"] + keys)
            assert b"restored one tenant" in p.stdout, p.stdout
            assert b"--source-keys" not in p.stdout, p.stdout
            # served at once, by the running server (as a system admin: a login would
            # change the users row, which is compared below)
            with dst.system() as d:
                q = {"table": "invoices", "allow_scan": True}
                n_src = c.call("row.query", q)["rows"]
                n_dst = d.call("row.query", dict(q, tenant="acme"))["rows"]
                assert n_src and sorted(r["id"] for r in n_src) == sorted(r["id"] for r in n_dst)
                # PHI was sealed again with the target's key: its server reads it, and
                # finds patients by name (blind indexes under the target's blind key).
                pats = c.call("row.query", {"table": "patients", "allow_scan": True})["rows"]
                assert pats
                for pat in pats:
                    got = d.call("row.get", {"table": "patients", "id": pat["id"], "tenant": "acme"})
                    assert got["demographics"] == pat["demographics"], (got, pat)
                    who = pat["demographics"]
                    found = d.call("row.query", {"table": "patients", "tenant": "acme", "where": {
                        "demographics": {"last_name": who["last_name"],
                                         "first_name": who["first_name"]}}})["rows"]
                    assert [r["id"] for r in found] == [pat["id"]]
            # the target's change log holds the restored rows (its incrementals stay complete)
            dump(dst.data, path("tm-target-incr.jsonl"), "--since", before, "--format", "jsonl")
            incr = file_bytes(path("tm-target-incr.jsonl")).decode()
            assert incr.count('"op":"insert"') > 50
            # its rows are the source's
            dump(src.data, path("tm-src.jsonl"), "--tenant", "acme", "--format", "jsonl")
            dump(dst.data, path("tm-dst.jsonl"), "--tenant", "acme", "--format", "jsonl")
            rows = lambda p: jsonl_rows(p, sealed=False)  # noqa: E731
            a, b = rows(path("tm-src.jsonl")), rows(path("tm-dst.jsonl"))
            assert a == b, [x for x in a if x not in b][:2] + ["---"] + [x for x in b if x not in a][:2]
            # a tenant that exists is refused, the target unchanged
            r = restore(dst.data, path("tm.ckd"), check=False, extra=["--tenant", "acme"])
            assert r.returncode == 1 and b"already exists" in r.stderr
            # the other tenant was not touched, and nothing is inconsistent
            check_clean(dst.data)
            # later changes of the tenant follow it
            dumpdata.mutate(fac, 1)
            dump(src.data, path("tm-incr.ckd"), "--tenant", "acme", "--since", seq_of(seqf))
            restore(dst.data, path("tm-incr.ckd"), extra=["--tenant", "acme"] + keys)
            dump(src.data, path("tm-src2.jsonl"), "--tenant", "acme", "--format", "jsonl")
            dump(dst.data, path("tm-dst2.jsonl"), "--tenant", "acme", "--format", "jsonl")
            assert rows(path("tm-src2.jsonl")) == rows(path("tm-dst2.jsonl"))
            # one tenant out of an all-tenant dump, into a new directory
            one = path("tm-one")
            restore(one, path("tm-all.jsonl"), extra=["--tenant", "acme"])
            check_clean(one)
            dump(one, path("tm-one.jsonl"), "--format", "jsonl")
            assert jsonl_rows(path("tm-one.jsonl")) == jsonl_rows(path("tm-src.jsonl"))
            r = restore(path("tm-none"), path("tm-all.jsonl"), check=False,
                        extra=["--tenant", "nosuch"])
            assert r.returncode == 1 and b"no tenant nosuch" in r.stderr
            # without the source's keys the tenant still moves, with a warning
            with ckserver.Server(tenant="third") as third:
                p = restore(third.data, path("tm.ckd"), extra=["--tenant", "acme"])
                assert b"restore with --source-keys" in p.stdout, p.stdout
            # the tenant's admin logs in on the target with the password of the source
            with dst.client() as d:
                d.login("acme", "boss@acme.example", pw)
                assert d.call("auth.whoami")["role"] == "tenant_admin"
            fac.client.close()


def test_retention():
    """--since a seq the change log no longer holds is refused: a full dump is needed."""
    with ckserver.Server(extra_args=["--log-retention", "5"]) as srv:
        srv.start()
        fac = dumpdata.populate(srv, rounds=1)
        fac.client.close()
        p = tool("clinickv-dump", "--data", srv.data, "--since", "1", "-o", path("ret.ckd"),
                 check=False)
        assert p.returncode == 1 and b"no longer holds change 2" in p.stderr, p.stderr
        assert not os.path.exists(path("ret.ckd"))
        p = tool("clinickv-dump", "--data", srv.data, "--since", "999999", "-o", path("ret.ckd"),
                 check=False)
        assert p.returncode == 1 and b"beyond the last change" in p.stderr


def test_backup():
    """clinickv backup copies a live data directory into a complete one."""
    with ckserver.Server() as srv:
        srv.start()
        fac = dumpdata.populate(srv, rounds=1)
        to = path("bk")
        p = clinickv("backup", "--data", srv.data, "--to", to, "--verbose")
        assert b"PHI keys not copied" in p.stdout
        assert sorted(os.listdir(to)) == ["admin.key", "db"]
        assert os.stat(os.path.join(to, "admin.key")).st_mode & 0o077 == 0
        check_clean(to)
        r = clinickv("backup", "--data", srv.data, "--to", to, check=False)
        assert r.returncode == 1 and b"already holds a data directory" in r.stderr
        to2 = path("bk-keys")
        p = clinickv("backup", "--data", srv.data, "--to", to2, "--with-keys")
        assert p.stdout == b"" and p.stderr == b""  # quiet for cron
        assert file_bytes(os.path.join(to2, "phi.keys")) == \
            file_bytes(os.path.join(srv.data, "phi.keys"))
        pat = fac.make("patients")
        fac.client.close()
        srv.stop()
        # the backup serves, PHI included (keys copied), and lacks the later patient
        with ckserver.Server(init=False, data_dir=to2) as copy:
            copy.start()
            with copy.admin() as c:
                e = c.error("row.get", {"table": "patients", "id": pat["id"]})
                assert e.code == "not_found"
                rows = c.call("row.query", {"table": "patients", "allow_scan": True})["rows"]
                assert rows and all("demographics" in r for r in rows)


def main():
    global WORK
    WORK = tempfile.mkdtemp(prefix="clinickv-dump-")
    tests = [test_usage, test_roundtrip_native, test_roundtrip_jsonl, test_point_in_time,
             test_refusals, test_encryption, test_stdout_stdin_and_quiet, test_tenant_move,
             test_retention, test_backup]
    # Names on the command line run only those tests.
    if len(sys.argv) > 1:
        tests = [t for t in tests if t.__name__ in sys.argv[1:]]
    try:
        ckserver.run_tests(tests)
    finally:
        shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
