// Files the kernel hands over (e.g. `/export pdf`) are saved through a temporary object URL.

/**
 * Save the bytes of a `download` message as a file.
 * @param {{filename?: string, media_type?: string}} msg
 * @param {(ArrayBuffer | ArrayBufferView)[] | undefined} buffers
 */
export function saveDownload(msg, buffers) {
  const parts = /** @type {BlobPart[]} */ (buffers ?? []);
  const blob = new Blob(parts, { type: msg.media_type || "application/octet-stream" });
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = msg.filename || "conversation";
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
