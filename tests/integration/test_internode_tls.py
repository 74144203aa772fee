"""Mutual TLS between the gateway and yc-store daemons: real daemons on loopback, real TLS.

The certificates come from `yc-admin cluster-ca` (one cluster CA, a certificate per node) and a
second, unrelated CA stands for an intruder. Checked: a cluster with TLS on both sides serves
PUT and GET; a daemon refuses a client certificate of
another CA and a client without one; a cleartext client gets no HTTP answer from a TLS daemon;
the gateway refuses a daemon whose certificate is of another CA or names another address; and a
gateway and daemons that disagree about TLS say so in the gateway's log instead of hanging.
"""
import json
import os
import socket
import ssl
import subprocess
import sys
import time

import botocore.exceptions
import pytest

from conftest import ADMIN_BIN

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fault"))
import cluster as yc  # noqa: E402

# the gateway's probe of a daemon runs once a second; a mismatch shows within a few rounds
LOG_WAIT = 10.0


def cluster_ca(*args):
    res = subprocess.run([ADMIN_BIN, "cluster-ca"] + list(args), capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stderr
    return res


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """Two CAs: the cluster's (ours) and another (theirs), each with node certificates."""
    root = tmp_path_factory.mktemp("pki")
    ours, theirs = str(root / "ours"), str(root / "theirs")
    cluster_ca("init", "--dir", ours)
    cluster_ca("init", "--dir", theirs)
    for node in ("store0", "store1", "store2"):
        cluster_ca("issue", "--dir", ours, "--node", node, "--ip", "127.0.0.1")
    cluster_ca("issue", "--dir", ours, "--node", "gateway", "--dns", "gateway.internal")
    cluster_ca("issue", "--dir", ours, "--node", "elsewhere", "--ip", "10.9.8.7")  # right CA, wrong address
    cluster_ca("issue", "--dir", theirs, "--node", "intruder", "--ip", "127.0.0.1")
    return {"ours": ours, "theirs": theirs}


def files(d, node):
    return os.path.join(d, node + ".crt"), os.path.join(d, node + ".key"), os.path.join(d, "ca.crt")


def store_args(d, node, ca_dir=None):
    crt, key, ca = files(d, node)
    return ["--tls-cert", crt, "--tls-key", key, "--tls-ca", os.path.join(ca_dir or d, "ca.crt")]


def gateway_args(d, node="gateway", ca_dir=None):
    crt, key, ca = files(d, node)
    return ["--internode-tls-cert", crt, "--internode-tls-key", key,
            "--internode-tls-ca", os.path.join(ca_dir or d, "ca.crt")]


def start_cluster(nodes, daemon_args, gw_args, ec):
    cl = yc.Cluster(nodes=nodes, drives_per_node=2, ec=ec, gateway_args=gw_args)
    for i, d in enumerate(cl.daemons):
        d.extra_args = daemon_args(i)
    try:
        cl.start()
    except Exception:
        cl.close()
        raise
    return cl


def put_until_accepted(client, bucket, deadline=10.0):
    """The gateway uses a remote drive once its prober has seen it: the first write may come early."""
    end = time.monotonic() + deadline
    while True:
        try:
            client.create_bucket(Bucket=bucket)
            return
        except botocore.exceptions.ClientError:
            if time.monotonic() > end:
                raise
            time.sleep(0.2)


def wait_for_log(read, text, timeout=LOG_WAIT):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if text in read():
            return True
        time.sleep(0.2)
    return False


def raw_exchange(port, wrap=None):
    """Sends a request to a daemon on 127.0.0.1:port (through wrap when given) and returns what came
    back before the daemon closed, or the error the TLS layer raised."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        if wrap is not None:
            sock = wrap(sock)
        sock.sendall(b"GET /stats HTTP/1.1\r\nhost: store\r\ncontent-length: 0\r\n\r\n")
        got = b""
        while b"\r\n\r\n" not in got:
            chunk = sock.recv(4096)
            if not chunk:
                break
            got += chunk
        return got
    except (ssl.SSLError, ConnectionError, socket.timeout) as e:
        return e
    finally:
        sock.close()


def tls_wrapper(client_cert=None, client_key=None, ca=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.load_verify_locations(ca)
    if client_cert:
        ctx.load_cert_chain(client_cert, client_key)
    return lambda s: ctx.wrap_socket(s)


@pytest.fixture(scope="module")
def tls_cluster(pki):
    ours = pki["ours"]
    cl = start_cluster(3, lambda i: store_args(ours, "store%d" % i), gateway_args(ours), "4+2")
    yield cl
    cl.close()


def test_cluster_with_mutual_tls_serves_put_and_get(tls_cluster):
    s3 = tls_cluster.client()
    bucket = yc.unique_bucket_name("yc-mtls")
    put_until_accepted(s3, bucket)
    small, large = os.urandom(4096), os.urandom(3 * 1024 * 1024 + 17)  # inline, and striped into shards
    s3.put_object(Bucket=bucket, Key="small", Body=small)
    s3.put_object(Bucket=bucket, Key="large", Body=large)
    assert s3.get_object(Bucket=bucket, Key="small")["Body"].read() == small
    assert s3.get_object(Bucket=bucket, Key="large")["Body"].read() == large
    got = s3.get_object(Bucket=bucket, Key="large", Range="bytes=1048570-1048600")["Body"].read()
    assert got == large[1048570:1048601]
    for d in tls_cluster.daemons:
        assert "tls=mutual" in d.log_text()
    shown = json.loads(tls_cluster.gateway.admin("--json", "config", "show").stdout)
    assert shown["internode_tls_ca"].endswith("ca.crt"), shown
    assert "event=internode_tls_failed" not in tls_cluster.gateway_log()


def test_plaintext_client_gets_no_answer_from_a_tls_daemon(tls_cluster):
    got = raw_exchange(tls_cluster.daemons[0].port)
    assert isinstance(got, Exception) or not got.startswith(b"HTTP/"), got


def test_daemon_refuses_a_client_certificate_of_another_ca(tls_cluster, pki):
    port = tls_cluster.daemons[1].port
    ours_ca = os.path.join(pki["ours"], "ca.crt")
    # the cluster's own certificate is let in (the unsigned request is then refused by the HMAC: 401)
    crt, key, _ = files(pki["ours"], "gateway")
    got = raw_exchange(port, tls_wrapper(crt, key, ours_ca))
    assert isinstance(got, bytes) and got.startswith(b"HTTP/1.1 401"), got
    # another CA's certificate, and none at all: no HTTP answer, the handshake is refused
    crt, key, _ = files(pki["theirs"], "intruder")
    for wrap in (tls_wrapper(crt, key, ours_ca), tls_wrapper(ca=ours_ca)):
        got = raw_exchange(port, wrap)
        assert isinstance(got, Exception) or not got.startswith(b"HTTP/"), got
    assert wait_for_log(tls_cluster.daemons[1].log_text, "event=tls_refused")


def test_gateway_refuses_a_daemon_certificate_of_another_ca(pki):
    ours, theirs = pki["ours"], pki["theirs"]
    # the daemon trusts our CA (it would take the gateway), but presents another CA's certificate
    cl = start_cluster(1, lambda i: store_args(theirs, "intruder", ca_dir=ours), gateway_args(ours), "1+1")
    try:
        with pytest.raises(botocore.exceptions.ClientError) as e:
            cl.client().head_bucket(Bucket=yc.unique_bucket_name("yc-mtls"))
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
        assert wait_for_log(cl.gateway_log, "the daemon's certificate was refused"), cl.gateway_log()[-3000:]
    finally:
        cl.close()


def test_gateway_refuses_a_daemon_certificate_for_another_address(pki):
    ours = pki["ours"]
    cl = start_cluster(1, lambda i: store_args(ours, "elsewhere"), gateway_args(ours), "1+1")
    try:
        assert wait_for_log(cl.gateway_log, "the daemon's certificate was refused"), cl.gateway_log()[-3000:]
        assert "hostname mismatch" in cl.gateway_log() or "IP address mismatch" in cl.gateway_log()
    finally:
        cl.close()


def test_gateway_with_a_certificate_of_another_ca_is_told_so(pki):
    ours, theirs = pki["ours"], pki["theirs"]
    # the gateway trusts our CA (it would take the daemon) but presents another CA's certificate
    cl = start_cluster(1, lambda i: store_args(ours, "store0"), gateway_args(theirs, "intruder", ca_dir=ours), "1+1")
    try:
        assert wait_for_log(cl.gateway_log, "the daemon refused this gateway's certificate"), cl.gateway_log()[-3000:]
        assert wait_for_log(cl.daemons[0].log_text, "event=tls_refused")
    finally:
        cl.close()


def test_mixed_configs_are_named_in_the_gateway_log(pki):
    ours = pki["ours"]
    # daemons with TLS, a gateway without: the daemon ends each cleartext connection
    cl = start_cluster(1, lambda i: store_args(ours, "store0"), [], "1+1")
    try:
        t0 = time.monotonic()
        with pytest.raises(botocore.exceptions.ClientError) as e:
            cl.client().head_bucket(Bucket=yc.unique_bucket_name("yc-mtls"))
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
        assert time.monotonic() - t0 < 5  # refused, not hung
        assert wait_for_log(cl.gateway_log, "closed a new connection without answering"), cl.gateway_log()[-3000:]
        assert wait_for_log(cl.daemons[0].log_text, "event=tls_refused")
    finally:
        cl.close()
    # a gateway with TLS, daemons without: a cleartext daemon waits for a request head that never
    # comes, so the handshake's deadline (the connect timeout) names it
    cl = start_cluster(1, lambda i: [], gateway_args(ours), "1+1")
    try:
        assert wait_for_log(cl.gateway_log, "is the daemon's internode TLS on?"), cl.gateway_log()[-3000:]
        assert "state=error" in cl.gateway_log()
    finally:
        cl.close()


def test_daemon_refuses_to_start_with_half_a_tls_config(pki, tmp_path):
    crt, key, ca = files(pki["ours"], "store0")
    res = subprocess.run([yc.STORE_BIN, "--listen", "127.0.0.1:%d" % yc.free_port(), "--drive",
                          "a=%s" % (tmp_path / "a"), "--tls-cert", crt, "--tls-key", key],
                         env=dict(os.environ, YC_CLUSTER_SECRET="s" * 32), capture_output=True, text=True, timeout=30)
    assert res.returncode == 1
    assert "--tls-ca is missing" in res.stderr
