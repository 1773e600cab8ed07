#!/usr/bin/env python3
"""Lets the Rust CloudWatch SDK talk to moto's server.

aws-sdk-cloudwatch speaks only the Smithy RPC v2 CBOR protocol (POST
/service/GraniteServiceVersion20100801/operation/<Op>, CBOR bodies); moto's
server (5.2) answers CloudWatch in the Query and AWS JSON 1.0 protocols only.
This gateway takes the SDK's CBOR request, decodes it, forwards the same
parameters to moto as AWS JSON 1.0 (X-Amz-Target GraniteServiceVersion20100801.<Op>,
the SDK's Authorization and X-Amz-* headers kept, so moto picks the same account
and region) and encodes moto's JSON answer, success or error, back into CBOR
with moto's HTTP status. It changes no value: what the SDK sent is what moto
stores.

Usage: moto_cloudwatch_gateway.py MOTO_URL
Prints the port it listens on (127.0.0.1) as the first line of stdout.
Standard library only.
"""

import gzip
import json
import math
import struct
import sys
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIX = "/service/GraniteServiceVersion20100801/operation/"
TARGET = "GraniteServiceVersion20100801."


class CborError(ValueError):
    pass


def cbor_decode(data):
    """Decodes one CBOR data item (RFC 8949) to Python values; tag 1 (epoch
    time) becomes its number of seconds, which is how AWS JSON sends
    timestamps."""
    value, end = _item(data, 0)
    if end != len(data):
        raise CborError(f"{len(data) - end} trailing byte(s)")
    return value


_BREAK = object()


def _uint(data, pos, info):
    if info < 24:
        return info, pos
    sizes = {24: 1, 25: 2, 26: 4, 27: 8}
    if info not in sizes:
        raise CborError(f"bad additional info {info}")
    n = sizes[info]
    if pos + n > len(data):
        raise CborError("truncated")
    return int.from_bytes(data[pos : pos + n], "big"), pos + n


def _item(data, pos):
    if pos >= len(data):
        raise CborError("truncated")
    initial = data[pos]
    pos += 1
    major, info = initial >> 5, initial & 0x1F
    if major == 7:
        if info == 20:
            return False, pos
        if info == 21:
            return True, pos
        if info in (22, 23):
            return None, pos
        if info == 25:
            return struct.unpack(">e", data[pos : pos + 2])[0], pos + 2
        if info == 26:
            return struct.unpack(">f", data[pos : pos + 4])[0], pos + 4
        if info == 27:
            return struct.unpack(">d", data[pos : pos + 8])[0], pos + 8
        if info == 31:
            return _BREAK, pos
        raise CborError(f"unsupported simple value {info}")
    if info == 31:  # indefinite length
        if major in (2, 3):
            parts = []
            while True:
                part, pos = _item(data, pos)
                if part is _BREAK:
                    break
                parts.append(part)
            return (b"" if major == 2 else "").join(parts), pos
        if major == 4:
            out = []
            while True:
                v, pos = _item(data, pos)
                if v is _BREAK:
                    return out, pos
                out.append(v)
        if major == 5:
            out = {}
            while True:
                k, pos = _item(data, pos)
                if k is _BREAK:
                    return out, pos
                out[k], pos = _item(data, pos)
        raise CborError(f"indefinite length for major type {major}")
    n, pos = _uint(data, pos, info)
    if major == 0:
        return n, pos
    if major == 1:
        return -1 - n, pos
    if major in (2, 3):
        if pos + n > len(data):
            raise CborError("truncated string")
        raw = data[pos : pos + n]
        return (raw if major == 2 else raw.decode("utf-8")), pos + n
    if major == 4:
        out = []
        for _ in range(n):
            v, pos = _item(data, pos)
            out.append(v)
        return out, pos
    if major == 5:
        out = {}
        for _ in range(n):
            k, pos = _item(data, pos)
            out[k], pos = _item(data, pos)
        return out, pos
    # major == 6: a tag; 1 is epoch-based date/time, the only one Smithy uses.
    v, pos = _item(data, pos)
    if n != 1:
        raise CborError(f"unsupported tag {n}")
    return v, pos


def cbor_encode(v):
    """Encodes JSON-like values (dict, list, str, int, float, bool, None)."""
    if v is None:
        return b"\xf6"
    if v is True:
        return b"\xf5"
    if v is False:
        return b"\xf4"
    if isinstance(v, int):
        return _head(0, v) if v >= 0 else _head(1, -1 - v)
    if isinstance(v, float):
        return b"\xfb" + struct.pack(">d", v)
    if isinstance(v, str):
        raw = v.encode("utf-8")
        return _head(3, len(raw)) + raw
    if isinstance(v, list):
        return _head(4, len(v)) + b"".join(cbor_encode(x) for x in v)
    if isinstance(v, dict):
        return _head(5, len(v)) + b"".join(
            cbor_encode(k) + cbor_encode(x) for k, x in v.items()
        )
    raise TypeError(f"cannot encode {type(v).__name__}")


def _head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * size):
            return bytes([major << 5 | info]) + n.to_bytes(size, "big")
    raise ValueError("integer too large")


def _json_safe(v):
    if isinstance(v, float) and not math.isfinite(v):
        raise CborError("non-finite number")
    if isinstance(v, dict):
        return {k: _json_safe(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_json_safe(x) for x in v]
    if isinstance(v, bytes):
        raise CborError("byte strings are not used by CloudWatch")
    return v


class Handler(BaseHTTPRequestHandler):
    moto_url = ""

    def do_POST(self):
        if not self.path.startswith(PREFIX):
            return self._reply(404, {"__type": "UnknownOperation", "message": self.path})
        op = self.path[len(PREFIX) :]
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get("Content-Encoding", "").lower() == "gzip":
            body = gzip.decompress(body)
        try:
            params = _json_safe(cbor_decode(body)) if body else {}
        except (CborError, UnicodeDecodeError) as e:
            return self._reply(400, {"__type": "SerializationException", "message": str(e)})
        headers = {
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": TARGET + op,
        }
        for name in ("Authorization", "X-Amz-Date", "X-Amz-Security-Token"):
            if self.headers.get(name):
                headers[name] = self.headers[name]
        req = urllib.request.Request(
            self.moto_url + "/", data=json.dumps(params).encode(), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                status, text = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read()
        try:
            answer = json.loads(text) if text.strip() else {}
        except ValueError:
            answer = {"__type": "InternalFailure", "message": text.decode("utf-8", "replace")}
        sys.stderr.write(f"gateway: {op} -> {status}\n")
        self._reply(status, answer)

    def _reply(self, status, answer):
        data = cbor_encode(answer)
        self.send_response(status)
        self.send_header("Content-Type", "application/cbor")
        self.send_header("smithy-protocol", "rpc-v2-cbor")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_args):
        pass


def main():
    Handler.moto_url = sys.argv[1].rstrip("/")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
