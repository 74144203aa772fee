// s3.js — the console's client of the gateway: S3, the admin API (/_admin/v1/...) and the IAM
// Query API, every call signed with SigV4 (sigv4.js) and sent with XMLHttpRequest (whose upload
// events drive the progress bar). Errors come back as ApiError with the server's code and message.

import { base64, hex, presign, sha256, sign, uriEncode } from "./sigv4.js";

export const PART_SIZE = 5 * 1024 * 1024; // S3's smallest part but the last
const PARALLEL_PARTS = 3;

export class ApiError extends Error {
  constructor(status, code, message, requestId) {
    super(code + (message ? ": " + message : ""));
    this.status = status;
    this.code = code;
    this.detail = message;
    this.requestId = requestId;
  }
}

const xmlParser = new DOMParser();

function parseXml(text) {
  return xmlParser.parseFromString(text, "application/xml");
}

// The text of the first element named name under node (namespaces ignored).
export function childText(node, name) {
  const el = node.getElementsByTagName(name)[0];
  return el ? el.textContent : "";
}

function errorOf(xhr, text) {
  const rid = xhr.getResponseHeader("x-amz-request-id") || "";
  if (text && text.trim().startsWith("<")) {
    const doc = parseXml(text);
    const code = childText(doc, "Code");
    if (code) return new ApiError(xhr.status, code, childText(doc, "Message"), childText(doc, "RequestId") || rid);
  }
  if (text && text.trim().startsWith("{")) {
    try {
      const j = JSON.parse(text);
      if (j.code || j.Code) return new ApiError(xhr.status, j.code || j.Code, j.message || j.Message || "", rid);
    } catch (e) {
      /* not JSON after all: the status tells */
    }
  }
  return new ApiError(xhr.status, "HTTP" + xhr.status, xhr.statusText || "request failed", rid);
}

async function bytesOf(body) {
  if (body === null || body === undefined) return new Uint8Array(0);
  if (typeof body === "string") return new TextEncoder().encode(body);
  if (body instanceof Blob) return new Uint8Array(await body.arrayBuffer());
  return new Uint8Array(body);
}

export function objectPath(bucket, key) {
  return "/" + uriEncode(bucket, false) + (key === undefined ? "" : "/" + uriEncode(key, true));
}

export class Client {
  constructor(creds) {
    this.creds = creds; // {accessKey, secretKey, region}
  }

  // One signed call. Resolves {status, xhr, body} (body: text, or a Blob with responseType
  // "blob"); rejects with ApiError for an answer of 300 or more, or a network failure.
  async call({ method = "GET", path, query = {}, headers = {}, body = null, service = "s3", responseType = "text",
    checksum = false, onProgress = null }) {
    const bytes = await bytesOf(body);
    const hdrs = { ...headers };
    const digest = await sha256(bytes);
    if (checksum) hdrs["x-amz-checksum-sha256"] = base64(digest); // stands for Content-MD5 (WebCrypto has no MD5)
    const payloadHash = hex(digest);
    const signed = await sign({ method, path, query, headers: hdrs, payloadHash, creds: this.creds, service });
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open(method, path + (signed.queryString ? "?" + signed.queryString : ""));
      xhr.responseType = responseType;
      for (const [k, v] of Object.entries(signed.headers)) xhr.setRequestHeader(k, v);
      if (onProgress) xhr.upload.onprogress = (e) => onProgress(e.loaded);
      xhr.onerror = () => reject(new ApiError(0, "NetworkError", "the gateway could not be reached", ""));
      xhr.onload = async () => {
        if (xhr.status < 300) {
          resolve({ status: xhr.status, xhr, body: xhr.response });
          return;
        }
        const text = responseType === "blob" ? await xhr.response.text() : xhr.response;
        reject(errorOf(xhr, text));
      };
      xhr.send(method === "GET" || method === "HEAD" ? null : bytes);
    });
  }

  async xml(args) {
    const r = await this.call(args);
    return parseXml(r.body);
  }

  // ---------------------------------------------------------------- buckets

  async listBuckets() {
    const doc = await this.xml({ path: "/" });
    return Array.from(doc.getElementsByTagName("Bucket"), (b) => ({
      name: childText(b, "Name"),
      created: childText(b, "CreationDate"),
    }));
  }

  async createBucket(name, { objectLock = false } = {}) {
    const headers = objectLock ? { "x-amz-bucket-object-lock-enabled": "true" } : {};
    await this.call({ method: "PUT", path: objectPath(name), headers });
  }

  async deleteBucket(name) {
    await this.call({ method: "DELETE", path: objectPath(name) });
  }

  // One page of a listing with "/" as delimiter: {prefixes, objects, next}.
  async listObjects(bucket, prefix, token, maxKeys = 100) {
    const query = { "list-type": "2", delimiter: "/", prefix, "max-keys": String(maxKeys) };
    if (token) query["continuation-token"] = token;
    const doc = await this.xml({ path: objectPath(bucket), query });
    const prefixes = Array.from(doc.getElementsByTagName("CommonPrefixes"), (p) => childText(p, "Prefix"));
    const objects = Array.from(doc.getElementsByTagName("Contents"), (c) => ({
      key: childText(c, "Key"),
      size: Number(childText(c, "Size")),
      modified: childText(c, "LastModified"),
      etag: childText(c, "ETag"),
    }));
    const truncated = childText(doc, "IsTruncated") === "true";
    return { prefixes, objects, next: truncated ? childText(doc, "NextContinuationToken") : null };
  }

  // A sub-resource of a bucket (policy, lifecycle, cors, tagging, versioning, encryption...).
  async getConfig(bucket, sub) {
    return (await this.call({ path: objectPath(bucket), query: { [sub]: "" } })).body;
  }

  async putConfig(bucket, sub, body, contentType = "application/xml") {
    await this.call({ method: "PUT", path: objectPath(bucket), query: { [sub]: "" }, body, checksum: true,
      headers: { "content-type": contentType } });
  }

  async deleteConfig(bucket, sub) {
    await this.call({ method: "DELETE", path: objectPath(bucket), query: { [sub]: "" } });
  }

  // ---------------------------------------------------------------- objects

  async getObject(bucket, key, range) {
    const headers = range ? { range } : {};
    const r = await this.call({ path: objectPath(bucket, key), headers, responseType: "blob" });
    return r.body;
  }

  // A short-lived link that downloads the object as a file (the browser streams it to disk).
  async downloadUrl(bucket, key) {
    const name = key.split("/").pop();
    const disposition = `attachment; filename*=UTF-8''${uriEncode(name, false)}`;
    return presign({ method: "GET", path: objectPath(bucket, key), creds: this.creds, expires: 300,
      query: { "response-content-disposition": disposition } });
  }

  async deleteObject(bucket, key) {
    await this.call({ method: "DELETE", path: objectPath(bucket, key) });
  }

  // Uploads a File: one PUT up to PART_SIZE, else a multipart upload of PART_SIZE parts (more
  // when 10,000 would not hold it), PARALLEL_PARTS at a time. onProgress(sentBytes, total)
  // follows every part's upload events; a failed multipart upload is aborted. Resolves the ETag.
  async upload(bucket, key, file, onProgress = () => {}) {
    const total = file.size;
    const headers = { "content-type": file.type || "application/octet-stream" };
    if (total <= PART_SIZE) {
      const r = await this.call({ method: "PUT", path: objectPath(bucket, key), body: file, headers,
        onProgress: (n) => onProgress(n, total) });
      onProgress(total, total);
      return r.xhr.getResponseHeader("ETag");
    }
    const partSize = Math.max(PART_SIZE, Math.ceil(total / 10000));
    const count = Math.ceil(total / partSize);
    const path = objectPath(bucket, key);
    const init = await this.xml({ method: "POST", path, query: { uploads: "" }, headers });
    const uploadId = childText(init, "UploadId");
    const sent = new Array(count).fill(0);
    const etags = new Array(count);
    let next = 0;
    let failed = false;
    const report = () => onProgress(sent.reduce((a, b) => a + b, 0), total);
    // a few parts in flight at once: one connection rarely fills the path to the gateway
    const worker = async () => {
      while (!failed && next < count) {
        const i = next++;
        const off = i * partSize;
        const piece = file.slice(off, Math.min(off + partSize, total));
        try {
          const r = await this.call({ method: "PUT", path, query: { partNumber: String(i + 1), uploadId }, body: piece,
            onProgress: (n) => {
              sent[i] = n;
              report();
            } });
          sent[i] = piece.size;
          etags[i] = r.xhr.getResponseHeader("ETag");
          report();
        } catch (e) {
          failed = true;
          throw e;
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(PARALLEL_PARTS, count) }, worker));
      const parts = etags.map((etag, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${etag}</ETag></Part>`);
      const doc = await this.xml({ method: "POST", path, query: { uploadId },
        body: `<CompleteMultipartUpload>${parts.join("")}</CompleteMultipartUpload>`,
        headers: { "content-type": "application/xml" } });
      return childText(doc, "ETag");
    } catch (e) {
      await this.call({ method: "DELETE", path, query: { uploadId } }).catch(() => {});
      throw e;
    }
  }

  // ---------------------------------------------------------------- admin API and IAM

  async admin(method, what) {
    const r = await this.call({ method, path: "/_admin/v1/" + what });
    return r.body;
  }

  async adminJson(method, what) {
    return JSON.parse(await this.admin(method, what));
  }

  // One IAM Query API action; resolves the answer's XML document.
  async iam(action, params = {}) {
    const form = new URLSearchParams({ Action: action, Version: "2010-05-08", ...params }).toString();
    return this.xml({ method: "POST", path: "/", body: form, service: "iam",
      headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8" } });
  }
}
