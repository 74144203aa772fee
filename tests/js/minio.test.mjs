// minio-js (npm `minio`) against a running yc-gateway, used the way its README shows: no region
// given (the client asks GetBucketLocation), path-style, plain http. Its multipart upload numbers
// parts from 2 and sends a Content-MD5 with each; DeleteObjects carries a Content-MD5 too. Besides
// the object calls: presigned GET, PUT and POST policy (used by a client without keys, node's
// fetch), server-side copy, tags, unfinished uploads and both listing versions.
//
// Started by tests/integration/test_clients.py, which passes YC_ENDPOINT, YC_ACCESS_KEY,
// YC_SECRET_KEY and YC_BUCKET (a name not taken yet: the test makes and removes the bucket).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import * as Minio from "minio";

const { YC_ENDPOINT, YC_ACCESS_KEY, YC_SECRET_KEY, YC_BUCKET } = process.env;
const MiB = 1024 * 1024;
const url = new URL(YC_ENDPOINT);

const client = new Minio.Client({
  endPoint: url.hostname,
  port: Number(url.port),
  useSSL: false,
  pathStyle: true,
  accessKey: YC_ACCESS_KEY,
  secretKey: YC_SECRET_KEY,
  partSize: 5 * MiB,
});

function pattern(size, seed) {
  const out = Buffer.alloc(size);
  let block = createHash("sha256").update(`minio-${seed}`).digest();
  for (let off = 0; off < size; off += block.length) {
    block.copy(out, off, 0, Math.min(block.length, size - off));
    block = createHash("sha256").update(block).digest();
  }
  return out;
}

async function drain(stream) {
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

const md5hex = (buf) => createHash("md5").update(buf).digest("hex");
const small = pattern(70 * 1024 + 9, 1);
const big = pattern(12 * MiB + 17, 2); // three 5 MiB parts at most

test("makeBucket, then bucketExists and listBuckets see it", async () => {
  await client.makeBucket(YC_BUCKET);
  assert.equal(await client.bucketExists(YC_BUCKET), true);
  assert.equal(await client.bucketExists(`${YC_BUCKET}-none`), false);
  const names = (await client.listBuckets()).map((b) => b.name);
  assert.ok(names.includes(YC_BUCKET), names.join(","));
});

test("putObject of a small buffer with metadata; statObject reads it back", async () => {
  const put = await client.putObject(YC_BUCKET, "dir/small.bin", small, small.length, {
    "Content-Type": "application/x-test",
    "X-Amz-Meta-Colour": "blue",
  });
  assert.equal(put.etag, md5hex(small));
  const st = await client.statObject(YC_BUCKET, "dir/small.bin");
  assert.equal(st.size, small.length);
  assert.equal(st.etag, md5hex(small));
  assert.equal(st.metaData["content-type"], "application/x-test");
  assert.equal(st.metaData.colour, "blue");
  assert.ok(st.lastModified instanceof Date && Date.now() - st.lastModified.getTime() < 600e3);
});

test("putObject of a stream over the part size goes multipart; bytes and the multipart ETag come back", async () => {
  // a stream in 1 MiB pieces: minio-js cuts it into 5 MiB parts (a single Buffer would go whole
  // into one part, as its block stream hands everything buffered to the uploader at once)
  const pieces = [];
  for (let off = 0; off < big.length; off += MiB) pieces.push(big.subarray(off, Math.min(off + MiB, big.length)));
  const put = await client.putObject(YC_BUCKET, "dir/big.bin", Readable.from(pieces), big.length);
  const partMd5s = [];
  for (let off = 0; off < big.length; off += 5 * MiB)
    partMd5s.push(createHash("md5").update(big.subarray(off, off + 5 * MiB)).digest());
  assert.equal(put.etag, `${md5hex(Buffer.concat(partMd5s))}-${partMd5s.length}`);
  const st = await client.statObject(YC_BUCKET, "dir/big.bin");
  assert.equal(st.size, big.length);
  assert.equal(st.etag, put.etag);
  const got = Buffer.concat(await drain(await client.getObject(YC_BUCKET, "dir/big.bin")));
  assert.ok(got.equals(big), "the multipart object's bytes differ");
});

test("getObject and getPartialObject return the stored bytes", async () => {
  const got = Buffer.concat(await drain(await client.getObject(YC_BUCKET, "dir/small.bin")));
  assert.ok(got.equals(small));
  const part = Buffer.concat(await drain(await client.getPartialObject(YC_BUCKET, "dir/big.bin", 5 * MiB - 3, 10)));
  assert.ok(part.equals(big.subarray(5 * MiB - 3, 5 * MiB + 7)));
});

test("listObjectsV2 lists recursively and by folder", async () => {
  for (let i = 0; i < 5; i++) await client.putObject(YC_BUCKET, `list/k${i}`, `v${i}`);
  const all = await drain(client.listObjectsV2(YC_BUCKET, "", true));
  assert.deepEqual(
    all.map((o) => o.name),
    ["dir/big.bin", "dir/small.bin", "list/k0", "list/k1", "list/k2", "list/k3", "list/k4"],
  );
  assert.equal(all.find((o) => o.name === "dir/small.bin").size, small.length);
  const top = await drain(client.listObjectsV2(YC_BUCKET, "", false));
  assert.deepEqual(
    top.map((o) => o.prefix),
    ["dir/", "list/"],
  );
  const after = await drain(client.listObjectsV2(YC_BUCKET, "list/", true, "list/k2"));
  assert.deepEqual(
    after.map((o) => o.name),
    ["list/k3", "list/k4"],
  );
});

test("a presigned GET URL serves the object to a client without keys, and not once altered", async () => {
  const signed = await client.presignedGetObject(YC_BUCKET, "dir/small.bin", 300);
  const res = await fetch(signed);
  assert.equal(res.status, 200);
  assert.ok(Buffer.from(await res.arrayBuffer()).equals(small));
  const bad = new URL(signed);
  bad.searchParams.set("X-Amz-Expires", "301");
  const denied = await fetch(bad);
  assert.equal(denied.status, 403);
  assert.match(await denied.text(), /<Code>SignatureDoesNotMatch<\/Code>/);
});

test("a missing key is NotFound to statObject and NoSuchKey to getObject", async () => {
  await assert.rejects(client.statObject(YC_BUCKET, "absent"), (e) => e.code === "NotFound");
  await assert.rejects(client.getObject(YC_BUCKET, "absent"), (e) => e.code === "NoSuchKey");
});

test("a presigned PUT URL takes an upload from a client without keys", async () => {
  const body = pattern(33 * 1024, 3);
  const signed = await client.presignedPutObject(YC_BUCKET, "presigned/put.bin", 300);
  const res = await fetch(signed, { method: "PUT", body });
  assert.equal(res.status, 200, await res.text());
  assert.equal(res.headers.get("etag"), `"${md5hex(body)}"`);
  const st = await client.statObject(YC_BUCKET, "presigned/put.bin");
  assert.equal(st.size, body.length);
});

test("a presigned POST policy takes a form upload within its conditions, and refuses one outside", async () => {
  const policy = client.newPostPolicy();
  policy.setBucket(YC_BUCKET);
  policy.setKey("presigned/form.txt");
  policy.setContentType("text/plain");
  policy.setContentLengthRange(1, 1024);
  policy.setExpires(new Date(Date.now() + 600e3));
  const { postURL, formData } = await client.presignedPostPolicy(policy);
  const post = async (text) => {
    const form = new FormData();
    for (const [name, value] of Object.entries(formData)) form.append(name, value);
    form.append("file", new Blob([text], { type: "text/plain" }), "form.txt");
    return fetch(postURL, { method: "POST", body: form });
  };
  const ok = await post("posted by a form");
  assert.equal(ok.status, 204, await ok.text());
  const got = Buffer.concat(await drain(await client.getObject(YC_BUCKET, "presigned/form.txt")));
  assert.equal(got.toString(), "posted by a form");
  assert.equal((await client.statObject(YC_BUCKET, "presigned/form.txt")).metaData["content-type"], "text/plain");
  const big = await post("x".repeat(2000));
  assert.equal(big.status, 400);
  assert.match(await big.text(), /<Code>EntityTooLarge<\/Code>/);
});

test("copyObject with replaced metadata; object tags set and read", async () => {
  const src = new Minio.CopySourceOptions({ Bucket: YC_BUCKET, Object: "dir/small.bin" });
  const dst = new Minio.CopyDestinationOptions({
    Bucket: YC_BUCKET,
    Object: "copy/small.bin",
    MetadataDirective: "REPLACE",
    UserMetadata: { shade: "green" },
  });
  await client.copyObject(src, dst);
  const st = await client.statObject(YC_BUCKET, "copy/small.bin");
  assert.equal(st.size, small.length);
  assert.equal(st.etag, md5hex(small));
  assert.equal(st.metaData.shade, "green");
  assert.equal(st.metaData.colour, undefined);
  await client.setObjectTagging(YC_BUCKET, "copy/small.bin", { project: "yuncang", tier: "2" });
  const tags = await client.getObjectTagging(YC_BUCKET, "copy/small.bin");
  assert.deepEqual(
    tags.map((t) => `${t.Key}=${t.Value}`).sort(),
    ["project=yuncang", "tier=2"],
  );
});

test("an unfinished multipart upload is listed and removed", async () => {
  const uploadId = await client.initiateNewMultipartUpload(YC_BUCKET, "unfinished.bin", {});
  const uploads = await drain(client.listIncompleteUploads(YC_BUCKET, "unf", true));
  assert.deepEqual(
    uploads.map((u) => [u.key, u.uploadId]),
    [["unfinished.bin", uploadId]],
  );
  await client.removeIncompleteUpload(YC_BUCKET, "unfinished.bin");
  assert.deepEqual(await drain(client.listIncompleteUploads(YC_BUCKET, "unf", true)), []);
});

test("listObjects (version 1) pages through what listObjectsV2 sees", async () => {
  const v1 = (await drain(client.listObjects(YC_BUCKET, "", true))).map((o) => o.name);
  const v2 = (await drain(client.listObjectsV2(YC_BUCKET, "", true))).map((o) => o.name);
  assert.deepEqual(v1, v2);
  assert.ok(v1.includes("presigned/form.txt") && v1.includes("copy/small.bin"), v1.join(","));
});

test("removeObject, removeObjects and removeBucket empty and delete the bucket", async () => {
  await client.removeObject(YC_BUCKET, "dir/small.bin");
  await assert.rejects(client.statObject(YC_BUCKET, "dir/small.bin"), (e) => e.code === "NotFound");
  const rest = (await drain(client.listObjectsV2(YC_BUCKET, "", true))).map((o) => o.name);
  assert.ok(rest.length >= 9 && rest.includes("dir/big.bin"), rest.join(","));
  const errors = await client.removeObjects(YC_BUCKET, rest);
  assert.deepEqual(errors, []);
  assert.deepEqual(await drain(client.listObjectsV2(YC_BUCKET, "", true)), []);
  await client.removeBucket(YC_BUCKET);
  assert.equal(await client.bucketExists(YC_BUCKET), false);
});
