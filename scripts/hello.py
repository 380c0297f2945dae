#!/usr/bin/python3
"""Talk to a clinickv started by scripts/run.sh: log in, insert a patient, read it
back, describe the schema. Any msgpack-RPC client works the same way."""
import os
import socket
import sys

import msgpack

HOST, PORT = os.environ.get("CLINICKV_HOST", "127.0.0.1"), int(os.environ.get("CLINICKV_PORT", "7420"))
here = os.path.dirname(os.path.abspath(__file__))
pw_file = os.environ.get("CLINICKV_PASSWORD_FILE", os.path.join(here, "..", "data.admin-password"))
password = open(pw_file).read().strip()

sock = socket.create_connection((HOST, PORT))
unpacker = msgpack.Unpacker(raw=False)
msgid = 0


def call(method, params=None):
    global msgid
    msgid += 1
    sock.sendall(msgpack.packb([0, msgid, method, [params or {}]], use_bin_type=True))
    while True:
        for _, mid, err, result in unpacker:
            if err:
                sys.exit("%s failed: %s" % (method, err))
            return result
        unpacker.feed(sock.recv(1 << 16))


me = call("auth.login", {"tenant": "demo", "email": "admin@demo.clinic", "password": password})
print("logged in as", me["user"]["role"])
clinic = call("row.insert", {"table": "clinics", "row": {"name": "Hello Dental", "code": "HELLO-%d" % os.getpid()}})
patient = call("row.insert", {"table": "patients", "row": {
    "clinic_id": clinic["id"], "medical_record_number": "HELLO-%d" % os.getpid(),
    "demographics": {"first_name": "Ada", "last_name": "Lovelace", "date_of_birth": "1815-12-10"}}})
print("inserted patient", patient["id"])
print("got it back:", call("row.get", {"table": "patients", "id": patient["id"]})["demographics"])
print("the schema has", len(call("schema.describe")["tables"]), "tables")
