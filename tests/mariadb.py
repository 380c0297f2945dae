"""A private, throw-away MariaDB server for tests (a helper module, not a test).

    import mariadb
    avail = mariadb.available()
    if not avail:
        print("SKIP: " + avail.reason); sys.exit(77)
    with mariadb.server() as db:
        db.sql("CREATE DATABASE d")
        db.source("schema.sql", database="d")
        rows = db.sql("SELECT 1, NULL")          # [("1", None)]

The server gets its own data directory and Unix socket under a new temporary
directory, never listens on TCP (--skip-networking), reads no option files
(--no-defaults), and is stopped by its own pid when the `with` block ends, also
when the block raises. Values come back as strings, NULL as None (the client's
XML output keeps the two apart, which its tab-separated output does not).

The recipe is that of /work/shared/schema/verify/run.sh, run as root with
--user=root (or as the current user) and with a password-less root account, so
that any local user can run the tests against their own private server.
"""

import contextlib
import getpass
import os
import shutil
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET

SEARCH_DIRS = ("/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin")
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
READY_TIMEOUT_S = 60
STOP_TIMEOUT_S = 30
QUERY_TIMEOUT_S = 300


class MariaDBError(Exception):
    pass


class Availability:
    """True when MariaDB can be started here; otherwise false, and `reason` says why."""

    def __init__(self, reason=None, programs=None):
        self.reason = reason
        self.programs = programs or {}

    def __bool__(self):
        return self.reason is None

    def __repr__(self):
        return "Availability(%s)" % ("ok" if self else repr(self.reason))


def _find(*names):
    for name in names:
        path = shutil.which(name)
        if path:
            return path
        for d in SEARCH_DIRS:
            path = os.path.join(d, name)
            if os.access(path, os.X_OK):
                return path
    return None


def available():
    """An Availability: true when the server, its installer and the client are installed."""
    programs = {
        "server": _find("mariadbd", "mysqld"),
        "install_db": _find("mariadb-install-db", "mysql_install_db"),
        "client": _find("mariadb", "mysql"),
    }
    missing = [k for k, v in programs.items() if not v]
    if missing:
        return Availability(
            "MariaDB not installed (apt-get install mariadb-server mariadb-client): no %s"
            % ", ".join(missing)
        )
    return Availability(None, programs)


class Server:
    """A running server: run SQL through its client."""

    def __init__(self, programs, workdir):
        self.programs = programs
        self.workdir = workdir
        self.socket = os.path.join(workdir, "mysqld.sock")
        self.error_log = os.path.join(workdir, "error.log")
        self.proc = None

    def _client(self, database=None, extra=()):
        cmd = [
            self.programs["client"],
            "--no-defaults",
            "--socket=" + self.socket,
            "--user=root",
            "--default-character-set=utf8mb4",
            # The DDL's collation: comparing with another one fails with error 1267.
            "--init-command=SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci",
        ]
        cmd.extend(extra)
        if database:
            cmd.append("--database=" + database)
        return cmd

    def sql(self, text, database=None):
        """Run SQL (one or more statements); the rows of the last result set, as tuples
        of str, None for NULL. Raises MariaDBError when the client reports an error."""
        out = self._run(self._client(database, ["--xml"]), text)
        rows = []
        if not out.strip():
            return rows
        # One <resultset> per statement that returns rows; keep the last one.
        body = out.decode("utf-8")
        docs = [d for d in body.split("<?xml") if d.strip()]
        root = ET.fromstring("<?xml" + docs[-1])
        for row in root.iter("row"):
            rows.append(
                tuple(None if f.get(XSI_NIL) == "true" else (f.text or "") for f in row.iter("field"))
            )
        return rows

    def source(self, path, database=None):
        """Run an SQL file through the client, as `mariadb db < file` does. Warnings
        are errors here: a clean load of the DDL prints none."""
        with open(path, "rb") as f:
            text = f.read()
        out = self._run(self._client(database, ["--show-warnings", "--batch"]), text)
        if out.strip():
            raise MariaDBError("%s: unexpected output:\n%s" % (path, out.decode("utf-8", "replace")))

    def _run(self, cmd, text):
        if isinstance(text, str):
            text = text.encode("utf-8")
        p = subprocess.run(cmd, input=text, capture_output=True, timeout=QUERY_TIMEOUT_S)
        if p.returncode != 0 or p.stderr.strip():
            raise MariaDBError(
                "mariadb client failed (%d): %s" % (p.returncode, p.stderr.decode("utf-8", "replace").strip())
            )
        return p.stdout

    def log_tail(self, n=20):
        try:
            with open(self.error_log, encoding="utf-8", errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return "(no error log)"


def _user_args():
    # mariadbd refuses to run as root unless told to; as anyone else --user is ignored.
    return ["--user=" + ("root" if os.geteuid() == 0 else getpass.getuser())]


@contextlib.contextmanager
def server(buffer_pool="128M"):
    """Start a private server; yield a Server; stop it (by its pid) and delete its
    files on exit. Raises MariaDBError when MariaDB is missing or does not start."""
    avail = available()
    if not avail:
        raise MariaDBError(avail.reason)
    # A short path: Unix socket paths are limited to about 100 bytes.
    workdir = tempfile.mkdtemp(prefix="ckmdb-", dir="/tmp")
    srv = Server(avail.programs, workdir)
    datadir = os.path.join(workdir, "data")
    try:
        p = subprocess.run(
            [avail.programs["install_db"], "--no-defaults", "--datadir=" + datadir,
             "--auth-root-authentication-method=normal", "--skip-test-db"] + _user_args(),
            capture_output=True, timeout=READY_TIMEOUT_S * 2,
        )
        if p.returncode != 0:
            raise MariaDBError("mariadb-install-db failed:\n" + (p.stdout + p.stderr).decode("utf-8", "replace"))
        log = open(os.path.join(workdir, "server.out"), "wb")
        try:
            srv.proc = subprocess.Popen(
                [avail.programs["server"], "--no-defaults", "--datadir=" + datadir,
                 "--socket=" + srv.socket, "--pid-file=" + os.path.join(workdir, "mysqld.pid"),
                 "--skip-networking", "--log-error=" + srv.error_log,
                 "--character-set-server=utf8mb4", "--collation-server=utf8mb4_unicode_ci",
                 "--innodb-buffer-pool-size=" + buffer_pool] + _user_args(),
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            )
        finally:
            log.close()
        _wait_ready(srv)
        yield srv
    finally:
        _stop(srv)
        shutil.rmtree(workdir, ignore_errors=True)


def _wait_ready(srv):
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        if srv.proc.poll() is not None:
            raise MariaDBError("mariadbd exited with %d:\n%s" % (srv.proc.returncode, srv.log_tail()))
        if os.path.exists(srv.socket):
            try:
                if srv.sql("SELECT 1") == [("1",)]:
                    return
            except (MariaDBError, subprocess.TimeoutExpired):
                pass
        if time.monotonic() > deadline:
            raise MariaDBError("mariadbd not ready after %d s:\n%s" % (READY_TIMEOUT_S, srv.log_tail()))
        time.sleep(0.2)


def _stop(srv):
    """SIGTERM to our server's pid (a clean InnoDB shutdown), SIGKILL if it hangs."""
    proc = srv.proc
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
