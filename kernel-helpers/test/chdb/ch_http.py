"""A minimal front for ClickHouse's HTTP interface over chDB (ClickHouse's engine in-process), for tests only.

Debian's clickhouse-server (18.16) predates FORMAT ArrowStream and query parameters; this front lets the
helper's real HTTP client talk to a modern engine. It implements what the client uses: the query in the
`query` URL parameter and/or the body, `param_<name>` query parameters, settings as URL parameters,
`database`, basic auth or X-ClickHouse-User/Key, errors as `Code: N. DB::Exception: ...` with
X-ClickHouse-Exception-Code, and `/ping`. It is not a server: one engine, one request at a time.

usage: ch_http.py DATA_DIR USER PASSWORD   (prints the port it listens on, then serves until killed)
"""
import base64
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from chdb import session

data_dir, user, password = sys.argv[1], sys.argv[2], sys.argv[3]
db = session.Session(data_dir)
db.query("CREATE DATABASE IF NOT EXISTS mevlab")
lock = threading.Lock()
RESERVED = {"query", "database", "query_id", "session_id", "default_format", "user", "password", "role",
            "wait_end_of_query", "enable_http_compression", "send_progress_in_http_headers"}
FORMAT_AT_END = re.compile(r"\bFORMAT\s+([A-Za-z]+)\s*;?\s*$", re.IGNORECASE)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, code=None):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        if code is not None:
            self.send_header("X-ClickHouse-Exception-Code", str(code))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path.startswith("/ping"):
            return self.reply(200, b"Ok.\n")
        self.handle_query(b"")

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = self.read_chunked()
        self.handle_query(body)

    def read_chunked(self):
        out = b""
        while True:
            size = int(self.rfile.readline().strip(), 16)
            if size == 0:
                self.rfile.readline()
                return out
            out += self.rfile.read(size)
            self.rfile.readline()

    def handle_query(self, body):
        args = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
        u, p = self.headers.get("X-ClickHouse-User"), self.headers.get("X-ClickHouse-Key")
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            u, _, p = base64.b64decode(auth[6:]).decode().partition(":")
        u, p = u or args.get("user", "default"), p if p is not None else args.get("password", "")
        if u != user or p != password:
            msg = f"Code: 516. DB::Exception: {u}: Authentication failed: password is incorrect, or there is no user with such name. (AUTHENTICATION_FAILED)\n"
            return self.reply(401, msg.encode(), 516)
        sql = args.get("query", "")
        if body:
            sql = f"{sql} {body.decode()}" if sql else body.decode()
        params = {k[6:]: v for k, v in args.items() if k.startswith("param_")}
        settings = {k: v for k, v in args.items() if k not in RESERVED and not k.startswith("param_")}
        fmt = "TabSeparated"
        m = FORMAT_AT_END.search(sql)
        if m and not sql.lstrip().upper().startswith("INSERT"):
            fmt, sql = m.group(1), sql[: m.start()]
        if settings:
            joined = ", ".join(f"{k} = {quote(v)}" for k, v in settings.items())
            sql = f"{sql} SETTINGS {joined}" if sql.lstrip().upper().startswith(("SELECT", "WITH")) else sql
        try:
            with lock:
                db.query(f"USE {args.get('database', 'default')}")
                res = db.query(sql, fmt, params=params or None)
            self.reply(200, res.bytes() if res is not None else b"")
        except Exception as e:  # chDB raises ChdbError with ClickHouse's message
            text = str(e)
            m = re.search(r"Code: (\d+)", text)
            self.reply(500 if m and m.group(1) != "62" else 400, (text + "\n").encode(), int(m.group(1)) if m else 1001)


def quote(v):
    return v if re.fullmatch(r"-?\d+(\.\d+)?", v) else "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'"


# Threaded: a client that keeps an idle connection open must not hold the next one back (the lock
# still runs one query at a time). Single-threaded, each request waited for the last idle connection
# to be dropped by the client (undici: 4 s), and the sink test timed out.
server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
