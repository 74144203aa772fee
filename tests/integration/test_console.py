"""The web console (gateway/console/, served under /_console/) in headless Chromium (Debian's
chromium and chromium-driver, driven by python3-selenium): a wrong key is refused with the
server's error; with the root keys the console creates a bucket, uploads a file larger than a part
(multipart, with its progress bar), lists it, downloads it (the bytes on disk compared with the
original), deletes it; the cluster page lists every drive, the metrics page draws its charts.
The files' own headers (CSP, frame options, caching) are checked with plain HTTP.

YC_CONSOLE_SCREENSHOTS=<dir> keeps the screenshots there (docs/console/ holds the committed ones).
"""
import hashlib
import json
import os
import re
import tempfile
import struct
import time
import uuid
import zlib

import botocore.exceptions
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

import yc_raw
from test_iam import make_iam
from conftest import empty_and_delete_bucket, random_keys, unique_bucket_name

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
PART_SIZE = 5 * 1024 * 1024


@pytest.fixture(scope="module")
def downloads():
    return tempfile.mkdtemp(prefix="yc-console-dl-")


@pytest.fixture(scope="module")
def shots():
    d = os.environ.get("YC_CONSOLE_SCREENSHOTS") or tempfile.mkdtemp(prefix="yc-console-shots-")
    os.makedirs(d, exist_ok=True)
    return d


@pytest.fixture(scope="module")
def browser(downloads):
    assert os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK), \
        "chromium and chromium-driver are missing: `make deps` installs them"
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--no-proxy-server", "--no-first-run", "--disable-extensions", "--window-size=1280,900"):
        opts.add_argument(flag)
    opts.add_experimental_option("prefs", {"download.default_directory": downloads,
                                           "download.prompt_for_download": False})
    env = {"PATH": "/usr/bin:/bin", "HOME": tempfile.mkdtemp(prefix="yc-chromium-")}
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER, env=env), options=opts)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": downloads})
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def wait(browser, cond, timeout=20):
    return WebDriverWait(browser, timeout).until(cond)


def text_of(browser, css):
    return browser.find_element(By.CSS_SELECTOR, css).text


def tiny_png(width, height):
    """A valid RGB PNG of width x height red pixels."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def sign_in(browser, gateway, access_key, secret_key):
    browser.get(gateway.endpoint + "/_console/")
    browser.execute_script("sessionStorage.clear()")
    browser.refresh()
    wait(browser, EC.presence_of_element_located((By.ID, "access-key")))
    browser.find_element(By.ID, "access-key").send_keys(access_key)
    browser.find_element(By.ID, "secret-key").send_keys(secret_key)
    browser.find_element(By.ID, "sign-in").click()


def test_console_files_carry_strict_headers(gateway):
    r = yc_raw.anonymous(gateway, "GET", "/_console/")
    assert r.status == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe" not in csp
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-cache"
    assert "set-cookie" not in r.headers and "access-control-allow-origin" not in r.headers
    # no inline script for the CSP to allow: every <script> names its file
    assert re.findall(rb"<script(?![^>]*\ssrc=)", r.body) == []
    etag = r.headers["etag"]
    again = yc_raw.anonymous(gateway, "GET", "/_console/index.html", headers={"If-None-Match": etag})
    assert again.status == 304 and again.body == b""

    js = yc_raw.anonymous(gateway, "GET", "/_console/app.js")
    assert js.status == 200 and js.headers["content-type"] == "text/javascript; charset=utf-8"
    assert yc_raw.anonymous(gateway, "HEAD", "/_console/console.css").headers["content-type"].startswith("text/css")

    moved = yc_raw.anonymous(gateway, "GET", "/_console")
    assert moved.status == 301 and moved.headers["location"] == "/_console/"
    missing = yc_raw.anonymous(gateway, "GET", "/_console/nothing.js")
    assert missing.status == 404 and missing.error()["Code"] == "NoSuchKey"
    post = yc_raw.anonymous(gateway, "POST", "/_console/")
    assert post.status == 405 and post.error()["Code"] == "MethodNotAllowed"
    # virtual-host style: the path is a key of the Host's bucket, never the console
    vhost = yc_raw.anonymous(gateway, "GET", "/_console/", headers={"Host": "nobucket.localhost:%d" % gateway.port})
    assert vhost.status == 404 and vhost.error()["Code"] == "NoSuchBucket"
    assert "content-security-policy" not in vhost.headers


def test_admin_metrics_for_root_only(gateway):
    r = yc_raw.request(gateway, "GET", "/_admin/v1/metrics")
    assert r.status == 200, r.body[:300]
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert b"yc_requests_total" in r.body and b"yc_drive_free_bytes" in r.body
    assert yc_raw.anonymous(gateway, "GET", "/_admin/v1/metrics").status == 403


def test_wrong_keys_are_refused_with_the_server_error(gateway, browser, shots):
    sign_in(browser, gateway, gateway.access_key, "not-the-secret-key")
    wait(browser, lambda d: "failed" in text_of(d, "#sign-in-error"))
    assert "SignatureDoesNotMatch (403)" in text_of(browser, "#sign-in-error")
    browser.save_screenshot(os.path.join(shots, "sign-in-error.png"))
    unknown, _ = random_keys()
    sign_in(browser, gateway, unknown, "whatever-secret")
    wait(browser, lambda d: "failed" in text_of(d, "#sign-in-error"))
    assert "InvalidAccessKeyId (403)" in text_of(browser, "#sign-in-error")
    assert browser.execute_script("return sessionStorage.length") == 0
    assert not browser.find_element(By.ID, "nav").is_displayed()


def test_bucket_upload_list_download_delete(gateway, s3, browser, downloads, shots):
    name = unique_bucket_name("yc-console")
    data = os.urandom(PART_SIZE + 700 * 1024)  # two parts
    src = os.path.join(tempfile.mkdtemp(prefix="yc-console-src-"), "big-file.bin")
    with open(src, "wb") as f:
        f.write(data)
    try:
        sign_in(browser, gateway, gateway.access_key, gateway.secret_key)
        wait(browser, EC.presence_of_element_located((By.ID, "new-bucket")))
        assert text_of(browser, "#who") == gateway.access_key
        # the secret stays in this tab's session storage only: no cookie carries it
        assert browser.get_cookies() == []
        assert browser.execute_script("return localStorage.length") == 0
        browser.find_element(By.ID, "new-bucket").send_keys(name)
        browser.find_element(By.ID, "new-versioning").click()
        Select(browser.find_element(By.ID, "new-encryption")).select_by_value("AES256")
        browser.find_element(By.ID, "create-bucket").click()
        wait(browser, lambda d: "Open " + name in text_of(d, "#create-result"))
        shown = text_of(browser, "#create-result")
        assert "CreateBucket %s: OK" % name in shown and "PutBucketVersioning: OK" in shown
        assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
        # default encryption: the console shows the server's own answer, whichever it is
        try:
            s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": [
                {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
            expected = "PutBucketEncryption AES256: OK"
        except botocore.exceptions.ClientError as e:
            expected = "PutBucketEncryption AES256: %s (%d)" % (
                e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"])
        assert expected in shown, shown
        wait(browser, EC.presence_of_element_located((By.CSS_SELECTOR, 'tr[data-bucket="%s"]' % name)))
        browser.save_screenshot(os.path.join(shots, "new-bucket.png"))

        browser.find_element(By.LINK_TEXT, "Open " + name).click()
        wait(browser, EC.presence_of_element_located((By.ID, "upload-file")))
        browser.find_element(By.ID, "upload-file").send_keys(src)
        browser.find_element(By.ID, "upload-start").click()
        wait(browser, lambda d: "uploaded" in text_of(d, "#upload-status") or "Error" in text_of(d, "#upload-status"))
        status = text_of(browser, "#upload-status")
        assert re.search(r'uploaded, ETag "[0-9a-f]{32}-2"', status), status
        assert browser.find_element(By.ID, "upload-progress").get_attribute("value") == "100"
        head = s3.head_object(Bucket=name, Key="big-file.bin")
        assert head["ContentLength"] == len(data) and head["ETag"].endswith('-2"')

        row = wait(browser, EC.presence_of_element_located((By.CSS_SELECTOR, 'tr[data-key="big-file.bin"]')))
        assert "5.7 MiB" in row.text
        browser.save_screenshot(os.path.join(shots, "objects.png"))

        row.find_element(By.CSS_SELECTOR, "button.download").click()
        target = os.path.join(downloads, "big-file.bin")
        deadline = time.monotonic() + 20
        while not (os.path.exists(target) and os.path.getsize(target) == len(data)):
            assert time.monotonic() < deadline, os.listdir(downloads)
            time.sleep(0.1)
        with open(target, "rb") as f:
            assert hashlib.sha256(f.read()).digest() == hashlib.sha256(data).digest()

        # a folder (a prefix) with a space and CJK characters: signed and listed right
        browser.find_element(By.ID, "new-folder").send_keys("\u6587\u6863 docs")
        browser.find_element(By.XPATH, "//button[text()='Open folder']").click()
        wait(browser, lambda d: "docs" in text_of(d, "#crumbs"))
        note = os.path.join(os.path.dirname(src), "note.txt")
        with open(note, "w") as f:
            f.write("hello from the console\n")
        browser.find_element(By.ID, "upload-file").send_keys(note)
        browser.find_element(By.ID, "upload-start").click()
        note_row = wait(browser, EC.presence_of_element_located(
            (By.CSS_SELECTOR, 'tr[data-key="\u6587\u6863 docs/note.txt"]')))
        assert s3.get_object(Bucket=name, Key="\u6587\u6863 docs/note.txt")["Body"].read() == b"hello from the console\n"
        note_row.find_element(By.CSS_SELECTOR, "button.preview").click()
        wait(browser, EC.presence_of_element_located((By.ID, "preview-text")))
        assert text_of(browser, "#preview-text") == "hello from the console"
        # an image previews too (the CSP lets in the blob: URL the page made of it, nothing else)
        png = os.path.join(os.path.dirname(src), "dot.png")
        with open(png, "wb") as f:
            f.write(tiny_png(3, 2))
        browser.find_element(By.ID, "upload-file").send_keys(png)
        browser.find_element(By.ID, "upload-start").click()
        png_row = wait(browser, EC.presence_of_element_located((By.CSS_SELECTOR, 'tr[data-key$="/dot.png"]')))
        png_row.find_element(By.CSS_SELECTOR, "button.preview").click()
        img = wait(browser, EC.presence_of_element_located((By.CSS_SELECTOR, "img.preview")))
        wait(browser, lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", img) == 3)
        assert img.get_attribute("src").startswith("blob:")
        # back at the top the folder is one common prefix; pages of 10 need "More" for it and 12 objects
        for i in range(11):
            s3.put_object(Bucket=name, Key="k%02d" % i, Body=b"x")
        browser.find_element(By.LINK_TEXT, name).click()
        wait(browser, EC.presence_of_element_located((By.CSS_SELECTOR, 'tr[data-prefix="\u6587\u6863 docs/"]')))
        Select(browser.find_element(By.ID, "page-size")).select_by_value("10")
        wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#object-list tbody tr")) == 10)
        browser.find_element(By.ID, "more").click()
        wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#object-list tbody tr")) == 13)
        assert not browser.find_element(By.ID, "more").is_displayed()
        row = browser.find_element(By.CSS_SELECTOR, 'tr[data-key="big-file.bin"]')

        # a policy the server refuses: its error shows under the text area
        wait(browser, lambda d: "Policy" in text_of(d, "#config-result"))
        box = browser.find_element(By.ID, "config-text")
        box.clear()
        box.send_keys('{"Version": "2012-10-17", "Statement": [{"Effect": "Perhaps", "Action": "s3:GetObject"}]}')
        browser.find_element(By.ID, "config-save").click()
        wait(browser, lambda d: "Saving" not in text_of(d, "#config-result"))
        assert "MalformedPolicy (400)" in text_of(browser, "#config-result")

        row.find_element(By.CSS_SELECTOR, "button.delete").click()
        wait(browser, EC.alert_is_present()).accept()
        wait(browser, lambda d: not d.find_elements(By.CSS_SELECTOR, 'tr[data-key="big-file.bin"]'))
        listed = s3.list_objects_v2(Bucket=name)
        assert "big-file.bin" not in [o["Key"] for o in listed.get("Contents", [])]  # a delete marker hides it

        # a bucket with object lock (which turns versioning on by itself)
        browser.find_element(By.CSS_SELECTOR, 'nav button[data-view="buckets"]').click()
        wait(browser, EC.presence_of_element_located((By.ID, "new-bucket"))).send_keys(name + "-lock")
        browser.find_element(By.ID, "new-lock").click()
        browser.find_element(By.ID, "create-bucket").click()
        wait(browser, lambda d: "Open " + name + "-lock" in text_of(d, "#create-result"))
        lock = s3.get_object_lock_configuration(Bucket=name + "-lock")["ObjectLockConfiguration"]
        assert lock["ObjectLockEnabled"] == "Enabled"
        assert s3.get_bucket_versioning(Bucket=name + "-lock")["Status"] == "Enabled"
    finally:
        try:
            for v in s3.list_object_versions(Bucket=name).get("Versions", []) + \
                    s3.list_object_versions(Bucket=name).get("DeleteMarkers", []):
                s3.delete_object(Bucket=name, Key=v["Key"], VersionId=v["VersionId"])
        except Exception:
            pass
        empty_and_delete_bucket(s3, name)
        empty_and_delete_bucket(s3, name + "-lock")


def test_cluster_page_shows_every_drive_and_charts_draw(gateway, browser, shots):
    status = json.loads(yc_raw.request(gateway, "GET", "/_admin/v1/status").body)
    drives = [d["drive"] for n in status["nodes"] for d in n["drives"]]
    sign_in(browser, gateway, gateway.access_key, gateway.secret_key)
    wait(browser, EC.presence_of_element_located((By.ID, "new-bucket")))
    browser.find_element(By.CSS_SELECTOR, 'nav button[data-view="cluster"]').click()
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "tr.drive-row")) == len(drives))
    shown = [r.get_attribute("data-drive") for r in browser.find_elements(By.CSS_SELECTOR, "tr.drive-row")]
    assert sorted(shown) == sorted(drives)
    assert all("ok" in r.text for r in browser.find_elements(By.CSS_SELECTOR, "tr.drive-row"))
    assert "%d of %d drives up" % (len(drives), len(drives)) in text_of(browser, "#cluster-summary")
    wait(browser, lambda d: "scanned" in text_of(d, "#heal-status"))
    browser.save_screenshot(os.path.join(shots, "cluster.png"))

    browser.find_element(By.CSS_SELECTOR, 'nav button[data-view="metrics"]').click()
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#charts svg polyline")) == 4, timeout=15)
    titles = [t.text for t in browser.find_elements(By.CSS_SELECTOR, "#charts svg > text:first-of-type")]
    assert [t.split(":")[0] for t in titles] == ["Requests", "Mean latency", "Server errors (5xx)",
                                                  "Body bytes in + out"], titles
    # the page itself made requests between the two samples: the rate drawn is not zero
    assert float(titles[0].split(": ")[1].split()[0]) > 0, titles
    browser.save_screenshot(os.path.join(shots, "metrics.png"))


def test_users_keys_and_policies_through_the_iam_api(gateway, browser, shots):
    iam = make_iam(gateway.endpoint, gateway.access_key, gateway.secret_key)
    user = "console-" + uuid.uuid4().hex[:8]
    sign_in(browser, gateway, gateway.access_key, gateway.secret_key)
    wait(browser, EC.presence_of_element_located((By.ID, "new-bucket")))
    browser.find_element(By.CSS_SELECTOR, 'nav button[data-view="users"]').click()
    try:
        wait(browser, EC.presence_of_element_located((By.ID, "new-user"))).send_keys(user)
        browser.find_element(By.ID, "create-user").click()
        wait(browser, EC.presence_of_element_located((By.CSS_SELECTOR, 'tr[data-user="%s"] a' % user))).click()
        wait(browser, EC.presence_of_element_located((By.ID, "create-key")))
        browser.find_element(By.ID, "policy-name").send_keys("full-access")
        browser.find_element(By.XPATH, "//button[text()='Save policy']").click()
        wait(browser, lambda d: "PutUserPolicy" in text_of(d, "#keys-result"))
        assert "PutUserPolicy: OK" in text_of(browser, "#keys-result")
        doc = iam.get_user_policy(UserName=user, PolicyName="full-access")["PolicyDocument"]
        assert doc["Statement"][0]["Action"] == "s3:*"
        wait(browser, EC.presence_of_element_located((By.LINK_TEXT, "full-access")))
        browser.save_screenshot(os.path.join(shots, "users.png"))
        browser.find_element(By.ID, "create-key").click()
        wait(browser, lambda d: "New key" in text_of(d, "#keys-result") or "Error" in text_of(d, "#keys-result"))
        m = re.search(r"New key (\S+), secret (\S+)", text_of(browser, "#keys-result"))
        assert m, text_of(browser, "#keys-result")
        keys = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
        assert [k["AccessKeyId"] for k in keys] == [m.group(1)]
        # the key the console showed signs in; the cluster's status is the root's only
        sign_in(browser, gateway, m.group(1), m.group(2))
        wait(browser, EC.presence_of_element_located((By.ID, "new-bucket")))
        browser.find_element(By.CSS_SELECTOR, 'nav button[data-view="cluster"]').click()
        wait(browser, lambda d: "AccessDenied" in text_of(d, "#cluster-error"))
        assert browser.find_elements(By.CSS_SELECTOR, "tr.drive-row") == []
    finally:
        for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"] if _user_exists(iam, user) else []:
            iam.delete_access_key(UserName=user, AccessKeyId=k["AccessKeyId"])
        if _user_exists(iam, user):
            for p in iam.list_user_policies(UserName=user)["PolicyNames"]:
                iam.delete_user_policy(UserName=user, PolicyName=p)
            iam.delete_user(UserName=user)


def _user_exists(iam, user):
    try:
        iam.get_user(UserName=user)
        return True
    except botocore.exceptions.ClientError:
        return False
