// The official Wix JavaScript SDK run against the Wix emulator: the emulator's oracle.
//
//   node oracle.mjs files    <emulator url>   -> JSON on stdout: what the SDK returned or raised
//   node oracle.mjs webhooks <emulator url> <bodies.json>
//                                             -> JSON: what webhooks.process made of each body
//
// @wix/sdk builds https://www.wixapis.com/<path>; globalThis.fetch is swapped for one that rewrites
// that origin to the emulator (AppStrategy's token call uses the global fetch too). Credentials
// are the emulator's development defaults, read from ORACLE_* variables set by the test.
import { readFileSync } from "node:fs";
import { createClient, ApiKeyStrategy, AppStrategy } from "@wix/sdk";
import * as files from "@wix/auto_sdk_media_files";

const [command, base, bodiesPath] = process.argv.slice(2);
const env = process.env;
const WIX = "https://www.wixapis.com";
const realFetch = globalThis.fetch;
globalThis.fetch = (input, init) => {
  const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
  const target = url.startsWith(WIX) ? base + url.slice(WIX.length) : url;
  return realFetch(target, init);
};

/** An SDK call's outcome: {ok: value} or {error: {status, details, requestId, message}}. */
async function outcome(call) {
  try {
    return { ok: await call() };
  } catch (err) {
    return {
      error: {
        name: err?.name,
        message: String(err?.message ?? err),
        status: err?.status ?? err?.response?.status ?? null,
        details: err?.details ?? null,
        requestId: err?.requestId ?? null,
        cause: err?.cause ? String(err.cause?.message ?? err.cause) : null,
      },
    };
  }
}

async function waitReady(client, id) {
  for (let i = 0; i < 200; i++) {
    const file = await client.files.getFileDescriptor(id);
    if (file.operationStatus !== "PENDING") return file;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`file ${id} still PENDING`);
}

const PNG = Buffer.from(
  "89504e470d0a1a0a0000000d49484452000000040000000308060000009b5b3d1a" +
    "0000001049444154789c63f8cfc0f09f8181e13f0300150506fb3a3f4e1d000000" +
    "0049454e44ae426082",
  "hex",
);
// ftyp box: sniffs as MP4.
const MP4 = Buffer.concat([Buffer.from("0000001866747970697336d00000000069736f6d", "hex"), Buffer.alloc(64, 7)]);
const MP3 = Buffer.concat([Buffer.from("ID3\x03\x00\x00\x00\x00\x00\x00", "latin1"), Buffer.alloc(64, 1)]);
const PDF = Buffer.from("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "latin1");

async function upload(client, mimeType, fileName, bytes, extra = {}) {
  const generated = await client.files.generateFileUploadUrl(mimeType, { fileName, ...extra });
  const put = await fetch(generated.uploadUrl, {
    method: "PUT",
    headers: { "Content-Type": mimeType },
    body: bytes,
  });
  return { generated, putStatus: put.status, putBody: await put.json() };
}

async function filesRun(client, full) {
  const out = {};
  const image = await upload(client, "image/png", "pixel.png", PNG, {
    externalInfo: { origin: "oracle", externalIds: ["ext-1"] },
  });
  out.generateFileUploadUrl = image.generated;
  out.uploadPut = { status: image.putStatus, body: image.putBody };
  const imageId = image.putBody.file.id;
  out.imageReady = await waitReady(client, imageId);
  out.generateFileResumableUploadUrl = await outcome(() =>
    client.files.generateFileResumableUploadUrl("video/mp4", {
      fileName: "clip.mp4",
      uploadProtocol: "TUS",
    }),
  );
  out.getFileDescriptors = await outcome(() => client.files.getFileDescriptors([imageId]));
  out.listFiles = await outcome(() => client.files.listFiles({ paging: { limit: 10 } }));
  out.unknownFile = await outcome(() => client.files.getFileDescriptor("no-such-file-id"));
  out.unknownFiles = await outcome(() => client.files.getFileDescriptors([imageId, "nope"]));
  out.refusedMime = await outcome(() =>
    client.files.generateFileUploadUrl("text/html", { fileName: "page.html" }),
  );
  if (!full) return out;
  const staticUrl = out.imageReady.url;
  out.importFile = await outcome(() =>
    client.files.importFile(staticUrl, {
      displayName: "imported.png",
      mimeType: "image/png",
      externalInfo: { origin: "oracle-import", externalIds: ["imp-1"] },
    }),
  );
  out.bulkImportFile = await outcome(() =>
    client.files.bulkImportFile(
      [
        { url: staticUrl, displayName: "bulk-a.png", mimeType: "image/png" },
        { url: "not a url", displayName: "bulk-b.png" },
      ],
      { returnEntity: true },
    ),
  );
  out.media = {};
  for (const [kind, mime, name, bytes] of [
    ["video", "video/mp4", "clip.mp4", MP4],
    ["audio", "audio/mpeg", "song.mp3", MP3],
    ["document", "application/pdf", "paper.pdf", PDF],
  ]) {
    const up = await upload(client, mime, name, bytes);
    out.media[kind] = { putStatus: up.putStatus, ready: await waitReady(client, up.putBody.file.id) };
  }
  return out;
}

async function main() {
  if (command === "files") {
    const apiKey = createClient({
      modules: { files },
      auth: ApiKeyStrategy({ apiKey: env.ORACLE_API_KEY, siteId: env.ORACLE_SITE_ID }),
    });
    const app = createClient({
      modules: { files },
      auth: AppStrategy({
        appId: env.ORACLE_APP_ID,
        appSecret: env.ORACLE_APP_SECRET,
        instanceId: env.ORACLE_INSTANCE_ID,
      }),
    });
    const wrongSecret = createClient({
      modules: { files },
      auth: AppStrategy({
        appId: env.ORACLE_APP_ID,
        appSecret: "not-the-secret",
        instanceId: env.ORACLE_INSTANCE_ID,
      }),
    });
    const result = {
      apiKey: await filesRun(apiKey, true),
      app: await filesRun(app, false),
      wrongSecret: await outcome(() => wrongSecret.files.generateFileUploadUrl("image/png")),
      // The strategy's own token call, without the files module's error wrapping.
      wrongSecretToken: await outcome(() =>
        AppStrategy({
          appId: env.ORACLE_APP_ID,
          appSecret: "not-the-secret",
          instanceId: env.ORACLE_INSTANCE_ID,
        }).getAuthHeaders(),
      ),
    };
    process.stdout.write(JSON.stringify(result));
  } else if (command === "webhooks") {
    const bodies = JSON.parse(readFileSync(bodiesPath, "utf8"));
    const results = [];
    for (const body of bodies) {
      const seen = [];
      const client = createClient({
        modules: { files },
        auth: AppStrategy({ appId: env.ORACLE_APP_ID, publicKey: env.ORACLE_PUBLIC_KEY }),
      });
      client.files.onFileDescriptorFileReady((event) => seen.push({ handler: "ready", event }));
      client.files.onFileDescriptorFileFailed((event) => seen.push({ handler: "failed", event }));
      const processed = await outcome(() => client.webhooks.process(body));
      results.push({ processed, seen });
    }
    process.stdout.write(JSON.stringify(results));
  } else {
    throw new Error(`unknown command ${command}`);
  }
}

main().catch((err) => {
  process.stderr.write(`${err?.stack ?? err}\n`);
  process.exit(1);
});
