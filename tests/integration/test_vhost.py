"""Virtual-host-style addressing: Host <bucket>.<domain> for the configured domains (default:
localhost and the machine's host name), path style for a domain itself or an IP literal, and a
clear 400 for any other Host, so that no request lands on the wrong resource.

boto3 with addressing_style "virtual" against http://localhost:PORT sends Host
<bucket>.localhost:PORT. Names under .localhost are loopback (RFC 6761), but this machine's resolver
does not know them, so the test process resolves them itself (socket.getaddrinfo below); the
requests are otherwise what boto3 sends.
"""
import json
import os
import socket
import subprocess
import urllib.request
import xml.etree.ElementTree as ET

import botocore.exceptions
import pytest

import yc_raw
from conftest import make_client, unique_bucket_name

_real_getaddrinfo = socket.getaddrinfo


def _loopback_getaddrinfo(host, *args, **kwargs):
    if isinstance(host, str) and host.endswith(".localhost"):
        host = "127.0.0.1"
    return _real_getaddrinfo(host, *args, **kwargs)


@pytest.fixture(autouse=True)
def localhost_subdomains(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", _loopback_getaddrinfo)


def virtual_client(gateway, **config):
    """A boto3 client that addresses buckets by host name; records the hosts it sent to."""
    c = make_client("http://localhost:%d" % gateway.port, gateway.access_key, gateway.secret_key,
                    s3={"addressing_style": "virtual"}, **config)
    c.sent_hosts = []
    c.meta.events.register("before-send.s3", lambda request, **kw: c.sent_hosts.append(request.url.split("/")[2]))
    return c


def signed(gateway, method, host, path, query="", body=b"", headers=None):
    """A SigV4 request sent to the gateway with the given Host header."""
    h = {"Host": host}
    h.update(headers or {})
    return yc_raw.request(gateway, method, path, query, headers=h, body=body)


def xml_root(r):
    root = ET.fromstring(r.body)
    return root.tag.split("}")[-1], root


def name_of(root):
    for child in root:
        if child.tag.split("}")[-1] == "Name":
            return child.text
    return None


# ---------------------------------------------------------------- boto3, virtual style

def test_bucket_and_object_operations_through_virtual_host(gateway, s3):
    c = virtual_client(gateway)
    name = unique_bucket_name("yc-vhost")
    c.create_bucket(Bucket=name)
    try:
        assert c.sent_hosts[-1] == "%s.localhost:%d" % (name, gateway.port)
        c.head_bucket(Bucket=name)
        c.put_object(Bucket=name, Key="dir/a.txt", Body=b"alpha", ContentType="text/plain")
        assert c.sent_hosts[-1].startswith(name + ".localhost")
        g = c.get_object(Bucket=name, Key="dir/a.txt")
        assert g["Body"].read() == b"alpha" and g["ContentType"] == "text/plain"
        assert c.head_object(Bucket=name, Key="dir/a.txt")["ContentLength"] == 5
        c.copy_object(Bucket=name, Key="b.txt", CopySource={"Bucket": name, "Key": "dir/a.txt"})
        listing = c.list_objects_v2(Bucket=name)
        assert [o["Key"] for o in listing["Contents"]] == ["b.txt", "dir/a.txt"]
        assert [p["Prefix"] for p in c.list_objects(Bucket=name, Delimiter="/")["CommonPrefixes"]] == ["dir/"]
        upload = c.create_multipart_upload(Bucket=name, Key="mp")["UploadId"]
        etag = c.upload_part(Bucket=name, Key="mp", UploadId=upload, PartNumber=1, Body=b"part")["ETag"]
        c.complete_multipart_upload(Bucket=name, Key="mp", UploadId=upload,
                                    MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
        assert c.get_object(Bucket=name, Key="mp")["Body"].read() == b"part"
        # the same objects seen path-style
        assert s3.get_object(Bucket=name, Key="b.txt")["Body"].read() == b"alpha"
        c.delete_objects(Bucket=name, Delete={"Objects": [{"Key": "b.txt"}, {"Key": "mp"}]})
        c.delete_object(Bucket=name, Key="dir/a.txt")
        assert c.list_objects_v2(Bucket=name)["KeyCount"] == 0
        assert all(h.startswith(name + ".localhost") for h in c.sent_hosts)
    finally:
        c.delete_bucket(Bucket=name)
    with pytest.raises(botocore.exceptions.ClientError):
        s3.head_bucket(Bucket=name)


def test_sigv2_header_auth_through_virtual_host(gateway, bucket):
    c = virtual_client(gateway, signature_version="s3")
    c.put_object(Bucket=bucket, Key="v2 key", Body=b"two")
    assert c.get_object(Bucket=bucket, Key="v2 key")["Body"].read() == b"two"
    assert c.list_objects(Bucket=bucket)["Contents"][0]["Key"] == "v2 key"
    assert c.sent_hosts[-1].startswith(bucket + ".localhost")


def test_presigned_urls_through_virtual_host(gateway, s3, bucket):
    s3.put_object(Bucket=bucket, Key="shared.txt", Body=b"shared")
    for version in ("s3", "s3v4"):
        c = virtual_client(gateway, signature_version=version)
        url = c.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "shared.txt"})
        assert url.startswith("http://%s.localhost:%d/shared.txt?" % (bucket, gateway.port))
        with urllib.request.urlopen(url, timeout=30) as resp:
            assert resp.read() == b"shared"


# ---------------------------------------------------------------- the misrouting of the issue

def test_put_key_on_bucket_host_writes_the_object_not_a_bucket(gateway, s3, bucket):
    key = unique_bucket_name("looks-like-a-bucket")
    r = signed(gateway, "PUT", "%s.localhost:%d" % (bucket, gateway.port), "/" + key, body=b"data")
    assert r.status == 200, r.body
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"data"
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        s3.head_bucket(Bucket=key)
    assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_list_on_bucket_host_lists_the_bucket_not_all_buckets(gateway, s3, bucket):
    s3.put_object(Bucket=bucket, Key="only", Body=b"x")
    r = signed(gateway, "GET", "%s.localhost:%d" % (bucket, gateway.port), "/", query="list-type=2")
    assert r.status == 200
    tag, root = xml_root(r)
    assert tag == "ListBucketResult" and name_of(root) == bucket
    assert [e.text for e in root.iter() if e.tag.split("}")[-1] == "Key"] == ["only"]


def test_unknown_host_is_refused_and_nothing_created(gateway, s3):
    name = unique_bucket_name()
    r = signed(gateway, "PUT", "files.example.com", "/" + name)
    assert r.status == 400
    err = r.error()
    assert err["Code"] == "InvalidArgument"
    assert err["ArgumentName"] == "Host" and err["ArgumentValue"] == "files.example.com"
    assert "domains" in err["Message"] and "files.example.com" in err["Message"]
    assert r.headers.get("x-amz-request-id") == err["RequestId"]
    with pytest.raises(botocore.exceptions.ClientError):
        s3.head_bucket(Bucket=name)
    for host in ("%s.files.example.com" % name, "local:host", "[not-an-ip]:80", ".localhost"):
        assert signed(gateway, "GET", host, "/").status == 400, host


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "127.0.0.1", "[::1]:{port}", "[::1]", "localhost:{port}",
                                  "LOCALHOST", "localhost.:{port}", "{hostname}:{port}"])
def test_domain_and_ip_hosts_are_path_style(gateway, s3, bucket, host):
    s3.put_object(Bucket=bucket, Key="p", Body=b"x")
    h = host.format(port=gateway.port, hostname=socket.gethostname())
    r = signed(gateway, "GET", h, "/" + bucket, query="list-type=2")
    assert r.status == 200, (h, r.body)
    tag, root = xml_root(r)
    assert tag == "ListBucketResult" and name_of(root) == bucket


def test_configured_domains_replace_the_defaults(gateway_factory):
    gw = gateway_factory()
    gw.extra_args = ["--domains", "example.test, s3.example.test"]
    gw.restart()
    c = gw.client()
    c.create_bucket(Bucket="vhb")
    r = signed(gw, "PUT", "vhb.s3.example.test:%d" % gw.port, "/k", body=b"longest domain wins")
    assert r.status == 200, r.body
    assert c.get_object(Bucket="vhb", Key="k")["Body"].read() == b"longest domain wins"
    assert signed(gw, "GET", "s3.example.test", "/vhb/k").status == 200
    r = signed(gw, "GET", "vhb.localhost:%d" % gw.port, "/k")
    assert r.status == 400 and r.error()["ArgumentName"] == "Host"


# ---------------------------------------------------------------- the AWS CLI, virtual style

# Loaded by the CLI's Python at start (PYTHONPATH): names under .localhost resolve to loopback, as
# this test process does for boto3 above; everything else of the CLI runs as shipped.
_RESOLVE_LOCALHOST = '''
import json
import os
import socket
import subprocess
_real = socket.getaddrinfo
def _getaddrinfo(host, *args, **kwargs):
    if isinstance(host, str) and host.endswith(".localhost"):
        host = "127.0.0.1"
    return _real(host, *args, **kwargs)
socket.getaddrinfo = _getaddrinfo
'''


def test_aws_cli_virtual_addressing(gateway, s3, bucket, tmp_path):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "sitecustomize.py").write_text(_RESOLVE_LOCALHOST)
    (tmp_path / ".aws").mkdir()
    (tmp_path / ".aws" / "config").write_text("[default]\nregion = us-east-1\ns3 =\n    addressing_style = virtual\n")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "PYTHONPATH": str(tmp_path / "site"),
           "AWS_ACCESS_KEY_ID": gateway.access_key, "AWS_SECRET_ACCESS_KEY": gateway.secret_key}
    src = tmp_path / "up.txt"
    src.write_bytes(b"through the cli")
    endpoint = "http://localhost:%d" % gateway.port

    def aws(*args):
        out = subprocess.run(["aws", "--endpoint-url", endpoint, "--debug"] + list(args), env=env,
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr[-2000:]
        return out

    out = aws("s3", "cp", str(src), "s3://%s/cli/key.txt" % bucket)
    # the CLI addressed the bucket by host name (its debug log names the URL it sent to)
    assert "%s.localhost:%d" % (bucket, gateway.port) in out.stderr
    assert s3.get_object(Bucket=bucket, Key="cli/key.txt")["Body"].read() == b"through the cli"
    out = aws("s3api", "list-objects-v2", "--bucket", bucket, "--prefix", "cli/")
    assert [o["Key"] for o in json.loads(out.stdout)["Contents"]] == ["cli/key.txt"]
    aws("s3", "cp", "s3://%s/cli/key.txt" % bucket, str(tmp_path / "down.txt"))
    assert (tmp_path / "down.txt").read_bytes() == b"through the cli"
