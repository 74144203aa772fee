// sigv4.js — AWS Signature Version 4 in the browser, on WebCrypto (HMAC-SHA256, SHA-256).
// The secret key never leaves this page: each request carries only its signature.

const enc = new TextEncoder();

export function hex(buf) {
  return Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("");
}

export function base64(buf) {
  let s = "";
  for (const b of new Uint8Array(buf)) s += String.fromCharCode(b);
  return btoa(s);
}

async function hmac(key, data) {
  const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return crypto.subtle.sign("HMAC", k, typeof data === "string" ? enc.encode(data) : data);
}

export async function sha256(data) {
  const bytes = typeof data === "string" ? enc.encode(data) : data;
  return crypto.subtle.digest("SHA-256", bytes);
}

export async function sha256Hex(data) {
  return hex(await sha256(data));
}

// RFC 3986 unreserved characters stay, everything else is %XX (what S3 signs); a slash is kept
// in a path and encoded in a query.
export function uriEncode(s, keepSlash) {
  const out = encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
  return keepSlash ? out.replace(/%2F/g, "/") : out;
}

export function amzDate(now) {
  return now.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

function canonicalQuery(query) {
  return Object.entries(query)
    .map(([k, v]) => [uriEncode(k, false), uriEncode(v === undefined || v === null ? "" : String(v), false)])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => k + "=" + v)
    .join("&");
}

// Signs a request: path is already URI-encoded (as sent), query an object of raw values,
// headers an object of lower-case names; returns the headers to send (host excepted: the
// browser sets it, and it is signed as location.host) and the query string to put on the URL.
export async function sign({ method, path, query = {}, headers = {}, payloadHash, creds, service = "s3", now = new Date() }) {
  const date = amzDate(now);
  const day = date.slice(0, 8);
  const out = { ...headers, "x-amz-date": date, "x-amz-content-sha256": payloadHash };
  const names = Object.keys(out).map((n) => n.toLowerCase());
  const all = { host: location.host };
  for (const n of Object.keys(out)) all[n.toLowerCase()] = String(out[n]).trim().replace(/\s+/g, " ");
  names.push("host");
  names.sort();
  const signed = names.join(";");
  const qs = canonicalQuery(query);
  const canonical = [method, path, qs, names.map((n) => n + ":" + all[n] + "\n").join(""), signed, payloadHash].join("\n");
  const scope = [day, creds.region, service, "aws4_request"].join("/");
  const toSign = ["AWS4-HMAC-SHA256", date, scope, await sha256Hex(canonical)].join("\n");
  let key = await hmac(enc.encode("AWS4" + creds.secretKey), day);
  key = await hmac(key, creds.region);
  key = await hmac(key, service);
  key = await hmac(key, "aws4_request");
  const signature = hex(await hmac(key, toSign));
  out.authorization = `AWS4-HMAC-SHA256 Credential=${creds.accessKey}/${scope}, SignedHeaders=${signed}, Signature=${signature}`;
  return { headers: out, queryString: qs };
}

// A presigned URL (query-string authentication, host the only signed header): for a download the
// browser streams to disk itself, however large the object. expires is in seconds.
export async function presign({ method, path, query = {}, creds, expires = 300, service = "s3", now = new Date() }) {
  const date = amzDate(now);
  const scope = [date.slice(0, 8), creds.region, service, "aws4_request"].join("/");
  const q = {
    ...query,
    "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
    "X-Amz-Credential": `${creds.accessKey}/${scope}`,
    "X-Amz-Date": date,
    "X-Amz-Expires": String(expires),
    "X-Amz-SignedHeaders": "host",
  };
  const qs = canonicalQuery(q);
  const canonical = [method, path, qs, `host:${location.host}\n`, "host", "UNSIGNED-PAYLOAD"].join("\n");
  const toSign = ["AWS4-HMAC-SHA256", date, scope, await sha256Hex(canonical)].join("\n");
  let key = await hmac(enc.encode("AWS4" + creds.secretKey), date.slice(0, 8));
  key = await hmac(key, creds.region);
  key = await hmac(key, service);
  key = await hmac(key, "aws4_request");
  return `${path}?${qs}&X-Amz-Signature=${hex(await hmac(key, toSign))}`;
}
