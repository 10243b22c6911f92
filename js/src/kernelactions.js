// The notebook panel's side of the per-message actions: requests go to the kernel as custom
// messages, and the actions follow the kernel's messages to know what the conversation holds.

/** @typedef {import("./actions.js").MessageActions} MessageActions */
/** @typedef {import("./actions.js").ActionRequests} ActionRequests */

/**
 * Actions performed by the kernel.
 * @param {(content: Record<string, unknown>) => void} send
 * @returns {ActionRequests}
 */
export function kernelRequests(send) {
  return {
    edit: (messageId, text) => send({ type: "edit", message_id: messageId, text }),
    rewind: (messageId) => send({ type: "rewind", message_id: messageId }),
    annotate: (messageId, rating, note) => send({ type: "annotate", message_id: messageId, rating, note }),
    // The panel switches to the session; where in it the hit was is not sent.
    open: (sessionId) => send({ type: "switch", session_id: sessionId }),
  };
}

/**
 * Feed one custom message of the kernel to the actions.
 * @param {MessageActions} actions
 * @param {any} msg
 */
export function followKernel(actions, msg) {
  if (msg.type === "reset") actions.reset(msg.messages ?? []);
  else if (msg.type === "older") actions.prepend(msg.messages ?? []);
  else if (msg.type === "frame") actions.applyOps(msg.ops ?? []);
  else if (msg.type === "annotation") actions.setAnnotation(msg.message_id, msg.annotation ?? null);
  else if (msg.type === "search_results") actions.showResults(msg.query ?? "", msg.hits ?? []);
}
