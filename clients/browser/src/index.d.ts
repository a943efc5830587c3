// Type declarations for wix-media-relay-upload (src/index.js).

/** Wix's FileDescriptor (the fields a browser usually needs; Wix sends more). */
export interface WixFileDescriptor {
  id: string;
  displayName?: string;
  url?: string;
  mediaType?: string;
  operationStatus?: "PENDING" | "READY" | "FAILED";
  sizeInBytes?: string;
  parentFolderId?: string;
  [field: string]: unknown;
}

export interface UploadProgress {
  /** Bytes accepted so far; never decreases (a resume does not move it back). */
  loaded: number;
  total: number;
  flow: "single" | "resumable";
}

export type UploadState = "uploading" | "processing";

/** Where resumable sessions are kept between page loads (default: localStorage). */
export interface SessionStorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface UploadOptions {
  /** The relay's base URL, e.g. "https://media-relay.example.com". */
  relayUrl: string;
  /** The caller's credential, e.g. `{Authorization: "Bearer <JWT>"}`. Called before each relay request. */
  getAuthHeaders?: () => Record<string, string> | Promise<Record<string, string>>;
  /** The Wix folder; the relay's policy decides whether it is allowed. */
  filePath?: string;
  /** More fields of the upload-URL request (labels, private, …; see docs/api.md). */
  fields?: Record<string, unknown>;
  onProgress?: (progress: UploadProgress) => void;
  onStateChange?: (state: UploadState) => void;
  /** Called when Wix refused the MIME type and the upload is retried as application/octet-stream. */
  onFallback?: (error: UploadError) => void;
  /** Cancels the upload (the TUS upload is terminated; nothing is finalized). */
  signal?: AbortSignal;
  /** Files larger than this many bytes go resumable (TUS). Default 10 MB (10,000,000). */
  resumableThreshold?: number;
  /** TUS chunk size, rounded down to a multiple of 256 KiB. Default 8 MiB. */
  chunkSize?: number;
  /** tus-js-client's retry delays in ms. Default [0, 1000, 3000, 5000]. */
  retryDelays?: number[];
  /** Default true: on UNSUPPORTED_FILE_FORMAT / MISMATCH_MIME_TYPE retry as application/octet-stream. */
  octetStreamFallback?: boolean;
  /**
   * Wait until Wix has processed the file, through the relay's `statusUrl`.
   * true: a relay that answers no statusUrl is an error (READINESS_UNAVAILABLE).
   * "if-supported": without a statusUrl, resolve with the uploaded descriptor.
   */
  waitUntilReady?: boolean | "if-supported" | { timeoutMs?: number };
  storage?: SessionStorageLike;
  /** The tus-js-client module (default: the global `tus` of its UMD build, else `import("tus-js-client")`). */
  tus?: unknown;
  fetch?: typeof fetch;
  XMLHttpRequest?: typeof XMLHttpRequest;
}

export type ErrorSource = "relay" | "wix" | "client";

export class UploadError extends Error {
  constructor(
    message: string,
    init?: { code?: string; status?: number; requestId?: string | null; source?: ErrorSource; details?: unknown; cause?: unknown },
  );
  /** "AbortError" for a cancelled upload, else "UploadError". */
  name: "UploadError" | "AbortError";
  /** The relay's or Wix's error code, or ABORTED, NETWORK_ERROR, INVALID_OPTIONS, PROCESSING_FAILED, READINESS_UNAVAILABLE, READINESS_TIMEOUT. */
  code: string;
  /** HTTP status (0 when there was no answer). */
  status: number;
  /** The relay's requestId (X-Request-Id) or Wix's x-wix-request-id. */
  requestId: string | null;
  source: ErrorSource;
  details?: unknown;
}

export function uploadFile(file: Blob | File, options: UploadOptions): Promise<WixFileDescriptor>;

export const DEFAULT_RESUMABLE_THRESHOLD: number;
export const CHUNK_QUANTUM: number;
export const DEFAULT_CHUNK_SIZE: number;
export const OCTET_STREAM: "application/octet-stream";
export const DEFAULT_RETRY_DELAYS: number[];
export const REFUSED_TYPE_CODES: readonly string[];
export function chunkSizeFor(requested?: number): number;
export function flowFor(size: number, resumableThreshold?: number): "single" | "resumable";
export function nameWithExtension(name: string | undefined, mimeType: string | undefined): string;
export function fingerprintOf(file: Blob | File, options: Pick<UploadOptions, "relayUrl" | "filePath">, mimeType: string): string;
export function relayError(status: number, body: unknown, headers?: Record<string, string>): UploadError;
export function wixError(status: number, body: unknown, headers?: Record<string, string>): UploadError;
export function isRefusedType(error: unknown): boolean;
