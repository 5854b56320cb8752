"""A MongoDB server on 127.0.0.1 that speaks the wire protocol's handshake and authentication as
the server documents them, for the MongoDB verifier: no real ``mongod`` can be installed from
PyPI, npm or Debian (the npm and PyPI launchers download it from MongoDB's site at run time).

It answers OP_MSG and, for the official driver's first ``hello``, OP_QUERY; it keeps SCRAM-SHA-256
and SCRAM-SHA-1 credentials the way mongod stores them (salt, iteration count, StoredKey,
ServerKey; SHA-1 over the ``user:mongo:password`` MD5 digest) and runs the server side of RFC
5802. Documents are encoded and decoded with pymongo's ``bson`` (a test extra), not with the
verifier's own codec. test_mongodb.py checks this server against pymongo itself: the official
driver logs in with the right password and is refused with a wrong one."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import os
import secrets
import socket
import socketserver
import struct
import threading
from dataclasses import dataclass

import bson

OP_REPLY, OP_QUERY, OP_MSG = 1, 2004, 2013
DIGESTS = {"SCRAM-SHA-256": "sha256", "SCRAM-SHA-1": "sha1"}
ITERATIONS = {"sha256": 15000, "sha1": 10000}  # mongod's defaults


@dataclass(frozen=True)
class Stored:
    salt: bytes
    iterations: int
    stored_key: bytes
    server_key: bytes


def stored(password: str, user: str, digest: str) -> Stored:
    secret = hashlib.md5(f"{user}:mongo:{password}".encode()).hexdigest() if digest == "sha1" else password
    salt = os.urandom(16 if digest == "sha1" else 28)
    salted = hashlib.pbkdf2_hmac(digest, secret.encode(), salt, ITERATIONS[digest])
    client_key = hmac.new(salted, b"Client Key", digest).digest()
    return Stored(salt, ITERATIONS[digest], hashlib.new(digest, client_key).digest(),
                  hmac.new(salted, b"Server Key", digest).digest())


class FakeMongo:
    """``users``: (database, user) -> password; ``mechanisms``: what each user has."""

    def __init__(self, users: dict[tuple[str, str], str], mechanisms=("SCRAM-SHA-256", "SCRAM-SHA-1")) -> None:
        self.credentials = {(db, user, m): stored(pw, user, DIGESTS[m]) for (db, user), pw in users.items()
                            for m in mechanisms}
        self.mechanisms = tuple(mechanisms)
        self.commands: list[str] = []  # every command's name, in order
        fake = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                fake._serve(self.request)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _serve(self, sock: socket.socket) -> None:
        conversations: dict[int, dict] = {}
        while True:
            head = _recv(sock, 16)
            if head is None:
                return
            length, request_id, _, opcode = struct.unpack("<iiii", head)
            body = _recv(sock, length - 16) or b""
            if opcode == OP_MSG:
                doc = bson.decode(body[5:5 + struct.unpack_from("<i", body, 5)[0]])
                reply = struct.pack("<IB", 0, 0) + bson.encode(self._command(doc, conversations))
            elif opcode == OP_QUERY:  # flags, collection name, skip, limit, the command
                start = body.index(b"\0", 4) + 9
                doc = bson.decode(body[start:start + struct.unpack_from("<i", body, start)[0]])
                reply = struct.pack("<iqii", 0, 0, 0, 1) + bson.encode(self._command(doc, conversations))
            else:
                return
            out_op = OP_MSG if opcode == OP_MSG else OP_REPLY
            sock.sendall(struct.pack("<iiii", 16 + len(reply), request_id + 1000, request_id, out_op) + reply)

    def _command(self, doc: dict, conversations: dict[int, dict]) -> dict:
        name = next(iter(doc))
        self.commands.append(name)
        if name in ("hello", "isMaster", "ismaster"):
            return self._hello(doc)
        if name == "saslStart":
            return self._sasl_start(doc, conversations)
        if name == "saslContinue":
            return self._sasl_continue(doc, conversations)
        if name in ("ping", "endSessions"):
            return {"ok": 1.0}
        return {"ok": 0.0, "errmsg": f"no such command: '{name}'", "code": 59, "codeName": "CommandNotFound"}

    def _hello(self, doc: dict) -> dict:
        reply = {"helloOk": True, "isWritablePrimary": True, "ismaster": True, "maxBsonObjectSize": 16777216,
                 "maxMessageSizeBytes": 48000000, "maxWriteBatchSize": 100000,
                 "localTime": datetime.datetime.now(datetime.timezone.utc), "logicalSessionTimeoutMinutes": 30,
                 "connectionId": 1, "minWireVersion": 0, "maxWireVersion": 21, "readOnly": False, "ok": 1.0}
        db, _, user = str(doc.get("saslSupportedMechs", "")).partition(".")
        have = [m for m in self.mechanisms if (db, user, m) in self.credentials]
        if have:
            reply["saslSupportedMechs"] = have
        return reply

    def _sasl_start(self, doc: dict, conversations: dict[int, dict]) -> dict:
        mechanism, payload = doc["mechanism"], bytes(doc["payload"])
        if mechanism not in DIGESTS:
            return {"ok": 0.0, "errmsg": "unsupported mechanism", "code": 334, "codeName": "MechanismUnavailable"}
        first_bare = payload.decode().split(",", 2)[2]
        attrs = dict(a.split("=", 1) for a in first_bare.split(","))
        user = attrs["n"].replace("=2C", ",").replace("=3D", "=")
        cred = self.credentials.get((doc["$db"], user, mechanism))
        nonce = attrs["r"] + base64.b64encode(secrets.token_bytes(24)).decode()
        salt, iterations = (cred.salt, cred.iterations) if cred else (os.urandom(16), 10000)
        server_first = f"r={nonce},s={base64.b64encode(salt).decode()},i={iterations}"
        cid = len(conversations) + 1
        conversations[cid] = {"cred": cred, "digest": DIGESTS[mechanism], "first": first_bare, "server": server_first,
                              "nonce": nonce, "skip": bool(doc.get("options", {}).get("skipEmptyExchange"))}
        return {"conversationId": cid, "done": False, "payload": server_first.encode(), "ok": 1.0}

    def _sasl_continue(self, doc: dict, conversations: dict[int, dict]) -> dict:
        conv = conversations.get(doc["conversationId"])
        if conv is None:
            return _auth_failed()
        if conv.get("proved"):  # the empty round of a client that did not skip it
            return {"conversationId": doc["conversationId"], "done": True, "payload": b"", "ok": 1.0}
        final = bytes(doc["payload"]).decode()
        without_proof, _, proof = final.rpartition(",p=")
        if conv["cred"] is None or f"r={conv['nonce']}" not in without_proof.split(","):
            return _auth_failed()
        digest, cred = conv["digest"], conv["cred"]
        auth = f"{conv['first']},{conv['server']},{without_proof}".encode()
        client_key = bytes(a ^ b for a, b in zip(base64.b64decode(proof),
                                                 hmac.new(cred.stored_key, auth, digest).digest()))
        if not hmac.compare_digest(hashlib.new(digest, client_key).digest(), cred.stored_key):
            return _auth_failed()
        conv["proved"] = True
        signature = base64.b64encode(hmac.new(cred.server_key, auth, digest).digest()).decode()
        return {"conversationId": doc["conversationId"], "done": conv["skip"], "payload": f"v={signature}".encode(),
                "ok": 1.0}


def _auth_failed() -> dict:
    return {"ok": 0.0, "errmsg": "Authentication failed.", "code": 18, "codeName": "AuthenticationFailed"}


def _recv(sock: socket.socket, n: int):
    data = b""
    while len(data) < n:
        try:
            got = sock.recv(n - len(data))
        except OSError:
            return None
        if not got:
            return None
        data += got
    return data
