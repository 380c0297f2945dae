"""Test harness: real clinickv servers in temporary data directories, and a
msgpack-RPC client written against the public protocol only (PROTOCOL.md).

Used by every tests/test_*.py. Runs under Debian's /usr/bin/python3 with
python3-msgpack. The binaries come from $CLINICKV_BUILD (CTest sets it).
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import msgpack

BUILD = os.environ.get("CLINICKV_BUILD") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "build")
SOURCE = os.environ.get("CLINICKV_SOURCE") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..")
CLINICKV = os.path.join(BUILD, "clinickv")

ADMIN_EMAIL = "admin@demo.clinic"
ADMIN_PASSWORD = "correct horse battery staple"


def binary(name):
    return os.path.join(BUILD, name)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class RpcError(Exception):
    def __init__(self, code, message, details=None):
        super().__init__("%s: %s %s" % (code, message, details or ""))
        self.code = code
        self.message = message
        self.details = details or {}


class Client:
    """A msgpack-RPC client over TCP or a Unix socket."""

    def __init__(self, address, timeout=60):
        if isinstance(address, str):
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect(address)
        else:
            self.sock = socket.create_connection(address, timeout=timeout)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.unpacker = msgpack.Unpacker(raw=False, strict_map_key=False)
        self.msgid = 0
        self.pending = {}  # msgid -> response, for responses that came out of order

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send_raw(self, data):
        self.sock.sendall(data)

    def send(self, method, params=None, msgid=None):
        if msgid is None:
            self.msgid = (self.msgid + 1) & 0xFFFFFFFF
            msgid = self.msgid
        self.sock.sendall(msgpack.packb([0, msgid, method, [params or {}]], use_bin_type=True))
        return msgid

    def read_message(self):
        """The next message from the server, or None when it closed the connection."""
        while True:
            for msg in self.unpacker:
                return msg
            data = self.sock.recv(1 << 20)
            if not data:
                return None
            self.unpacker.feed(data)

    def wait(self, msgid):
        if msgid in self.pending:
            return self.pending.pop(msgid)
        while True:
            msg = self.read_message()
            if msg is None:
                raise ConnectionError("server closed the connection")
            assert msg[0] == 1 and len(msg) == 4, msg
            if msg[1] == msgid:
                return msg
            self.pending[msg[1]] = msg

    @staticmethod
    def result(msg):
        _, _, err, res = msg
        if err is not None:
            assert isinstance(err, list) and len(err) in (2, 3), err
            raise RpcError(err[0], err[1], err[2] if len(err) == 3 else None)
        return res

    def call(self, method, params=None):
        return self.result(self.wait(self.send(method, params)))

    def error(self, method, params=None):
        """Call expecting an error; returns the RpcError."""
        try:
            res = self.call(method, params)
        except RpcError as e:
            return e
        raise AssertionError("%s succeeded unexpectedly: %r" % (method, res))

    def login(self, tenant, email, password):
        return self.call("auth.login", {"tenant": tenant, "email": email, "password": password})


class Server:
    """A clinickv server on a fresh data directory (clinickv init), on a free
    loopback port and a Unix socket in the data directory."""

    def __init__(self, demo=True, tenant="demo", pharmacy=True, extra_args=(), data_dir=None,
                 init=True, env=None):
        self.tmp = tempfile.mkdtemp(prefix="clinickv-test-")
        self.data = data_dir or os.path.join(self.tmp, "data")
        self.tenant = tenant
        self.port = None
        self.proc = None
        self.extra_args = list(extra_args)
        self.env = dict(os.environ, **(env or {}))
        self.env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        self.stderr_path = os.path.join(self.tmp, "server.log")
        if init:
            args = [CLINICKV, "init", "--data", self.data, "--tenant", tenant,
                    "--admin-email", ADMIN_EMAIL]
            if demo:
                args.append("--demo")
            if not pharmacy:
                args.append("--no-pharmacy")
            env_pw = dict(self.env, CLINICKV_ADMIN_PASSWORD=ADMIN_PASSWORD)
            subprocess.run(args, check=True, env=env_pw, stdout=subprocess.DEVNULL)

    @property
    def socket_path(self):
        return os.path.join(self.data, "clinickv.sock")

    def start(self, wait=True):
        self.port = free_port()
        self.log = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen(
            [CLINICKV, "serve", "--data", self.data, "--listen", "127.0.0.1:%d" % self.port]
            + self.extra_args, stdout=self.log, stderr=self.log, env=self.env)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited with %s:\n%s" % (self.proc.returncode, self.stderr()))
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("server did not start:\n" + self.stderr())

    def stderr(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def client(self, unix=False):
        return Client(self.socket_path if unix else ("127.0.0.1", self.port))

    def admin(self):
        """A client logged in as the demo tenant's admin."""
        c = self.client()
        c.login(self.tenant, ADMIN_EMAIL, ADMIN_PASSWORD)
        return c

    def system(self):
        """A system administrator: the data directory's owner on the Unix socket."""
        return self.client(unix=True)

    def stop(self, timeout=60):
        """SIGTERM and wait; asserts a clean exit and no sanitizer report."""
        if not self.proc:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("server did not stop on SIGTERM:\n" + self.stderr())
        self.proc = None
        self.log.close()
        err = self.stderr()
        assert code == 0, "server exited with %d:\n%s" % (code, err)
        assert "Sanitizer" not in err and "runtime error" not in err, err

    def kill9(self):
        self.proc.kill()
        self.proc.wait()
        self.proc = None
        self.log.close()

    def cli(self, *args, check=True, env=None, input=None):
        """Run `clinickv ARGS...`; returns CompletedProcess with text output."""
        e = dict(self.env, **(env or {}))
        p = subprocess.run([CLINICKV] + list(args), capture_output=True, text=True, env=e,
                           input=input)
        if check and p.returncode != 0:
            raise AssertionError("clinickv %s failed (%d): %s%s" % (" ".join(args), p.returncode,
                                                                   p.stdout, p.stderr))
        return p

    def cleanup(self):
        if self.proc:
            self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc):
        try:
            if self.proc:
                if exc_type is None:
                    self.stop()
                else:
                    self.proc.kill()
                    self.proc.wait()
                    sys.stderr.write(self.stderr()[-4000:])
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)


def run_tests(tests):
    """Run test functions in order; print one line each; exit non-zero on failure."""
    failed = 0
    for t in tests:
        start = time.time()
        try:
            t()
            print("ok   %-50s %.2fs" % (t.__name__, time.time() - start), flush=True)
        except Exception:
            failed += 1
            import traceback
            print("FAIL %s" % t.__name__, flush=True)
            traceback.print_exc()
    print("%d passed, %d failed" % (len(tests) - failed, failed))
    sys.exit(1 if failed else 0)
