"""A real browser against the gateway: headless Chromium (Debian's chromium and chromium-driver,
driven by python3-selenium) loads a page served from another loopback origin (a small
http.server on a port of its own), and

  (a) the page uploads with a presigned PUT through fetch to a bucket with CORS rules (the
      browser's own preflight and CORS checks in the way) and reads the object back with a
      presigned GET; the test asserts the text the page wrote into its DOM;
  (b) the page holds an HTML form made from boto3's generate_presigned_post; the browser submits
      it with a real file, follows the 303 to the page server's landing page, and the test checks
      the landing page's DOM and the object stored.

The Makefile installs the browser (DEB_PKGS); nothing here is skipped when it is missing.
"""
import hashlib
import html
import http.server
import json
import os
import tempfile
import threading
import urllib.parse

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from conftest import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


class PageServer:
    """Serves pages set by the test at paths of its choosing, and /done, which shows its query."""

    def __init__(self):
        self.pages = {}
        self.hits = []
        pages, hits = self.pages, self.hits

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                split = urllib.parse.urlsplit(self.path)
                hits.append(self.path)
                if split.path == "/done":
                    q = urllib.parse.parse_qs(split.query)
                    body = "<html><body><p id='landed'>%s</p></body></html>" % html.escape(
                        json.dumps({k: v[0] for k, v in q.items()}, sort_keys=True))
                elif split.path in pages:
                    body = pages[split.path]
                else:
                    self.send_error(404)
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.port = free_port()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def origin(self):
        return "http://localhost:%d" % self.port

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def pages():
    p = PageServer()
    yield p
    p.close()


@pytest.fixture(scope="module")
def browser():
    assert os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK), \
        "chromium and chromium-driver are missing: `make deps` installs them"
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--no-proxy-server", "--no-first-run", "--disable-extensions"):
        opts.add_argument(flag)
    # a clean environment: no proxies or AWS settings of the machine reach the browser
    env = {"PATH": "/usr/bin:/bin", "HOME": tempfile.mkdtemp(prefix="yc-chromium-")}
    service = Service(executable_path=CHROMEDRIVER, env=env)
    driver = webdriver.Chrome(service=service, options=opts)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def test_cors_upload_with_presigned_put_read_back_with_fetch(gateway, s3, bucket, pages, browser):
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [{
        "AllowedOrigins": [pages.origin], "AllowedMethods": ["PUT", "GET"], "AllowedHeaders": ["*"],
        "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 60}]})
    text = "uploaded from the browser \u4e91\u4ed3"
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "web/note.txt"}, ExpiresIn=300)
    get_url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "web/note.txt"}, ExpiresIn=300)
    pages.pages["/cors.html"] = """<!doctype html><html><head><meta charset="utf-8"></head><body>
<p id="out">running</p>
<script>
(async () => {
  const out = document.getElementById("out");
  try {
    const put = await fetch(%s, {method: "PUT", body: %s, headers: {"Content-Type": "text/plain"}});
    const etag = put.headers.get("ETag");
    const get = await fetch(%s);
    const body = await get.text();
    out.textContent = "PUT " + put.status + " ETAG " + etag + " GET " + get.status + " BODY " + body;
  } catch (e) {
    out.textContent = "FAILED " + e;
  }
})();
</script></body></html>""" % (json.dumps(put_url), json.dumps(text), json.dumps(get_url))

    browser.get(pages.origin + "/cors.html")
    WebDriverWait(browser, 30).until(lambda d: d.find_element(By.ID, "out").text != "running")
    seen = browser.find_element(By.ID, "out").text
    etag = '"%s"' % hashlib.md5(text.encode()).hexdigest()
    assert seen == "PUT 200 ETAG %s GET 200 BODY %s" % (etag, text)
    assert s3.get_object(Bucket=bucket, Key="web/note.txt")["Body"].read() == text.encode()

    # without the rule the browser itself refuses the upload (the preflight is answered 403)
    s3.delete_bucket_cors(Bucket=bucket)
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "web/blocked.txt"},
                                        ExpiresIn=300)
    pages.pages["/blocked.html"] = """<!doctype html><html><body><p id="out">running</p><script>
fetch(%s, {method: "PUT", body: "x", headers: {"Content-Type": "text/plain"}})
  .then(r => { document.getElementById("out").textContent = "PUT " + r.status; })
  .catch(e => { document.getElementById("out").textContent = "BLOCKED"; });
</script></body></html>""" % json.dumps(put_url)
    browser.get(pages.origin + "/blocked.html")
    WebDriverWait(browser, 30).until(lambda d: d.find_element(By.ID, "out").text != "running")
    assert browser.find_element(By.ID, "out").text == "BLOCKED"
    with pytest.raises(Exception):
        s3.head_object(Bucket=bucket, Key="web/blocked.txt")


def test_html_form_post_upload_and_redirect(gateway, s3, bucket, pages, browser):
    landing = pages.origin + "/done"
    post = s3.generate_presigned_post(
        bucket, "forms/${filename}",
        Fields={"success_action_redirect": landing, "Content-Type": "text/plain", "x-amz-meta-from": "browser"},
        Conditions=[{"success_action_redirect": landing}, ["starts-with", "$Content-Type", "text/"],
                    {"x-amz-meta-from": "browser"}, ["content-length-range", 1, 1024 * 1024]],
        ExpiresIn=300)
    inputs = "\n".join('<input type="hidden" name="%s" value="%s">' % (html.escape(k), html.escape(v))
                       for k, v in post["fields"].items())
    pages.pages["/form.html"] = """<!doctype html><html><body>
<form id="f" action="%s" method="post" enctype="multipart/form-data">
%s
<input type="file" name="file" id="file">
<input type="submit" id="send" value="Upload">
</form></body></html>""" % (html.escape(post["url"]), inputs)

    content = os.urandom(200 * 1024).hex().encode()[:300 * 1024]  # 300 KiB: several reads, past inline
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "report.txt")
        with open(path, "wb") as f:
            f.write(content)
        browser.get(pages.origin + "/form.html")
        browser.find_element(By.ID, "file").send_keys(path)
        browser.find_element(By.ID, "send").click()
        WebDriverWait(browser, 60).until(lambda d: urllib.parse.urlsplit(d.current_url).path == "/done")

    landed = json.loads(browser.find_element(By.ID, "landed").text)
    etag = '"%s"' % hashlib.md5(content).hexdigest()
    assert landed == {"bucket": bucket, "key": "forms/report.txt", "etag": etag}
    got = s3.get_object(Bucket=bucket, Key="forms/report.txt")
    assert got["Body"].read() == content
    assert got["ETag"] == etag
    assert got["ContentType"] == "text/plain"
    assert got["Metadata"] == {"from": "browser"}


def test_encrypted_html_form_with_a_named_submit_button_after_the_file(gateway, s3, bucket, pages, browser):
    """AWS's example form: the encryption field, then the file, then a submit button with a name,
    which the browser sends after the file. A file of several stripes is stored encrypted."""
    landing = pages.origin + "/done"
    post = s3.generate_presigned_post(
        bucket, "forms/${filename}",
        Fields={"success_action_redirect": landing, "x-amz-server-side-encryption": "AES256"},
        Conditions=[{"success_action_redirect": landing}, {"x-amz-server-side-encryption": "AES256"},
                    ["starts-with", "$submit", ""]],
        ExpiresIn=300)
    inputs = "\n".join('<input type="hidden" name="%s" value="%s">' % (html.escape(k), html.escape(v))
                       for k, v in post["fields"].items())
    pages.pages["/sse-form.html"] = """<!doctype html><html><body>
<form id="f" action="%s" method="post" enctype="multipart/form-data">
%s
<input type="file" name="file" id="file">
<input type="submit" name="submit" id="send" value="Upload to Amazon S3">
</form></body></html>""" % (html.escape(post["url"]), inputs)

    content = os.urandom(3 * 1024 * 1024 + 4321)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "photo.bin")
        with open(path, "wb") as f:
            f.write(content)
        browser.get(pages.origin + "/sse-form.html")
        browser.find_element(By.ID, "file").send_keys(path)
        browser.find_element(By.ID, "send").click()
        WebDriverWait(browser, 60).until(lambda d: urllib.parse.urlsplit(d.current_url).path == "/done")

    landed = json.loads(browser.find_element(By.ID, "landed").text)
    etag = '"%s"' % hashlib.md5(content).hexdigest()
    assert landed == {"bucket": bucket, "key": "forms/photo.bin", "etag": etag}
    got = s3.get_object(Bucket=bucket, Key="forms/photo.bin")
    assert got["ServerSideEncryption"] == "AES256"
    assert got["Body"].read() == content
