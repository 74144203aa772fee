"""The observability modules' output read by other parsers: the Prometheus text of common/metrics.h
and gateway/gw_metrics.h through Debian's python3-prometheus-client
(prometheus_client.parser.text_string_to_metric_families), the /health/ready body and the access
log through Python's json. build/tests/metrics_dump prints them (see tests/metrics_dump.c for its
modes): a registry with awkward label values and known counts, the gateway's metrics over a real
cluster of local drives with awkward names, one of them offline, and access-log lines with hostile
fields.
"""
import json
import math
import os
import subprocess

import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import REPO_ROOT

BUILD_DIR = os.environ.get("YC_BUILD_DIR", os.path.join(REPO_ROOT, "build"))
DUMP_BIN = os.path.join(BUILD_DIR, "tests", "metrics_dump")
AWKWARD = ["plain", 'q"uote', "back\\slash", "new\nline", "bad\ufffd", "\u4e91"]


def dump(*args):
    if not os.access(DUMP_BIN, os.X_OK):
        pytest.fail("%s is missing: run `make all` first" % DUMP_BIN, pytrace=False)
    out = subprocess.run([DUMP_BIN] + list(args), capture_output=True, check=True, timeout=60)
    return out.stdout.decode("utf-8")  # strict: the text must be UTF-8


def families(text):
    return {f.name: f for f in text_string_to_metric_families(text)}


def samples(fam, name=None):
    return [s for s in fam.samples if name is None or s.name == name]


def test_registry_parses_with_prometheus_parser():
    fams = families(dump("registry"))
    assert set(fams) == {"t_requests", "t_temperature", "t_latency_seconds"}
    req = fams["t_requests"]
    assert req.type == "counter"
    assert req.documentation == "Requests \\ with\nhelp."
    by_label = {(s.labels["drive"], s.labels["code"]): s.value for s in samples(req, "t_requests_total")}
    # the awkward values come back as they were (bytes that are not UTF-8 as U+FFFD)
    for i, drive in enumerate(AWKWARD):
        assert by_label[(drive, "503")] == i + 1
        assert by_label[(drive, "200")] == 0
    temp = fams["t_temperature"]
    assert temp.type == "gauge"
    assert {s.labels["drive"]: s.value for s in temp.samples} == {d: -i for i, d in enumerate(AWKWARD)}


def test_registry_histogram_is_consistent():
    fam = families(dump("registry"))["t_latency_seconds"]
    assert fam.type == "histogram"
    for i, drive in enumerate(AWKWARD):
        mine = [s for s in fam.samples if s.labels["drive"] == drive]
        buckets = [(s.labels["le"], s.value) for s in mine if s.name.endswith("_bucket")]
        assert [le for le, _ in buckets] == ["0.0005", "0.001", "2.5", "+Inf"]
        counts = [v for _, v in buckets]
        assert counts == sorted(counts), "buckets are cumulative"
        n = i + 1  # observations 0.4 ms, 0.8 ms, ... n * 0.4 ms
        obs = [0.0004 * (j + 1) for j in range(n)]
        assert counts == [sum(o <= b for o in obs) for b in (0.0005, 0.001, 2.5, math.inf)]
        count = [s.value for s in mine if s.name.endswith("_count")][0]
        total = [s.value for s in mine if s.name.endswith("_sum")][0]
        assert count == counts[-1] == n
        assert abs(total - sum(obs)) < 1e-9


@pytest.fixture(scope="module")
def gateway_text(tmp_path_factory):
    return dump("gateway", str(tmp_path_factory.mktemp("drives")))


def test_gateway_metrics_parse_with_prometheus_parser(gateway_text):
    fams = families(gateway_text)
    for name, kind in [("yc_requests", "counter"), ("yc_request_duration_seconds", "histogram"),
                       ("yc_request_received_bytes", "counter"), ("yc_request_sent_bytes", "counter"),
                       ("yc_requests_inflight", "gauge"), ("yc_requests_queued", "gauge"),
                       ("yc_requests_shed", "counter"), ("yc_body_read_before_auth_bytes", "histogram"),
                       ("yc_drive_up", "gauge"), ("yc_drive_state", "gauge"), ("yc_set_writable", "gauge"),
                       ("yc_heal_queue", "gauge"), ("yc_rocksdb_estimated_keys", "gauge"),
                       ("yc_rocksdb_sst_bytes", "gauge"), ("yc_rocksdb_background_errors", "counter"),
                       ("yc_drive_request_duration_seconds", "histogram")]:
        assert fams[name].type == kind, name
    req = {(s.labels["operation"], s.labels["code"]): s.value for s in samples(fams["yc_requests"], "yc_requests_total")}
    assert req[("PutObject", "200")] == 1 and req[("PutObject", "403")] == 1 and req[("GetObject", "200")] == 1
    assert sum(req.values()) == 3
    got = {s.labels["operation"]: s.value for s in samples(fams["yc_request_received_bytes"])}
    assert got["PutObject"] == 1048576
    assert samples(fams["yc_requests_inflight"])[0].value == 5
    shed = {s.labels["reason"]: s.value for s in samples(fams["yc_requests_shed"], "yc_requests_shed_total")}
    assert shed == {"inflight": 0, "access_key": 0, "queue_full": 1, "queue_deadline": 0, "loop_lag": 0, "accept": 0}
    auth = {s.labels["le"]: s.value for s in samples(fams["yc_body_read_before_auth_bytes"],
                                                     "yc_body_read_before_auth_bytes_bucket")}
    assert auth["0"] == 1 and auth["65536"] == 2 and auth["+Inf"] == 2


def test_gateway_metrics_name_awkward_drives_and_offline_one(gateway_text):
    fams = families(gateway_text)
    up = {os.path.basename(s.labels["drive"]): s.value for s in samples(fams["yc_drive_up"])}
    assert up == {"off": 0, 'd"quote': 1, "d\\back": 1, "d\nnewline": 1, "d\ufffd\ufffd": 1, "d\u4e91": 1}
    current = {os.path.basename(s.labels["drive"]): s.labels["state"] for s in samples(fams["yc_drive_state"])
               if s.value == 1}
    assert current == {"off": "offline", 'd"quote': "ok", "d\\back": "ok", "d\nnewline": "ok", "d\ufffd\ufffd": "ok",
                       "d\u4e91": "ok"}
    assert len(samples(fams["yc_drive_state"])) == 6 * 10  # every drive in every state, one of them 1
    assert samples(fams["yc_set_drives_ok"])[0].value == 5
    assert samples(fams["yc_set_writable"])[0].value == 1
    # every local drive's database is there (the offline one at 0)
    keys = {os.path.basename(s.labels["drive"]) for s in samples(fams["yc_rocksdb_estimated_keys"])}
    assert len(keys) == 6
    free = {os.path.basename(s.labels["drive"]): s.value for s in samples(fams["yc_drive_free_bytes"])}
    assert free["off"] == 0 and free['d"quote'] > 0


def test_ready_body_is_json(tmp_path):
    status, body = dump("ready", str(tmp_path)).split("\n", 1)
    doc = json.loads(body)
    assert status == "200" and doc["status"] == "ready"
    assert doc["sets"] == [{"set": 0, "drives": 6, "ok": 5, "write_quorum": 4, "writable": True}]
    assert [(os.path.basename(d["drive"]), d["state"]) for d in doc["drives_not_ok"]] == [("off", "offline")]


def test_access_log_lines_are_json(tmp_path):
    path = tmp_path / "access.log"
    dump("access", str(path))
    raw = path.read_bytes()
    raw.decode("utf-8")  # strict: valid UTF-8 throughout
    lines = raw.split(b"\n")
    assert lines[-1] == b"" and len(lines) == 101
    for i, line in enumerate(lines[:-1]):
        doc = json.loads(line)
        assert list(doc) == ["time", "request_id", "access_key", "client", "operation", "bucket", "key", "status",
                             "error", "bytes_in", "bytes_out", "duration_ms", "user_agent"]
        assert doc["time"] == "2026-12-07T00:43:42.%03dZ" % (123 + i)
        assert doc["access_key"] == ('AKIA"forged"' if i % 2 else None)
        assert doc["operation"] == ("PutObject" if i % 3 else None)
        assert doc["status"] == (200 if i % 2 else 403)
        assert doc["error"] == (None if i % 2 else "AccessDenied")
        assert doc["bytes_in"] == i * 1000
        assert abs(doc["duration_ms"] - i * 1.234567) < 1e-6
        assert doc["user_agent"] == 'curl/7.88.1 \x1b[1m"}'
        assert doc["key"].startswith('photos/"x"\\y\n\r\t\x01\x7f/\u4e91/\ufffd\ufffd\ufffd')
    # whole: every invalid byte one U+FFFD, the emoji kept
    assert json.loads(lines[0])["key"] == 'photos/"x"\\y\n\r\t\x01\x7f/\u4e91/' + "\ufffd" * 6 + "/\U0001F600"
