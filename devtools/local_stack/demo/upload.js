// Browser upload through the Wix Media Relay: two requests, no SDK.
//   1. POST {relay}/v1/upload-url  → {"uploadUrl": "..."}   (authenticated)
//   2. PUT  <uploadUrl>, body = the file, Content-Type = its type → {"file": FileDescriptor}
// config.js (served by the local stack) sets window.RELAY_DEMO = {relayUrl, apiKey}.

const { relayUrl, apiKey } = window.RELAY_DEMO;

// Local development only. In production, return {Authorization: `Bearer ${await getIdToken()}`}.
function authHeaders() {
  return { "x-api-key": apiKey };
}

async function getUploadUrl(file, filePath) {
  const response = await fetch(`${relayUrl}/v1/upload-url`, {
    method: "POST",
    headers: { ...authHeaders(), "Content-Type": "application/json" },
    body: JSON.stringify({
      mimeType: file.type || "application/octet-stream",
      fileName: file.name,
      sizeInBytes: String(file.size),
      filePath,
    }),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    // The relay's error envelope: {"error": {"code", "message", "details"?, "requestId"}}
    const error = body.error || {};
    throw new Error(`relay ${response.status} ${error.code || ""}: ${error.message || "failed"}`);
  }
  return body.uploadUrl;
}

async function putFile(uploadUrl, file) {
  const response = await fetch(uploadUrl, {
    method: "PUT",
    headers: { "Content-Type": file.type || "application/octet-stream" },
    body: file,
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error(`upload ${response.status}: ${body.message || "failed"}`);
  }
  return body.file; // Wix's FileDescriptor; operationStatus may still be PENDING
}

const status = document.getElementById("status");
const result = document.getElementById("result");
const preview = document.getElementById("preview");

function show(state, text) {
  status.dataset.state = state;
  status.textContent = text;
  document.title = `${state}: ${text}`;
}

document.getElementById("upload-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const file = document.getElementById("file").files[0];
  const folder = document.getElementById("folder").value.trim() || undefined;
  result.hidden = preview.hidden = true;
  try {
    show("working", `Asking the relay for an upload URL for ${file.name}…`);
    const uploadUrl = await getUploadUrl(file, folder);
    show("working", `Uploading ${file.size} bytes…`);
    const descriptor = await putFile(uploadUrl, file);
    result.textContent = JSON.stringify(descriptor, null, 2);
    result.hidden = false;
    if (file.type.startsWith("image/")) {
      preview.src = URL.createObjectURL(file); // the local copy: Wix may still be processing
      preview.hidden = false;
    }
    show("done", `Uploaded: Wix file ${descriptor.id}`);
  } catch (error) {
    show("error", error.message);
  }
});
