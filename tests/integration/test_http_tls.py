"""TLS and HTTP/2 on the project's HTTP layer (common/http.h) with real clients: curl over https
(HTTP/2 by ALPN and HTTP/1.1), Python's ssl with ALPN, and the h2 package (Debian's python3-h2)
for what curl will not do on purpose (exceed the stream limit, stall an upload's window).

A test CA and a server certificate for localhost/127.0.0.1 are made in the test with the openssl
command line; the server is build/tests/http_echo (tests/http_echo.c for its routes) given the
certificate and key. Clients run with a clean environment: no CA bundle or proxy variables.
"""
import hashlib
import os
import re
import socket
import ssl
import subprocess
import threading
import time

import pytest

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.settings

from conftest import REPO_ROOT, _die_with_parent

BUILD_DIR = os.environ.get("YC_BUILD_DIR", os.path.join(REPO_ROOT, "build"))
ECHO_BIN = os.path.join(BUILD_DIR, "tests", "http_echo")
MAX_STREAMS = 8
STREAM_WINDOW = 65536

# what a client must not inherit: another CA bundle, a proxy
_DROPPED_ENV = ("SSL_CERT_FILE", "SSL_CERT_DIR", "CURL_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "AWS_CA_BUNDLE",
                "https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY")
CLEAN_ENV = {k: v for k, v in os.environ.items() if k not in _DROPPED_ENV}


def _openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, capture_output=True, env=CLEAN_ENV)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A test CA and a server certificate it signed: dict of file paths."""
    d = str(tmp_path_factory.mktemp("pki"))
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key",
             "-out", "ca.pem", "-days", "2", "-subj", "/CN=yuncang test CA", cwd=d)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj",
             "/CN=localhost", cwd=d)
    with open(os.path.join(d, "ext"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out",
             "server.pem", "-days", "2", "-extfile", "ext", cwd=d)
    return {name: os.path.join(d, name) for name in ("ca.pem", "server.pem", "server.key", "ca.key")}


def _start(args):
    if not os.access(ECHO_BIN, os.X_OK):
        pytest.fail("%s is missing: run `make all` first" % ECHO_BIN, pytrace=False)
    proc = subprocess.Popen([ECHO_BIN, "--port", "0"] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=_die_with_parent)
    line = proc.stdout.readline().decode()
    assert line.startswith("listening "), (line, proc.stderr.read())
    return proc, int(line.split()[1])


@pytest.fixture(scope="module")
def server(pki):
    """http_echo over TLS: (proc, port)."""
    proc, port = _start(["--tls-cert", pki["server.pem"], "--tls-key", pki["server.key"], "--head-timeout", "1500",
                         "--max-streams", str(MAX_STREAMS), "--stream-window", str(STREAM_WINDOW),
                         "--slow-ms", "20"])
    yield proc, port
    proc.kill()
    proc.wait()


def url(server, path):
    return "https://localhost:%d%s" % (server[1], path)


def curl(pki, *args, check=True):
    out = subprocess.run(["curl", "-sS", "--max-time", "30", "--cacert", pki["ca.pem"]] + list(args),
                         capture_output=True, check=check, env=CLEAN_ENV)
    return out.stdout, out.stderr.decode(errors="replace")


def stats(pki, server):
    out, _ = curl(pki, "--http1.1", url(server, "/stats"))
    return {k: int(v, 16) if k == "version" else int(v) for k, v in
            (line.split() for line in out.decode().splitlines())}


@pytest.fixture(scope="module")
def payload(tmp_path_factory):
    data = os.urandom(6 * 1024 * 1024 + 123)
    path = tmp_path_factory.mktemp("payload") / "payload"
    path.write_bytes(data)
    return str(path), data


def answer(data):
    return ("%d %s" % (len(data), hashlib.md5(data).hexdigest())).encode()


# ---------------------------------------------------------------- curl


def test_curl_http2_get_by_alpn(pki, server):
    out, err = curl(pki, "-v", "--http2", url(server, "/hello?x=1"))
    assert "ALPN: server accepted h2" in err
    assert "< HTTP/2 200" in err
    assert "< server: http_echo" in err
    assert out == b"GET /hello?x=1\n"


def test_curl_http11_get_over_tls(pki, server):
    out, err = curl(pki, "-v", "--http1.1", url(server, "/one"))
    assert "ALPN: server accepted http/1.1" in err
    assert "< HTTP/1.1 200 OK" in err
    assert out == b"GET /one\n"


def test_curl_without_the_ca_is_refused(pki, server):
    out = subprocess.run(["curl", "-sS", "--max-time", "10", url(server, "/x")], capture_output=True, env=CLEAN_ENV)
    assert out.returncode == 60  # the peer's certificate cannot be verified: it is the test CA's


@pytest.mark.parametrize("proto", ["--http2", "--http1.1"])
def test_curl_put_of_several_mib_is_hashed(pki, server, payload, proto):
    path, data = payload
    out, err = curl(pki, "-v", proto, "-T", path, url(server, "/count"))
    assert ("< HTTP/2 200" if proto == "--http2" else "< HTTP/1.1 200") in err
    assert out == answer(data)


@pytest.mark.parametrize("proto", ["--http2", "--http1.1"])
def test_curl_put_is_echoed_as_it_streams(pki, server, payload, proto):
    path, data = payload
    out, _ = curl(pki, proto, "-T", path, url(server, "/echo"))
    assert out == data


@pytest.mark.parametrize("proto", ["--http2", "--http1.1"])
def test_curl_head_has_the_length_and_no_body(pki, server, proto):
    out, err = curl(pki, "-v", proto, "-I", url(server, "/head-me"))
    assert ("< HTTP/2 200" if proto == "--http2" else "< HTTP/1.1 200") in err
    assert re.search(rb"content-length: 14\r\n", out)  # "HEAD /head-me\n", not sent
    assert out.endswith(b"\r\n\r\n")


def test_curl_http2_large_download(pki, server):
    out, _ = curl(pki, "--http2", url(server, "/big?n=%d" % (20 * 1024 * 1024 + 5)))
    assert len(out) == 20 * 1024 * 1024 + 5
    assert out[:52] == bytes(range(ord("a"), ord("z") + 1)) * 2


@pytest.mark.parametrize("proto", ["--http2", "--http1.1"])
def test_curl_keeps_one_connection_for_several_requests(pki, server, proto):
    before = stats(pki, server)
    urls = [url(server, "/k%d" % i) for i in range(5)]
    out, err = curl(pki, "-v", proto, *urls)
    assert out == b"".join(b"GET /k%d\n" % i for i in range(5))
    after = stats(pki, server)
    # one handshake for the five, and one for the stats request itself
    assert after["tls_handshakes"] - before["tls_handshakes"] == 2
    assert after["requests"] - before["requests"] == 6


def test_curl_http2_concurrent_streams_on_one_connection(pki, server, tmp_path):
    before = stats(pki, server)
    n = 20  # streams, MAX_STREAMS at a time
    args = []
    bodies = []
    for i in range(n):
        data = os.urandom(512 * 1024 + i)
        p = tmp_path / ("up%d" % i)
        p.write_bytes(data)
        bodies.append(data)
        args += ["-T", str(p), url(server, "/count"), "-o", str(tmp_path / ("out%d" % i))]
    # curl opens streams before it has the server's SETTINGS: capped at the limit, none is refused
    # (curl 7.88 retries a refused upload with an empty body, which the server rightly resets)
    curl(pki, "--http2", "--parallel", "--parallel-max", str(MAX_STREAMS), *args)
    for i in range(n):
        assert (tmp_path / ("out%d" % i)).read_bytes() == answer(bodies[i])
    after = stats(pki, server)
    assert after["h2_connections"] - before["h2_connections"] == 1  # all multiplexed
    assert after["requests"] - before["requests"] == n + 1


# ---------------------------------------------------------------- Python's ssl


def tls_connect(server, alpn, **ctx_opts):
    ctx = ssl.create_default_context(cafile=server_ca[0])
    for k, v in ctx_opts.items():
        setattr(ctx, k, v)
    if alpn is not None:
        ctx.set_alpn_protocols(alpn)
    sock = socket.create_connection(("127.0.0.1", server[1]), timeout=10)
    return ctx.wrap_socket(sock, server_hostname="localhost")


server_ca = [None]


@pytest.fixture(autouse=True)
def _ca(pki):
    server_ca[0] = pki["ca.pem"]


def test_python_ssl_alpn_picks_h2_first(server):
    with tls_connect(server, ["http/1.1", "h2"]) as s:
        assert s.selected_alpn_protocol() == "h2"  # the server's preference
        assert s.version() in ("TLSv1.2", "TLSv1.3")


def test_python_ssl_http11_by_alpn_and_without(server):
    for alpn in (["http/1.1"], None):
        with tls_connect(server, alpn) as s:
            assert s.selected_alpn_protocol() == (None if alpn is None else "http/1.1")
            s.sendall(b"GET /py HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            assert data.startswith(b"HTTP/1.1 200 OK\r\n")
            assert data.endswith(b"\r\n\r\nGET /py\n")


def test_tls12_is_served(server):
    with tls_connect(server, ["h2"], maximum_version=ssl.TLSVersion.TLSv1_2) as s:
        assert s.version() == "TLSv1.2"
        assert s.selected_alpn_protocol() == "h2"


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion:DeprecationWarning")
def test_tls11_is_refused_and_counted(pki, server):
    before = stats(pki, server)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(pki["ca.pem"])
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")  # let this client offer TLS 1.1 at all
    ctx.minimum_version = ssl.TLSVersion.TLSv1
    ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    sock = socket.create_connection(("127.0.0.1", server[1]), timeout=10)
    with pytest.raises(ssl.SSLError):
        ctx.wrap_socket(sock, server_hostname="localhost")
    sock.close()
    out = subprocess.run(["curl", "-sS", "--max-time", "10", "--cacert", pki["ca.pem"], "--tlsv1.1", "--tls-max",
                          "1.1", "--ciphers", "DEFAULT:@SECLEVEL=0", url(server, "/x")], capture_output=True,
                         env=CLEAN_ENV)
    assert out.returncode != 0 and out.stdout == b""
    after = stats(pki, server)
    assert after["tls_failures"] - before["tls_failures"] == 2


def _closed_within(sock, seconds):
    """Reads until the peer closes: True if it did within seconds (a reset counts as closed)."""
    sock.settimeout(seconds)
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            if not sock.recv(4096):
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False
    return False


def test_plaintext_and_garbage_handshakes_are_closed_and_counted(pki, server):
    before = stats(pki, server)
    for junk in (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"\x16\x03\x01\x00\x05hello" + os.urandom(300)):
        s = socket.create_connection(("127.0.0.1", server[1]), timeout=5)
        s.sendall(junk)
        assert _closed_within(s, 5)
        s.close()
    after = stats(pki, server)
    assert after["tls_failures"] - before["tls_failures"] == 2
    assert after["requests"] - before["requests"] == 1  # the stats request only


def test_a_silent_handshake_times_out(pki, server):
    before = stats(pki, server)
    s = socket.create_connection(("127.0.0.1", server[1]), timeout=5)
    start = time.monotonic()
    assert _closed_within(s, 5)  # --head-timeout 1500
    assert 1.0 < time.monotonic() - start < 4.0
    s.close()
    assert stats(pki, server)["tls_failures"] - before["tls_failures"] == 1


# ---------------------------------------------------------------- HTTP/2 with the h2 package


class H2Client:
    """A blocking HTTP/2 client over TLS with ALPN h2, driving the h2 package by hand."""

    def __init__(self, server, window=None):
        self.sock = tls_connect(server, ["h2"])
        assert self.sock.selected_alpn_protocol() == "h2"
        self.conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True))
        self.conn.initiate_connection()
        if window is not None:
            self.conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: window})
        self.flush()
        self.events = []
        self.remote_settings = {}

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def pump(self, timeout=5.0):
        """Reads once (at most timeout); returns the new events, [] at the end of the connection."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return None
        if not data:
            return []
        events = self.conn.receive_data(data)
        for ev in events:
            if isinstance(ev, h2.events.RemoteSettingsChanged):
                for code, setting in ev.changed_settings.items():
                    self.remote_settings[code] = setting.new_value
        self.flush()
        self.events += events
        return events

    def wait_for(self, pred, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if pred():
                return True
            if self.pump(max(0.05, deadline - time.monotonic())) == []:
                return pred()
        return pred()

    def headers(self, sid, method, path, end_stream=True, extra=()):
        hdrs = [(":method", method), (":path", path), (":scheme", "https"), (":authority", "localhost")]
        self.conn.send_headers(sid, hdrs + list(extra), end_stream=end_stream)
        self.flush()

    def close(self):
        self.sock.close()


def _ended(client, sid):
    return any(isinstance(e, (h2.events.StreamEnded, h2.events.StreamReset)) and e.stream_id == sid
               for e in client.events)


def test_h2_settings_are_sane(server):
    c = H2Client(server)
    assert c.wait_for(lambda: h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS in c.remote_settings)
    s = c.remote_settings
    assert s[h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS] == MAX_STREAMS
    assert s[h2.settings.SettingCodes.INITIAL_WINDOW_SIZE] == STREAM_WINDOW
    assert s[h2.settings.SettingCodes.MAX_HEADER_LIST_SIZE] == 16384
    assert s[h2.settings.SettingCodes.ENABLE_PUSH] == 0
    c.close()


def _bodies(client):
    bodies = {}
    for e in client.events:
        if isinstance(e, h2.events.DataReceived):
            bodies[e.stream_id] = bodies.get(e.stream_id, b"") + e.data
    return bodies


def test_h2_streams_past_the_limit_before_settings_are_refused(pki, server):
    """A client that opens streams before it has the server's SETTINGS: those past the limit get
    REFUSED_STREAM (safe to retry), the others are served on the same connection."""
    before = stats(pki, server)
    c = H2Client(server)  # sends its preface and nothing more: the HEADERS follow at once
    ids = [1 + 2 * i for i in range(MAX_STREAMS + 4)]
    for sid in ids:  # uploads left open: every stream stays open on both sides
        c.headers(sid, "PUT", "/count", end_stream=False)
    assert c.wait_for(lambda: sum(isinstance(e, h2.events.StreamReset) for e in c.events) >= 4)
    reset = {e.stream_id: e.error_code for e in c.events if isinstance(e, h2.events.StreamReset)}
    assert reset == {sid: h2.errors.ErrorCodes.REFUSED_STREAM for sid in ids[MAX_STREAMS:]}
    for sid in ids[:MAX_STREAMS]:
        c.conn.send_data(sid, b"abc", end_stream=True)
    c.flush()
    assert c.wait_for(lambda: all(_ended(c, sid) for sid in ids[:MAX_STREAMS]))
    bodies = _bodies(c)
    assert all(bodies.get(sid) == answer(b"abc") for sid in ids[:MAX_STREAMS]), bodies
    c.close()
    after = stats(pki, server)
    assert after["requests"] - before["requests"] == MAX_STREAMS + 1


def test_h2_streams_past_the_acknowledged_limit_end_the_connection(pki, server):
    """Past a limit the client acknowledged, nghttp2 ends the connection (GOAWAY PROTOCOL_ERROR);
    the requests the app held are released and the server goes on."""
    c = H2Client(server)
    assert c.wait_for(lambda: h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS in c.remote_settings)
    # the h2 package would refuse to exceed the limit: its count is lifted
    c.conn.remote_settings[h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS] = 1000
    c.conn.remote_settings.acknowledge()
    ids = [1 + 2 * i for i in range(MAX_STREAMS + 4)]
    for sid in ids:
        c.headers(sid, "PUT", "/count", end_stream=False)
    assert c.wait_for(lambda: any(isinstance(e, h2.events.ConnectionTerminated) for e in c.events))
    term = [e for e in c.events if isinstance(e, h2.events.ConnectionTerminated)][0]
    assert term.error_code == h2.errors.ErrorCodes.PROTOCOL_ERROR
    assert term.last_stream_id == ids[MAX_STREAMS - 1]
    assert c.pump(5) == []  # and the server closes it
    c.close()
    deadline = time.monotonic() + 5
    while stats(pki, server)["connections"] != 1 and time.monotonic() < deadline:  # the stats one
        time.sleep(0.05)
    assert stats(pki, server)["connections"] == 1
    out, _ = curl(pki, "--http2", url(server, "/after"))
    assert out == b"GET /after\n"


def test_h2_header_block_too_large_gets_431(server):
    c = H2Client(server)
    c.headers(1, "GET", "/big-head", extra=[("x-filler-%d" % i, "v" * 1000) for i in range(20)])
    assert c.wait_for(lambda: _ended(c, 1))
    status = [dict(e.headers).get(b":status") for e in c.events
              if isinstance(e, h2.events.ResponseReceived) and e.stream_id == 1]
    assert status == [b"431"]
    c.headers(3, "GET", "/fine")  # the connection goes on
    assert c.wait_for(lambda: _ended(c, 3))
    c.close()


def test_h2_upload_back_pressure_holds_memory(pki, server):
    """The server reads /slow 64 KiB per 20 ms: the client may only run a window ahead of it."""
    c = H2Client(server)
    size = 4 * 1024 * 1024
    data = os.urandom(size)
    c.headers(1, "PUT", "/slow", end_stream=False, extra=[("content-length", str(size))])
    sent = 0
    peak = 0
    samples = []
    start = time.monotonic()
    while sent < size:
        room = min(c.conn.local_flow_control_window(1), c.conn.max_outbound_frame_size, size - sent)
        if room > 0:
            c.conn.send_data(1, data[sent:sent + room], end_stream=sent + room == size)
            c.flush()
            sent += room
            continue
        # the window is shut: the server holds at most it (plus buffer rounding)
        st = stats(pki, server)
        peak = max(peak, st["input_bytes"])
        samples.append(sent)
        assert c.pump(10) is not None, "no window update for 10 s"
    assert c.wait_for(lambda: _ended(c, 1), timeout=30)
    elapsed = time.monotonic() - start
    body = b"".join(e.data for e in c.events if isinstance(e, h2.events.DataReceived) and e.stream_id == 1)
    assert body == answer(data)
    # 64 pieces of 64 KiB at 20 ms each: the client was held back, not buffered
    assert elapsed > 1.0
    assert len(samples) > 10
    assert 0 < peak <= 4 * STREAM_WINDOW, peak
    c.close()


def test_h2_reset_stream_ends_the_apps_request(pki, server):
    c = H2Client(server)
    c.headers(1, "PUT", "/count", end_stream=False)
    c.conn.send_data(1, b"x" * 1000)
    c.flush()
    c.conn.reset_stream(1, h2.errors.ErrorCodes.CANCEL)
    c.flush()
    c.headers(3, "GET", "/next")
    assert c.wait_for(lambda: _ended(c, 3))
    c.close()
    out, _ = curl(pki, "--http2", url(server, "/still"))
    assert out == b"GET /still\n"


def test_h2c_prior_knowledge_on_cleartext(pki):
    proc, port = _start(["--h2c", "1"])
    try:
        out = subprocess.run(["curl", "-sS", "-v", "--max-time", "10", "--http2-prior-knowledge",
                              "http://127.0.0.1:%d/plain" % port], capture_output=True, env=CLEAN_ENV)
        assert out.stdout == b"GET /plain\n"
        assert "< HTTP/2 200" in out.stderr.decode()
        out = subprocess.run(["curl", "-sS", "--max-time", "10", "http://127.0.0.1:%d/old" % port],
                             capture_output=True, env=CLEAN_ENV)
        assert out.stdout == b"GET /old\n"  # HTTP/1.1 as before
    finally:
        proc.kill()
        proc.wait()


def test_bad_tls_files_stop_the_server(pki, tmp_path):
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate\n")
    for cert, key in ((str(bad), pki["server.key"]), (pki["server.pem"], pki["ca.key"]),
                      (str(tmp_path / "missing.pem"), pki["server.key"])):
        res = subprocess.run([ECHO_BIN, "--port", "0", "--tls-cert", cert, "--tls-key", key], capture_output=True,
                             timeout=10)
        assert res.returncode == 1
        assert b"server:" in res.stderr


def test_h2_stream_whose_window_stays_shut_is_reset_after_the_send_timeout(pki):
    proc, port = _start(["--tls-cert", pki["server.pem"], "--tls-key", pki["server.key"], "--send-timeout", "1000"])
    try:
        c = H2Client((proc, port), window=0)  # the server may send no DATA until we say so
        start = time.monotonic()
        c.headers(1, "GET", "/big?n=1000000")
        assert c.wait_for(lambda: _ended(c, 1), timeout=10)
        elapsed = time.monotonic() - start
        reset = [e for e in c.events if isinstance(e, h2.events.StreamReset) and e.stream_id == 1]
        assert reset and reset[0].error_code == h2.errors.ErrorCodes.CANCEL
        assert 0.8 < elapsed < 5, elapsed
        status = [dict(e.headers).get(b":status") for e in c.events if isinstance(e, h2.events.ResponseReceived)]
        assert status == [b"200"]  # the head went; the body waited for a window that never came
        c.conn.ping(b"stillok!")  # the connection itself goes on
        c.flush()
        assert c.wait_for(lambda: any(isinstance(e, h2.events.PingAckReceived) for e in c.events))
        c.close()
    finally:
        proc.kill()
        proc.wait()
