// Unit tests of src/index.js with Node's test runner (`node --test test/`): the parts that need
// no browser. The relay and the upload host are a small node:http server speaking the wire
// format of docs/api.md and tus 1.0.0; tus-js-client is the real one (its Node build).
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { test } from "node:test";

import {
  CHUNK_QUANTUM, DEFAULT_RESUMABLE_THRESHOLD, UploadError, chunkSizeFor, flowFor, isRefusedType,
  nameWithExtension, relayError, uploadFile, wixError,
} from "../src/index.js";

/** A relay + Wix upload host on a free port; `routes` answers relay calls, TUS is built in. */
async function startServer(relay) {
  const seen = [];
  const uploads = new Map();
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url, "http://x");
    seen.push({ method: req.method, path: url.pathname, search: url.search, headers: req.headers, body });
    const json = (status, doc, headers = {}) => {
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(JSON.stringify(doc));
    };
    if (url.pathname.startsWith("/v1/")) return relay(req, url, JSON.parse(body.toString() || "null"), json, base);
    if (req.method === "POST" && url.pathname === "/upload/tus") {
      const id = `u${uploads.size + 1}`;
      const metadata = Object.fromEntries(
        req.headers["upload-metadata"].split(",").map((p) => p.split(" ")).map(([k, v]) => [k, Buffer.from(v, "base64").toString()]),
      );
      uploads.set(id, { length: Number(req.headers["upload-length"]), data: [], offset: 0, metadata });
      res.writeHead(201, { location: `/upload/tus/${id}`, "tus-resumable": "1.0.0" });
      return res.end();
    }
    const tusMatch = url.pathname.match(/^\/upload\/tus\/([^/]+)$/);
    const upload = tusMatch && uploads.get(tusMatch[1]);
    if (req.method === "PATCH" && upload) {
      upload.data.push(body);
      upload.offset += body.length;
      res.writeHead(204, { "upload-offset": String(upload.offset), "tus-resumable": "1.0.0" });
      return res.end();
    }
    if (req.method === "PUT" && tusMatch) {
      const done = [...uploads.values()].find((u) => u.metadata.token === tusMatch[1] && u.offset === u.length);
      if (!done) return json(400, { message: "not complete", details: { applicationError: { code: "UPLOAD_NOT_COMPLETED" } } });
      return json(200, { file: { id: "file-1", displayName: done.metadata.filename, operationStatus: "PENDING" } });
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${server.address().port}`;
  return { base, seen, uploads, close: () => new Promise((resolve) => server.close(resolve)) };
}

/** A Buffer that also looks like a File (tus-js-client's Node build reads Buffers). */
function nodeFile(size, name, type) {
  const buffer = Buffer.alloc(size, 7);
  return Object.assign(buffer, { size, name, type, lastModified: 1 });
}

test("chunk sizes are whole multiples of 256 KiB, at least one", () => {
  assert.equal(chunkSizeFor(), 8 * 1024 * 1024);
  assert.equal(chunkSizeFor(5 * 1024 * 1024 + 1), 5 * 1024 * 1024);
  assert.equal(chunkSizeFor(1000), CHUNK_QUANTUM);
  assert.throws(() => chunkSizeFor(0), (e) => e instanceof UploadError && e.code === "INVALID_OPTIONS");
});

test("files up to the threshold take one PUT, larger ones go resumable", () => {
  assert.equal(DEFAULT_RESUMABLE_THRESHOLD, 10_000_000);
  assert.equal(flowFor(10_000_000), "single");
  assert.equal(flowFor(10_000_001), "resumable");
  assert.equal(flowFor(5, 4), "resumable");
});

test("the fallback file name carries an extension", () => {
  assert.equal(nameWithExtension("photo.heic", "image/heic"), "photo.heic");
  assert.equal(nameWithExtension("scan", "image/svg+xml"), "scan.svg");
  assert.equal(nameWithExtension("", "application/octet-stream"), "upload");
});

test("relay and Wix error bodies become typed errors with code and request id", () => {
  const relay = relayError(403, { error: { code: "FOLDER_NOT_ALLOWED", message: "no", requestId: "r-1" } });
  assert.deepEqual([relay.code, relay.status, relay.requestId, relay.source], ["FOLDER_NOT_ALLOWED", 403, "r-1", "relay"]);
  const rule = wixError(
    400,
    { message: "bad", details: { validationError: { fieldViolations: [{ field: "mimeType", ruleName: "MISMATCH_MIME_TYPE" }] } } },
    { "x-wix-request-id": "w-1" },
  );
  assert.deepEqual([rule.code, rule.requestId, rule.source], ["MISMATCH_MIME_TYPE", "w-1", "wix"]);
  assert.ok(isRefusedType(rule));
  assert.equal(wixError(503, null).code, "HTTP_503");
  assert.equal(relayError(502, "<html>", { "x-request-id": "r-2" }).requestId, "r-2");
});

test("a policy refusal rejects with the relay's code; the caller's header is sent", async () => {
  const server = await startServer((req, url, body, json) =>
    json(403, { error: { code: "FOLDER_NOT_ALLOWED", message: "not yours", requestId: "req-9" } }, { "x-request-id": "req-9" }));
  try {
    const error = await uploadFile(nodeFile(10, "a.png", "image/png"), {
      relayUrl: server.base, filePath: "/elsewhere", getAuthHeaders: async () => ({ Authorization: "Bearer t0ken" }),
    }).catch((e) => e);
    assert.ok(error instanceof UploadError);
    assert.deepEqual([error.code, error.status, error.requestId], ["FOLDER_NOT_ALLOWED", 403, "req-9"]);
    const [call] = server.seen;
    assert.equal(call.headers.authorization, "Bearer t0ken");
    assert.deepEqual(JSON.parse(call.body), { mimeType: "image/png", fileName: "a.png", sizeInBytes: "10", filePath: "/elsewhere" });
  } finally {
    await server.close();
  }
});

test("a MIME type Wix refuses is asked for again as application/octet-stream", async () => {
  const server = await startServer((req, url, body, json) =>
    body.mimeType === "application/octet-stream"
      ? json(403, { error: { code: "MIME_TYPE_NOT_ALLOWED", message: "policy", requestId: "r" } })
      : json(400, { error: { code: "UNSUPPORTED_FILE_FORMAT", message: "wix says no", requestId: "r" } }));
  try {
    const fallbacks = [];
    const error = await uploadFile(nodeFile(10, "x.heic", "image/heic"), {
      relayUrl: server.base, onFallback: (e) => fallbacks.push(e.code),
    }).catch((e) => e);
    assert.equal(error.code, "MIME_TYPE_NOT_ALLOWED");
    assert.deepEqual(fallbacks, ["UNSUPPORTED_FILE_FORMAT"]);
    assert.deepEqual(server.seen.map((c) => JSON.parse(c.body).mimeType), ["image/heic", "application/octet-stream"]);
  } finally {
    await server.close();
  }
});

test("a policy refusal is not retried as octet-stream", async () => {
  const server = await startServer((req, url, body, json) =>
    json(403, { error: { code: "MIME_TYPE_NOT_ALLOWED", message: "policy", requestId: "r" } }));
  try {
    const error = await uploadFile(nodeFile(10, "x.exe", "application/x-msdownload"), { relayUrl: server.base }).catch((e) => e);
    assert.equal(error.code, "MIME_TYPE_NOT_ALLOWED");
    assert.equal(server.seen.length, 1);
  } finally {
    await server.close();
  }
});

test("an aborted signal rejects with an AbortError before any request", async () => {
  const controller = new AbortController();
  controller.abort();
  const error = await uploadFile(nodeFile(10, "a.png", "image/png"), {
    relayUrl: "http://127.0.0.1:9", signal: controller.signal,
  }).catch((e) => e);
  assert.deepEqual([error.name, error.code], ["AbortError", "ABORTED"]);
});

test("bad options are refused with INVALID_OPTIONS", async () => {
  for (const options of [undefined, { relayUrl: "ftp://x" }, { relayUrl: "http://x", resumableThreshold: -1 }]) {
    const error = await uploadFile(nodeFile(1, "a", "text/plain"), options).catch((e) => e);
    assert.equal(error.code, "INVALID_OPTIONS");
  }
});

test("TUS: Wix's metadata keys, 256 KiB chunks, finalize at <uploadUrl>/<token>, the file reported, then the statusUrl", async () => {
  let polls = 0;
  const reported = [];
  const server = await startServer((req, url, body, json, base) => {
    if (url.pathname === "/v1/resumable-upload-url") {
      return json(200, { uploadProtocol: "TUS", uploadUrl: `${base}/upload/tus`, uploadToken: "tok-1", uploadId: "up-1", statusUrl: "/v1/uploads/up-1" });
    }
    if (url.pathname === "/v1/uploads/up-1/file") {
      reported.push(body);
      return json(200, { id: "up-1", status: "uploaded" });
    }
    polls += 1;
    return json(200, polls < 2 ? { id: "up-1", status: "uploaded" } : { id: "up-1", status: "ready", file: { id: "file-1", url: "https://static/x", operationStatus: "READY" } });
  });
  try {
    const size = 3 * CHUNK_QUANTUM + 5;
    const progress = [];
    const states = [];
    const ready = await uploadFile(nodeFile(size, "clip.mp4", "video/mp4"), {
      relayUrl: server.base, resumableThreshold: 1, chunkSize: CHUNK_QUANTUM + 1000,
      onProgress: (p) => progress.push(p.loaded), onStateChange: (s) => states.push(s), waitUntilReady: true,
    });
    assert.equal(ready.operationStatus, "READY");
    assert.deepEqual(states, ["uploading", "processing"]);
    const upload = server.uploads.get("u1");
    assert.deepEqual(upload.metadata, { filename: "clip.mp4", contentType: "video/mp4", token: "tok-1" });
    assert.deepEqual(upload.data.map((b) => b.length), [CHUNK_QUANTUM, CHUNK_QUANTUM, CHUNK_QUANTUM, 5]);
    assert.ok(server.seen.some((c) => c.method === "PUT" && c.path === "/upload/tus/tok-1"));
    assert.equal(polls, 2);
    assert.equal(reported.length, 1);
    assert.ok(reported[0].fileId);
    assert.deepEqual(progress, [...progress].sort((a, b) => a - b));
    assert.equal(progress.at(-1), size);
  } finally {
    await server.close();
  }
});

test("waitUntilReady without a statusUrl is a clear error, or the descriptor with if-supported", async () => {
  const server = await startServer((req, url, body, json, base) =>
    json(200, { uploadProtocol: "TUS", uploadUrl: `${base}/upload/tus`, uploadToken: `tok-${server.seen.length}` }));
  try {
    const options = { relayUrl: server.base, resumableThreshold: 1 };
    const error = await uploadFile(nodeFile(20, "a.mp4", "video/mp4"), { ...options, waitUntilReady: true }).catch((e) => e);
    assert.equal(error.code, "READINESS_UNAVAILABLE");
    assert.equal(error.details.id, "file-1");
    const descriptor = await uploadFile(nodeFile(21, "b.mp4", "video/mp4"), { ...options, waitUntilReady: "if-supported" });
    assert.equal(descriptor.operationStatus, "PENDING");
  } finally {
    await server.close();
  }
});
