"""The project's HTTP/1.1 layer (common/http.h) with real clients: curl and Python's http.client
against build/tests/http_echo, a small server on the layer (see tests/http_echo.c for its routes).

What is checked here is what those clients do on their own: curl's Expect: 100-continue for
large uploads (it waits for the 100, and on an early refusal sends no body at all), its chunked
uploads, http.client's keep-alive and chunked requests, HEAD, HTTP/1.0.
"""
import hashlib
import http.client
import os
import subprocess
import time

import pytest

from conftest import REPO_ROOT, _die_with_parent

BUILD_DIR = os.environ.get("YC_BUILD_DIR", os.path.join(REPO_ROOT, "build"))
ECHO_BIN = os.path.join(BUILD_DIR, "tests", "http_echo")


@pytest.fixture(scope="module")
def echo():
    """A running http_echo: (host, port)."""
    if not os.access(ECHO_BIN, os.X_OK):
        pytest.fail("%s is missing: run `make all` first" % ECHO_BIN, pytrace=False)
    proc = subprocess.Popen([ECHO_BIN, "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            preexec_fn=_die_with_parent)
    line = proc.stdout.readline().decode()
    assert line.startswith("listening "), line
    yield "127.0.0.1", int(line.split()[1])
    proc.kill()
    proc.wait()


def curl(*args):
    out = subprocess.run(["curl", "-s", "-S", "--max-time", "20"] + list(args), capture_output=True, check=True)
    return out.stdout.decode(errors="replace"), out.stderr.decode(errors="replace")


@pytest.fixture
def payload(tmp_path):
    data = os.urandom(5 * 1024 * 1024 + 17)
    path = tmp_path / "payload"
    path.write_bytes(data)
    return str(path), data


def test_curl_large_put_waits_for_100_continue(echo, payload):
    path, data = payload
    out, err = curl("-v", "-T", path, "http://%s:%d/count" % echo)
    assert "> Expect: 100-continue" in err
    assert "< HTTP/1.1 100 Continue" in err
    assert out == "%d %s" % (len(data), hashlib.md5(data).hexdigest())


def test_curl_refused_upload_sends_no_body(echo, payload):
    path, data = payload
    start = time.monotonic()
    out, err = curl("-v", "-T", path, "-w", "\n%{http_code} %{size_upload}", "http://%s:%d/refuse" % echo)
    assert time.monotonic() - start < 0.9  # curl gives up waiting for a 100 after 1 s
    assert "100 Continue" not in err
    assert "< connection: close" in err
    assert out.endswith("\n403 0")


def test_curl_refused_upload_without_expect_is_answered_at_once(echo, tmp_path):
    path = tmp_path / "big"
    with open(path, "wb") as f:
        f.truncate(512 * 1024 * 1024)  # sparse: 512 MiB that cost no disk
    start = time.monotonic()
    out, _ = curl("-H", "Expect:", "-T", str(path), "-w", "\n%{http_code} %{size_upload}",
                  "http://%s:%d/refuse" % echo)
    status, uploaded = out.rsplit("\n", 1)[1].split()
    assert status == "403"
    assert int(uploaded) < 64 * 1024 * 1024
    assert time.monotonic() - start < 5


def test_curl_chunked_upload(echo, payload):
    path, data = payload
    out, err = curl("-v", "-H", "Transfer-Encoding: chunked", "-T", path, "http://%s:%d/count" % echo)
    assert "> Transfer-Encoding: chunked" in err
    assert out == "%d %s" % (len(data), hashlib.md5(data).hexdigest())


def test_curl_streams_an_echo(echo, payload):
    path, data = payload
    out = subprocess.run(["curl", "-s", "-S", "--max-time", "20", "-T", path, "http://%s:%d/echo" % echo],
                         capture_output=True, check=True).stdout
    assert out == data


def test_curl_http10_and_head(echo):
    out, err = curl("-v", "--http1.0", "http://%s:%d/old?x=1" % echo)
    assert out == "GET /old?x=1\n"
    assert "< connection: close" in err
    out, err = curl("-v", "-I", "http://%s:%d/h" % echo)
    assert "content-length: 8" in out.lower()  # "HEAD /h\n", not sent


def test_http_client_keeps_the_connection_and_sends_chunked(echo):
    conn = http.client.HTTPConnection(*echo, timeout=10)
    conn.request("GET", "/one")
    r = conn.getresponse()
    assert r.status == 200 and r.read() == b"GET /one\n"
    sock = conn.sock
    pieces = [b"abc", b"", b"d" * 70000, b"efg"]
    conn.request("PUT", "/count", body=iter(pieces), encode_chunked=True)
    r = conn.getresponse()
    data = b"".join(pieces)
    assert r.read().decode() == "%d %s" % (len(data), hashlib.md5(data).hexdigest())
    conn.request("HEAD", "/two")
    r = conn.getresponse()
    assert r.status == 200 and r.getheader("content-length") == "10" and r.read() == b""
    conn.request("GET", "/three")
    assert conn.getresponse().read() == b"GET /three\n"
    assert conn.sock is sock  # one connection all along
    conn.close()


def test_http_client_with_a_malformed_chunk_gets_400(echo):
    conn = http.client.HTTPConnection(*echo, timeout=10)
    conn.putrequest("PUT", "/count")
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    conn.send(b"5\nhello\r\n0\r\n\r\n")  # a bare LF ends the chunk size
    r = conn.getresponse()
    assert r.status == 400
    assert r.getheader("connection") == "close"
    conn.close()
