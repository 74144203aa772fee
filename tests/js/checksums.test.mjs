// The AWS SDK for JavaScript v3 with its defaults against a running yc-gateway: current versions
// compute a CRC32 for every upload (a header for a buffer, an aws-chunked trailer for a stream)
// and send x-amz-checksum-mode: ENABLED on every GetObject, validating the answer. A server that
// answers a range with the whole object's checksum fails every ranged download here.
//
// Started by tests/integration/test_js_sdk.py, which passes YC_ENDPOINT, YC_ACCESS_KEY,
// YC_SECRET_KEY and YC_BUCKET (an empty bucket).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import {
  S3Client,
  PutObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";

const { YC_ENDPOINT, YC_ACCESS_KEY, YC_SECRET_KEY, YC_BUCKET } = process.env;
const MiB = 1024 * 1024;

const client = new S3Client({
  endpoint: YC_ENDPOINT,
  region: "us-east-1",
  forcePathStyle: true,
  credentials: { accessKeyId: YC_ACCESS_KEY, secretAccessKey: YC_SECRET_KEY },
  maxAttempts: 1,
});

function pattern(size, seed) {
  const out = Buffer.alloc(size);
  let block = createHash("sha256").update(`js-${seed}`).digest();
  for (let off = 0; off < size; off += block.length) {
    block.copy(out, off, 0, Math.min(block.length, size - off));
    block = createHash("sha256").update(block).digest();
  }
  return out;
}

async function bytesOf(body) {
  return Buffer.from(await body.transformToByteArray());
}

test("the SDK computes request checksums and validates responses by default", async () => {
  assert.equal(await client.config.requestChecksumCalculation(), "WHEN_SUPPORTED");
  assert.equal(await client.config.responseChecksumValidation(), "WHEN_SUPPORTED");
});

test("PutObject of a buffer sends a CRC32 header; GetObject validates it", async () => {
  const data = pattern(300 * 1024 + 5, 1);
  const put = await client.send(new PutObjectCommand({ Bucket: YC_BUCKET, Key: "buffer", Body: data }));
  assert.ok(put.ChecksumCRC32, "the CRC32 the SDK sent is echoed");
  const get = await client.send(new GetObjectCommand({ Bucket: YC_BUCKET, Key: "buffer" }));
  assert.equal(get.ChecksumCRC32, put.ChecksumCRC32);
  assert.ok((await bytesOf(get.Body)).equals(data));
});

test("PutObject of a stream sends its CRC32 in an aws-chunked trailer", async () => {
  const data = pattern(200 * 1024 + 3, 2);
  const put = await client.send(
    new PutObjectCommand({ Bucket: YC_BUCKET, Key: "stream", Body: Readable.from([data]), ContentLength: data.length }),
  );
  assert.ok(put.ChecksumCRC32);
  const get = await client.send(new GetObjectCommand({ Bucket: YC_BUCKET, Key: "stream" }));
  assert.equal(get.ChecksumCRC32, put.ChecksumCRC32);
  assert.ok((await bytesOf(get.Body)).equals(data));
});

test("ranged GetObject of a big single PUT, as a download manager fetches it", async () => {
  const data = pattern(20 * MiB + 11, 3);
  await client.send(new PutObjectCommand({ Bucket: YC_BUCKET, Key: "big", Body: data }));
  const chunks = [];
  for (let first = 0; first < data.length; first += 8 * MiB) {
    const last = Math.min(first + 8 * MiB, data.length) - 1;
    const get = await client.send(
      new GetObjectCommand({ Bucket: YC_BUCKET, Key: "big", Range: `bytes=${first}-${last}` }),
    );
    assert.equal(get.ContentRange, `bytes ${first}-${last}/${data.length}`);
    assert.equal(get.ChecksumCRC32, undefined, "a range carries no whole-object checksum");
    chunks.push(await bytesOf(get.Body));
  }
  assert.ok(Buffer.concat(chunks).equals(data));
});

test("a wrong CRC32 is refused with BadDigest and nothing is stored", async () => {
  const data = pattern(1000, 4);
  await assert.rejects(
    client.send(new PutObjectCommand({ Bucket: YC_BUCKET, Key: "bad", Body: data, ChecksumCRC32: "AAAAAA==" })),
    (err) => err.name === "BadDigest" && err.$metadata.httpStatusCode === 400,
  );
  await assert.rejects(
    client.send(new HeadObjectCommand({ Bucket: YC_BUCKET, Key: "bad" })),
    (err) => err.$metadata.httpStatusCode === 404,
  );
});

test("lib-storage multipart upload over 8 MiB, then whole and per-part downloads", async () => {
  const data = pattern(18 * MiB + 7, 5);
  const partSize = 5 * MiB;
  const upload = new Upload({
    client,
    params: { Bucket: YC_BUCKET, Key: "multipart", Body: data },
    partSize,
    queueSize: 2,
  });
  const done = await upload.done();
  assert.match(done.ETag, /-4"$/);
  assert.match(done.ChecksumCRC32, /^[A-Za-z0-9+/]{6}==-4$/, "a composite CRC32 of 4 parts");
  assert.equal(done.ChecksumType, "COMPOSITE");

  const whole = await client.send(new GetObjectCommand({ Bucket: YC_BUCKET, Key: "multipart" }));
  assert.equal(whole.ChecksumCRC32, done.ChecksumCRC32);
  assert.ok((await bytesOf(whole.Body)).equals(data));

  for (let n = 1; n <= 4; n++) {
    const first = (n - 1) * partSize;
    const part = data.subarray(first, Math.min(first + partSize, data.length));
    const get = await client.send(new GetObjectCommand({ Bucket: YC_BUCKET, Key: "multipart", PartNumber: n }));
    assert.equal(get.PartsCount, 4);
    assert.equal(get.ContentLength, part.length);
    assert.ok(get.ChecksumCRC32 && !get.ChecksumCRC32.includes("-"), "the part's own CRC32, validated");
    assert.ok((await bytesOf(get.Body)).equals(part));
  }
  const head = await client.send(new HeadObjectCommand({ Bucket: YC_BUCKET, Key: "multipart", PartNumber: 4 }));
  assert.equal(head.PartsCount, 4);
  assert.equal(head.ContentLength, data.length - 3 * partSize);
});

test("lib-storage upload from a stream sends its part checksums in trailers", async () => {
  const data = pattern(11 * MiB + 1, 6);
  const upload = new Upload({
    client,
    params: { Bucket: YC_BUCKET, Key: "multipart-stream", Body: Readable.from([data]) },
    partSize: 5 * MiB,
  });
  const done = await upload.done();
  assert.match(done.ChecksumCRC32, /-3$/);
  const get = await client.send(new GetObjectCommand({ Bucket: YC_BUCKET, Key: "multipart-stream", PartNumber: 3 }));
  assert.ok((await bytesOf(get.Body)).equals(data.subarray(10 * MiB)));
});
