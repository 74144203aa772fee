"""TLS and HTTP/2 on the gateway's S3 port (tls_cert, tls_key, http2): curl over HTTP/2 and
HTTP/1.1 (signed with curl's own --aws-sigv4), boto3 over https verifying a test CA, the AWS CLI
copying a few MiB both ways with --ca-bundle, and the policy condition aws:SecureTransport (true
over https, false over http). The CA and the server certificate are made here with the openssl
command line; clients run with a clean environment (no CA bundle or proxy variables).
"""
import hashlib
import json
import os
import shutil
import subprocess
import tempfile

import boto3
import botocore
import botocore.config
import pytest

from conftest import REGION, Gateway, random_keys

_DROPPED_ENV = ("SSL_CERT_FILE", "SSL_CERT_DIR", "CURL_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "AWS_CA_BUNDLE",
                "https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY",
                "AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_ENDPOINT_URL")
CLEAN_ENV = {k: v for k, v in os.environ.items() if k not in _DROPPED_ENV}


def _openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, capture_output=True, env=CLEAN_ENV)


class TlsGateway(Gateway):
    tls = True

    @property
    def endpoint(self):
        return ("https://localhost:%d" if self.tls else "http://127.0.0.1:%d") % self.port


def client(endpoint, ak, sk, verify=None, **config):
    """A boto3 client like conftest's, verifying the server with the CA file verify."""
    cfg = dict(signature_version="s3v4", s3={"addressing_style": "path"}, region_name=REGION,
               retries={"max_attempts": 1, "mode": "standard"})
    cfg.update(config)
    return boto3.session.Session().client("s3", endpoint_url=endpoint, aws_access_key_id=ak,
                                           aws_secret_access_key=sk, verify=verify,
                                           config=botocore.config.Config(**cfg))


@pytest.fixture(scope="module")
def root():
    d = tempfile.mkdtemp(prefix="yc-tls-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def pki(root):
    d = os.path.join(root, "pki")
    os.makedirs(d)
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key",
             "-out", "ca.pem", "-days", "2", "-subj", "/CN=yuncang gateway test CA", cwd=d)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj",
             "/CN=localhost", cwd=d)
    with open(os.path.join(d, "ext"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out",
             "server.pem", "-days", "2", "-extfile", "ext", cwd=d)
    return {name: os.path.join(d, name) for name in ("ca.pem", "server.pem", "server.key")}


@pytest.fixture(scope="module")
def gw(root, pki):
    ak, sk = random_keys()
    data = os.path.join(root, "data")
    os.makedirs(data)
    g = TlsGateway(data, ak, sk)
    g.extra_args = ["--tls-cert", pki["server.pem"], "--tls-key", pki["server.key"]]
    g.start()
    yield g
    g.stop()


def curl(gw, pki, *args):
    cmd = ["curl", "-sS", "--cacert", pki["ca.pem"], "--aws-sigv4", "aws:amz:%s:s3" % REGION, "--user",
           "%s:%s" % (gw.access_key, gw.secret_key), "-w", "\n%{http_code} %{http_version}"] + list(args)
    res = subprocess.run(cmd, capture_output=True, env=CLEAN_ENV, timeout=60)
    assert res.returncode == 0, res.stderr
    body, _, tail = res.stdout.rpartition(b"\n")
    code, version = tail.decode().split()
    return int(code), version, body


@pytest.mark.parametrize("proto,version", [("--http2", "2"), ("--http1.1", "1.1")])
def test_curl_put_get_round_trip(gw, pki, proto, version, tmp_path):
    s3 = client(gw.endpoint, gw.access_key, gw.secret_key, pki["ca.pem"])
    s3.create_bucket(Bucket="curl-" + version.replace(".", ""))
    src = tmp_path / "src"
    data = os.urandom(3 << 20)
    src.write_bytes(data)
    url = "%s/curl-%s/obj" % (gw.endpoint, version.replace(".", ""))
    code, v, _ = curl(gw, pki, proto, "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD", "-T", str(src), url)
    assert (code, v) == (200, version)
    code, v, body = curl(gw, pki, proto, "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD", url)
    assert (code, v) == (200, version), body[:500]
    assert hashlib.sha256(body).digest() == hashlib.sha256(data).digest()


def test_http2_uploads_are_stored_byte_exact(gw, pki, tmp_path):
    """Frames that arrive while the gateway still works on the previous piece of an HTTP/2 body
    must not disturb that piece: the body buffer once made room for them by moving or reallocating
    the bytes the gateway held, and about one 3 MiB upload in ten was stored with a few bytes
    changed (its ETag the MD5 of the changed bytes). Thirty uploads, each checked by ETag."""
    s3 = client(gw.endpoint, gw.access_key, gw.secret_key, pki["ca.pem"])
    s3.create_bucket(Bucket="h2-exact")
    src = tmp_path / "src"
    bad = []
    for i in range(30):
        data = os.urandom(3 << 20)
        src.write_bytes(data)
        url = "%s/h2-exact/obj-%d" % (gw.endpoint, i)
        code, v, _ = curl(gw, pki, "--http2", "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD", "-T", str(src), url)
        assert (code, v) == (200, "2")
        if s3.head_object(Bucket="h2-exact", Key="obj-%d" % i)["ETag"].strip('"') != hashlib.md5(data).hexdigest():
            bad.append(i)
    assert bad == []


def test_boto3_over_https_verifies_the_ca(gw, pki):
    s3 = client(gw.endpoint, gw.access_key, gw.secret_key, pki["ca.pem"])
    s3.create_bucket(Bucket="boto")
    body = os.urandom(1 << 20)
    s3.put_object(Bucket="boto", Key="k", Body=body)
    assert s3.get_object(Bucket="boto", Key="k")["Body"].read() == body
    # without the test CA the certificate is not trusted
    untrusted = client(gw.endpoint, gw.access_key, gw.secret_key)
    with pytest.raises(botocore.exceptions.SSLError):
        untrusted.list_buckets()


def test_aws_cli_copies_both_ways(gw, pki, tmp_path):
    client(gw.endpoint, gw.access_key, gw.secret_key, pki["ca.pem"]).create_bucket(Bucket="cli")
    src, back = tmp_path / "src", tmp_path / "back"
    data = os.urandom(5 << 20)
    src.write_bytes(data)
    env = dict(CLEAN_ENV, AWS_ACCESS_KEY_ID=gw.access_key, AWS_SECRET_ACCESS_KEY=gw.secret_key,
               AWS_DEFAULT_REGION=REGION, AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    base = ["aws", "--endpoint-url", gw.endpoint, "--ca-bundle", pki["ca.pem"], "s3", "cp"]
    for args in ([str(src), "s3://cli/five"], ["s3://cli/five", str(back)]):
        res = subprocess.run(base + args, capture_output=True, env=env, timeout=120)
        assert res.returncode == 0, res.stderr
    assert back.read_bytes() == data


def test_secure_transport_condition(gw, pki):
    s3 = client(gw.endpoint, gw.access_key, gw.secret_key, pki["ca.pem"])
    s3.create_bucket(Bucket="secure")
    s3.put_object(Bucket="secure", Key="public", Body=b"only over https")
    s3.delete_public_access_block(Bucket="secure")
    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::secure/*",
        "Condition": {"Bool": {"aws:SecureTransport": "true"}}}]}
    s3.put_bucket_policy(Bucket="secure", Policy=json.dumps(policy))
    anon = client(gw.endpoint, "x", "x", pki["ca.pem"], signature_version=botocore.UNSIGNED)
    assert anon.get_object(Bucket="secure", Key="public")["Body"].read() == b"only over https"
    # the same data served in cleartext: the condition is false
    gw.stop()
    gw.tls = False
    saved = gw.extra_args
    gw.extra_args = []
    try:
        gw.start()
        anon = client(gw.endpoint, "x", "x", signature_version=botocore.UNSIGNED)
        with pytest.raises(botocore.exceptions.ClientError) as ei:
            anon.get_object(Bucket="secure", Key="public")
        assert ei.value.response["Error"]["Code"] == "AccessDenied"
        assert gw.client().get_object(Bucket="secure", Key="public")["Body"].read() == b"only over https"
    finally:
        gw.stop()
        gw.tls = True
        gw.extra_args = saved
        gw.start()
