// Browser uploads to a Wix site's Media Manager through the Wix Media Relay.
//
//   size <= resumableThreshold: POST {relay}/v1/upload-url, then one XHR PUT (upload progress).
//   larger:                     POST {relay}/v1/resumable-upload-url, TUS (tus-js-client), then
//                               Wix's finalize PUT <uploadUrl>/<uploadToken>.
//
// The relay holds the Wix credential; this module only ever sees one-time upload URLs and the
// caller's own credential (getAuthHeaders). The caller's guide is docs/api.md.

export const DEFAULT_RESUMABLE_THRESHOLD = 10 * 1000 * 1000; // Wix: "above ~10 MB, resumable"
export const CHUNK_QUANTUM = 256 * 1024; // Wix's TUS backend takes multiples of 256 KiB
export const DEFAULT_CHUNK_SIZE = 32 * CHUNK_QUANTUM; // 8 MiB
export const OCTET_STREAM = "application/octet-stream";
export const DEFAULT_RETRY_DELAYS = [0, 1000, 3000, 5000];
/** Wix's rule names for a refused or contradicted MIME type: the octet-stream fallback's cue. */
export const REFUSED_TYPE_CODES = Object.freeze(["UNSUPPORTED_FILE_FORMAT", "MISMATCH_MIME_TYPE"]);
const SESSION_SUFFIX = "::session"; // the library's record beside tus-js-client's own
const SESSION_MAX_AGE_MS = 24 * 60 * 60 * 1000;

/** Every failure: `code` is the relay's or Wix's error code (or one of this module's:
 * ABORTED, NETWORK_ERROR, INVALID_OPTIONS, PROCESSING_FAILED, READINESS_UNAVAILABLE,
 * READINESS_TIMEOUT, UPLOAD_FAILED), `requestId` the relay's or Wix's request id. */
export class UploadError extends Error {
  constructor(message, { code, status = 0, requestId = null, source = "client", details, cause } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = code === "ABORTED" ? "AbortError" : "UploadError";
    this.code = code;
    this.status = status;
    this.requestId = requestId;
    this.source = source;
    this.details = details;
  }
}

/** The chunk size to use: a multiple of 256 KiB, at least 256 KiB (rounded down otherwise). */
export function chunkSizeFor(requested = DEFAULT_CHUNK_SIZE) {
  if (!Number.isFinite(requested) || requested <= 0) {
    throw new UploadError("chunkSize must be a positive number of bytes", { code: "INVALID_OPTIONS" });
  }
  return Math.max(CHUNK_QUANTUM, Math.floor(requested / CHUNK_QUANTUM) * CHUNK_QUANTUM);
}

/** The file name with an extension Wix can sniff from (the fallback sends it as `filename`). */
export function nameWithExtension(name, mimeType) {
  const base = name || "upload";
  if (/\.[A-Za-z0-9]{1,10}$/.test(base)) return base;
  const subtype = (mimeType || "").split("/")[1]?.split(/[+;]/)[0]?.trim();
  return subtype && subtype !== "octet-stream" ? `${base}.${subtype}` : base;
}

/** The error from a relay answer `{"error": {code, message, details, requestId}}`. */
export function relayError(status, body, headers = {}) {
  const error = (body && typeof body === "object" && body.error) || {};
  const requestId = error.requestId || headers["x-request-id"] || null;
  const code = error.code || (status ? `HTTP_${status}` : "NETWORK_ERROR");
  return new UploadError(`relay ${status} ${code}: ${error.message || "request failed"}`, {
    code, status, requestId, source: "relay", details: error.details,
  });
}

/** The error from a Wix upload-host answer: `{message, details: {applicationError: {code}}}`
 * or `{…, details: {validationError: {fieldViolations: [{ruleName}]}}}`. */
export function wixError(status, body, headers = {}) {
  const details = (body && typeof body === "object" && body.details) || {};
  const violations = details.validationError?.fieldViolations || [];
  const code =
    details.applicationError?.code || violations.find((v) => v.ruleName)?.ruleName ||
    (status ? `HTTP_${status}` : "NETWORK_ERROR");
  const message = (body && body.message) || details.applicationError?.description || "upload failed";
  return new UploadError(`Wix ${status} ${code}: ${message}`, {
    code, status, requestId: headers["x-wix-request-id"] || null, source: "wix",
    details: violations.length ? violations : details.applicationError,
  });
}

export function isRefusedType(error) {
  return error instanceof UploadError && REFUSED_TYPE_CODES.includes(error.code);
}

function abortError(cause) {
  return new UploadError("the upload was cancelled", { code: "ABORTED", cause });
}

function throwIfAborted(signal) {
  if (signal?.aborted) throw abortError(signal.reason);
}

function headersOf(response) {
  const out = {};
  response.headers.forEach((value, name) => { out[name.toLowerCase()] = value; });
  return out;
}

async function parseJson(text) {
  try { return text ? JSON.parse(text) : null; } catch { return null; }
}

/** A JSON request to the relay with the caller's credential; relay errors become UploadErrors. */
async function relayRequest(options, method, path, body) {
  const auth = options.getAuthHeaders ? await options.getAuthHeaders() : {};
  const url = new URL(path, options.relayUrl.replace(/\/?$/, "/")).toString();
  const init = { method, headers: { ...auth }, signal: options.signal };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await options.fetch(url, init);
  } catch (cause) {
    if (options.signal?.aborted) throw abortError(cause);
    throw new UploadError(`relay unreachable: ${cause?.message || cause}`, {
      code: "NETWORK_ERROR", source: "relay", cause,
    });
  }
  const parsed = await parseJson(await response.text());
  if (!response.ok) throw relayError(response.status, parsed, headersOf(response));
  return parsed;
}

function uploadUrlRequest(file, mimeType, options) {
  const body = { mimeType, fileName: file.name || nameWithExtension("upload", mimeType), sizeInBytes: String(file.size) };
  if (options.filePath) body.filePath = options.filePath;
  return { ...body, ...(options.fields || {}) };
}

/** PUT the bytes with XHR (fetch has no upload progress). Resolves to Wix's `{file}` answer. */
function putWithProgress(url, file, contentType, options, report) {
  const XHR = options.XMLHttpRequest || globalThis.XMLHttpRequest;
  if (!XHR) {
    return Promise.reject(new UploadError("XMLHttpRequest is not available here", { code: "INVALID_OPTIONS" }));
  }
  return new Promise((resolve, reject) => {
    const xhr = new XHR();
    const onAbort = () => xhr.abort();
    const done = (fn, value) => { options.signal?.removeEventListener("abort", onAbort); fn(value); };
    xhr.open("PUT", url);
    xhr.setRequestHeader("Content-Type", contentType);
    xhr.upload.onprogress = (event) => report(event.loaded);
    xhr.onload = () => {
      const headers = { "x-wix-request-id": xhr.getResponseHeader("x-wix-request-id") };
      let body = null;
      try { body = xhr.responseText ? JSON.parse(xhr.responseText) : null; } catch { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300 && body?.file) return done(resolve, body.file);
      done(reject, wixError(xhr.status, body, headers));
    };
    xhr.onerror = () => done(reject, new UploadError("the upload connection failed", { code: "NETWORK_ERROR", source: "wix" }));
    xhr.onabort = () => done(reject, abortError(options.signal?.reason));
    options.signal?.addEventListener("abort", onAbort, { once: true });
    xhr.send(file);
  });
}

function withQuery(url, name, value) {
  const u = new URL(url);
  u.searchParams.set(name, value);
  return u.toString();
}

async function singleUpload(file, mimeType, options, report) {
  const answer = await relayRequest(options, "POST", "v1/upload-url", uploadUrlRequest(file, mimeType, options));
  throwIfAborted(options.signal);
  const url = mimeType === OCTET_STREAM
    ? withQuery(answer.uploadUrl, "filename", nameWithExtension(file.name, file.type))
    : answer.uploadUrl;
  const descriptor = await putWithProgress(url, file, mimeType, options, report);
  return { descriptor, answer };
}

// --- resumable (TUS) -----------------------------------------------------------------------
function memoryStorage() {
  const map = new Map();
  return {
    getItem: (k) => (map.has(k) ? map.get(k) : null),
    setItem: (k, v) => map.set(k, String(v)),
    removeItem: (k) => map.delete(k),
  };
}

/** Where a resumable session (upload URL + token) is kept between page loads. */
function sessionStorageOf(options) {
  if (options.storage) return options.storage;
  try {
    if (globalThis.localStorage) return globalThis.localStorage;
  } catch { /* storage disabled */ }
  return (globalThis.__wixRelayUploadMemory ||= memoryStorage());
}

/** The identity of "this file, to this folder, through this relay" across page reloads. */
export function fingerprintOf(file, options, mimeType) {
  return [
    "wix-relay", options.relayUrl, options.filePath || "", file.name, mimeType, file.size,
    file.lastModified ?? "",
  ].join("::");
}

function readSession(storage, key, now) {
  const raw = storage.getItem(key + SESSION_SUFFIX);
  if (!raw) return null;
  try {
    const session = JSON.parse(raw);
    if (session.uploadUrl && session.uploadToken && now - session.createdAt < SESSION_MAX_AGE_MS) return session;
  } catch { /* a bad record is dropped */ }
  storage.removeItem(key + SESSION_SUFFIX);
  return null;
}

async function loadTus(options) {
  if (options.tus) return options.tus;
  if (globalThis.tus?.Upload) return globalThis.tus; // the UMD build in a <script> tag
  const mod = await import("tus-js-client");
  return mod.Upload ? mod : mod.default;
}

function tusError(error) {
  const response = error?.originalResponse;
  if (!response) {
    return new UploadError(`the resumable upload failed: ${error?.message || error}`, {
      code: "NETWORK_ERROR", source: "wix", cause: error,
    });
  }
  let body = null;
  try { body = JSON.parse(response.getBody() || "null"); } catch { /* not JSON */ }
  return wixError(response.getStatus(), body, { "x-wix-request-id": response.getHeader("x-wix-request-id") });
}

async function resumableUpload(file, mimeType, options, report) {
  const tus = await loadTus(options);
  const storage = sessionStorageOf(options);
  const key = fingerprintOf(file, options, mimeType);
  let session = readSession(storage, key, Date.now());
  const resumed = Boolean(session);
  if (!session) {
    const answer = await relayRequest(options, "POST", "v1/resumable-upload-url", uploadUrlRequest(file, mimeType, options));
    session = { ...answer, createdAt: Date.now() };
    storage.setItem(key + SESSION_SUFFIX, JSON.stringify(session));
  }
  const filename = nameWithExtension(file.name, file.type);
  throwIfAborted(options.signal);
  const upload = new tus.Upload(file, {
    endpoint: session.uploadUrl,
    chunkSize: chunkSizeFor(options.chunkSize),
    retryDelays: options.retryDelays || DEFAULT_RETRY_DELAYS,
    metadata: { filename, contentType: mimeType, token: session.uploadToken }, // Wix's keys
    fingerprint: () => Promise.resolve(key),
    storeFingerprintForResuming: true,
    removeFingerprintOnSuccess: true,
    onProgress: (sent) => report(sent),
  });
  const finished = new Promise((resolve, reject) => {
    upload.options.onSuccess = resolve;
    upload.options.onError = (error) => reject(tusError(error));
  });
  let terminated = Promise.resolve();
  // Cancel = abort the request in flight and DELETE the TUS upload (nothing is finalized).
  const onAbort = () => { terminated = upload.abort(true).catch(() => {}); };
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const previous = await upload.findPreviousUploads();
    if (previous.length) upload.resumeFromPreviousUpload(previous[0]);
    upload.start();
    await Promise.race([finished, abortPromise(options.signal)]);
    const finalizeUrl = `${session.uploadUrl.replace(/\/$/, "")}/${session.uploadToken}`;
    const descriptor = await finalize(
      mimeType === OCTET_STREAM ? withQuery(finalizeUrl, "filename", filename) : finalizeUrl, options,
    );
    storage.removeItem(key + SESSION_SUFFIX);
    await reportFile(session, descriptor, options);
    return { descriptor, answer: session, resumed };
  } catch (error) {
    if (error instanceof UploadError && error.code === "ABORTED") await terminated;
    // A cancelled, refused or stale session is not resumed next time.
    if (!(error instanceof UploadError && error.code === "NETWORK_ERROR")) storage.removeItem(key + SESSION_SUFFIX);
    if (resumed && error instanceof UploadError && error.status >= 400 && error.status < 500 && error.code !== "ABORTED") {
      return resumableUpload(file, mimeType, options, report); // the stored session went stale
    }
    throw error;
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
  }
}

/** Wix echoes no externalInfo for resumable uploads, so the relay learns which file the upload
 * became from the finalize answer: POST {statusUrl}/file {fileId} (the relay checks it with Wix).
 * The bytes are in Wix either way: a failed report only leaves the status at `pending`. */
async function reportFile(session, descriptor, options) {
  if (!session.statusUrl || !descriptor?.id) return;
  try {
    await relayRequest(options, "POST", `${session.statusUrl.replace(/^\//, "")}/file`, { fileId: descriptor.id });
  } catch (error) {
    if (error instanceof UploadError && error.code === "ABORTED") throw error;
  }
}

function abortPromise(signal) {
  if (!signal) return new Promise(() => {});
  return new Promise((_, reject) => {
    if (signal.aborted) reject(abortError(signal.reason));
    signal.addEventListener("abort", () => reject(abortError(signal.reason)), { once: true });
  });
}

/** Wix's finalize: PUT <uploadUrl>/<uploadToken> with `{}` → `{file}`. */
async function finalize(url, options) {
  let response;
  try {
    response = await options.fetch(url, {
      method: "PUT", headers: { "Content-Type": "application/json" }, body: "{}", signal: options.signal,
    });
  } catch (cause) {
    if (options.signal?.aborted) throw abortError(cause);
    throw new UploadError("the finalize request failed", { code: "NETWORK_ERROR", source: "wix", cause });
  }
  const body = await parseJson(await response.text());
  if (!response.ok || !body?.file) throw wixError(response.status, body, headersOf(response));
  return body.file;
}

// --- readiness -----------------------------------------------------------------------------
const sleep = (ms, signal) => new Promise((resolve, reject) => {
  const timer = setTimeout(resolve, ms);
  signal?.addEventListener("abort", () => { clearTimeout(timer); reject(abortError(signal.reason)); }, { once: true });
});

/** Follow the relay's `statusUrl` (GET /v1/uploads/{id}) until the file is ready or failed. */
async function untilReady(descriptor, answer, options) {
  const wait = options.waitUntilReady;
  if (descriptor?.operationStatus === "READY") return descriptor;
  if (!answer?.statusUrl) {
    if (wait === "if-supported") return descriptor;
    throw new UploadError(
      "waitUntilReady needs a relay that answers a statusUrl; this one does not (the bytes are uploaded: the descriptor is on error.details)",
      { code: "READINESS_UNAVAILABLE", details: descriptor },
    );
  }
  const timeoutMs = (typeof wait === "object" && wait.timeoutMs) || 120_000;
  const deadline = Date.now() + timeoutMs;
  let delay = 500;
  for (;;) {
    const status = await relayRequest(options, "GET", answer.statusUrl.replace(/^\//, ""));
    if (status?.status === "ready") return status.file || descriptor;
    if (status?.status === "failed") {
      throw new UploadError(`Wix could not process the file: ${status.error?.message || "failed"}`, {
        code: status.error?.code || "PROCESSING_FAILED", source: "relay", details: status,
      });
    }
    if (Date.now() + delay > deadline) {
      throw new UploadError("the file was not ready in time", { code: "READINESS_TIMEOUT", details: status });
    }
    await sleep(delay, options.signal);
    delay = Math.min(delay * 2, 5000);
  }
}

// --- the entry point -----------------------------------------------------------------------
function checkedOptions(options) {
  if (!options || typeof options.relayUrl !== "string" || !/^https?:\/\//.test(options.relayUrl)) {
    throw new UploadError("relayUrl must be the relay's http(s) base URL", { code: "INVALID_OPTIONS" });
  }
  const fetchImpl = options.fetch || globalThis.fetch?.bind(globalThis);
  if (!fetchImpl) throw new UploadError("fetch is not available here", { code: "INVALID_OPTIONS" });
  const threshold = options.resumableThreshold ?? DEFAULT_RESUMABLE_THRESHOLD;
  if (!(threshold >= 0)) throw new UploadError("resumableThreshold must be >= 0", { code: "INVALID_OPTIONS" });
  chunkSizeFor(options.chunkSize ?? DEFAULT_CHUNK_SIZE);
  return { ...options, fetch: fetchImpl, resumableThreshold: threshold };
}

/** Which flow a file of this size takes. */
export function flowFor(size, resumableThreshold = DEFAULT_RESUMABLE_THRESHOLD) {
  return size > resumableThreshold ? "resumable" : "single";
}

/**
 * Upload one File/Blob; resolves to Wix's file descriptor (or, with `waitUntilReady`, the
 * ready file). See index.d.ts for the options.
 */
export async function uploadFile(file, rawOptions) {
  const options = checkedOptions(rawOptions);
  if (!file || typeof file.size !== "number") {
    throw new UploadError("file must be a File or Blob", { code: "INVALID_OPTIONS" });
  }
  throwIfAborted(options.signal);
  const flow = flowFor(file.size, options.resumableThreshold);
  let highest = 0;
  const report = (loaded) => {
    highest = Math.min(file.size, Math.max(highest, loaded)); // never backwards across a resume
    options.onProgress?.({ loaded: highest, total: file.size, flow });
  };
  const state = (name) => options.onStateChange?.(name);
  const attempt = (mimeType) => (flow === "resumable" ? resumableUpload : singleUpload)(file, mimeType, options, report);
  state("uploading");
  const declared = file.type || OCTET_STREAM;
  let result;
  try {
    result = await attempt(declared);
  } catch (error) {
    if (!(isRefusedType(error) && declared !== OCTET_STREAM && options.octetStreamFallback !== false)) throw error;
    options.onFallback?.(error);
    result = await attempt(OCTET_STREAM); // Wix sniffs the type; the extension rides in `filename`
  }
  report(file.size);
  if (!options.waitUntilReady) return result.descriptor;
  state("processing");
  const ready = await untilReady(result.descriptor, result.answer, options);
  return ready;
}
