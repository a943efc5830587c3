// The demo on the browser library (clients/browser, served as /lib/index.js): one row per file
// with a <progress>, data-state = uploading | processing | ready | error, and the Wix media URL
// (with a preview for images) when ready. config.js (served by the local stack) sets
// window.RELAY_DEMO = {relayUrl, token}.
import { uploadFile } from "./lib/index.js";

const { relayUrl, token } = window.RELAY_DEMO;
const list = document.getElementById("uploads");
const drop = document.getElementById("drop");

// Production: return {Authorization: `Bearer ${await auth.getIdToken()}`} from your identity provider.
const getAuthHeaders = () => ({ Authorization: `Bearer ${token}` });

/** What tests (and curious developers) can read: one record per file, in order. */
window.demoUploads = [];

function row(file) {
  const item = document.createElement("li");
  item.className = "upload";
  item.dataset.name = file.name;
  item.innerHTML = `<strong class="name"></strong><progress max="100" value="0"></progress>
    <span class="status"></span><button type="button" class="cancel">Cancel</button>
    <a class="url" hidden target="_blank"></a><img class="preview" alt="" hidden>`;
  item.querySelector(".name").textContent = `${file.name} (${file.size} bytes)`;
  list.append(item);
  return item;
}

function show(item, record, state, text) {
  item.dataset.state = record.state = state;
  item.querySelector(".status").textContent = text;
}

export async function upload(file, folder, extra = {}) {
  const item = row(file);
  const controller = new AbortController();
  const record = { name: file.name, state: "uploading", progress: [], flow: null, file: null, error: null, controller };
  window.demoUploads.push(record);
  item.querySelector(".cancel").onclick = () => controller.abort();
  const bar = item.querySelector("progress");
  show(item, record, "uploading", "asking the relay for an upload URL…");
  try {
    const descriptor = await uploadFile(file, {
      relayUrl, getAuthHeaders, filePath: folder || undefined, signal: controller.signal,
      waitUntilReady: "if-supported",
      onProgress: ({ loaded, total, flow }) => {
        record.flow = flow;
        record.progress.push(loaded);
        bar.value = total ? (100 * loaded) / total : 100;
        show(item, record, "uploading", `${flow === "resumable" ? "resumable (TUS)" : "single PUT"}: ${loaded} / ${total} bytes`);
      },
      onStateChange: (state) => state === "processing" && show(item, record, "processing", "uploaded; Wix is processing…"),
      ...extra,
    });
    record.file = descriptor;
    bar.value = 100;
    const pending = descriptor.operationStatus !== "READY";
    // Without the relay's statusUrl the page cannot follow Wix's processing: it says so.
    show(item, record, "ready", `Wix file ${descriptor.id}${pending ? ` (Wix reports ${descriptor.operationStatus}; the relay gave no statusUrl to follow)` : ""}`);
    item.dataset.operationStatus = descriptor.operationStatus || "";
    const link = item.querySelector(".url");
    link.href = link.textContent = descriptor.url || "";
    link.hidden = !descriptor.url;
    if (descriptor.url && (/^image$/i.test(descriptor.mediaType || "") || file.type.startsWith("image/"))) {
      const preview = item.querySelector(".preview");
      preview.src = descriptor.url;
      preview.hidden = false;
    }
  } catch (error) {
    record.error = { code: error.code, status: error.status, requestId: error.requestId, message: error.message };
    item.dataset.code = error.code || "";
    show(item, record, "error", `${error.code}: ${error.message}${error.requestId ? ` (request ${error.requestId})` : ""}`);
  } finally {
    item.querySelector(".cancel").hidden = true;
  }
  return record;
}
window.demoUpload = upload;

function start(files) {
  const folder = document.getElementById("folder").value.trim();
  for (const file of files) upload(file, folder);
}

document.getElementById("files").addEventListener("change", (event) => {
  start([...event.target.files]);
  event.target.value = "";
});
drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (event) => {
  event.preventDefault();
  drop.classList.remove("over");
  start([...event.dataTransfer.files]);
});
