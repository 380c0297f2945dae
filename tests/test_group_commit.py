#!/usr/bin/python3
"""Group commit: N concurrent writers are made durable with fewer than N fsyncs.
Counted twice: the writer's own group count (sys.info) and, where strace is
available, the fsync/fdatasync system calls the server actually made."""

import re
import shutil
import subprocess
import threading

from ckserver import ADMIN_EMAIL, ADMIN_PASSWORD, Server, run_tests

WRITERS = 32
EACH = 40


def test_concurrent_writers_share_fsyncs():
    with Server(demo=False) as s:
        s.start()
        admin = s.admin()
        strace = None
        if shutil.which("strace"):
            strace = subprocess.Popen(["strace", "-f", "-c", "-e", "trace=fsync,fdatasync,msync",
                                       "-p", str(s.proc.pid)], stderr=subprocess.PIPE, text=True)
        clients = []
        for _ in range(WRITERS):
            c = s.client()
            c.login("demo", ADMIN_EMAIL, ADMIN_PASSWORD)
            clients.append(c)
        before = admin.call("sys.info")["writer"]
        barrier = threading.Barrier(WRITERS)

        def write(c, n):
            barrier.wait()
            for k in range(EACH):
                c.call("row.insert", {"table": "clinics", "row": {"name": "g", "code": "G%d-%d" % (n, k)}})

        threads = [threading.Thread(target=write, args=(c, n)) for n, c in enumerate(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        after = admin.call("sys.info")["writer"]
        requests = after["write_requests"] - before["write_requests"]
        groups = after["group_commits"] - before["group_commits"]
        assert requests == WRITERS * EACH, requests
        assert groups < requests, (groups, requests)
        line = "  %d durable writes from %d clients in %d group commits (largest group %d)" % (
            requests, WRITERS, groups, after["largest_group"])
        if strace:
            strace.terminate()
            out = strace.communicate(timeout=60)[1]
            calls = sum(int(m.group(1)) for m in re.finditer(r"^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(?:fsync|fdatasync|msync)\s*$", out, re.M))
            if calls:
                assert calls < requests, (calls, requests, out)
                line += "; strace counted %d fsync/fdatasync calls" % calls
        print(line)
        assert after["largest_group"] > 1


if __name__ == "__main__":
    run_tests([test_concurrent_writers_share_fsyncs])
