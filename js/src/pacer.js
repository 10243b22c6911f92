// How often streamed text may show: as often as every MIN_MS, less often when the page's frames
// or the frames received in between are expensive, so that receiving and showing a long answer
// keep to a small share of the main thread.

/** Fastest cadence: 25 frames a second, when frames are cheap. */
const MIN_MS = 40;
/** Slowest cadence: text still moves several times a second on a slow or busy page. */
const MAX_MS = 160;
/** Share of the main thread that receiving and showing streamed text may take. */
const BUDGET = 0.05;
/** Weight of the newest measured frame in the running estimate of a frame's cost. */
const WEIGHT = 0.25;
/** One frame in this many is measured (each measure costs a task of its own). */
const SAMPLE_EVERY = 4;

export class TextPacer {
  constructor() {
    /** Running estimate of the main-thread ms one frame of ours costs (script to commit). */
    this.cost = 0;
    this.shownAt = -Infinity;
    this.measuredFrom = -1;
    this.frames = 0;
    /** Running estimate of the ms one frame received costs: its host sends one per frame
     * shown (it paces the text to the cadence it is told), so each counts in the budget. */
    this.receiving = 0;
    // A message posted from a frame's callback runs once that frame's rendering is done.
    this.channel = new MessageChannel();
    this.channel.port1.onmessage = () => {
      this.cost += WEIGHT * (performance.now() - this.measuredFrom - this.cost);
      this.measuredFrom = -1;
    };
  }

  /** Ms between two frames that show streamed text. */
  get interval() {
    return Math.min(MAX_MS, Math.max(MIN_MS, (this.cost + this.receiving) / BUDGET));
  }

  /**
   * Ms until streamed text may show again (<= 0: now).
   * @param {number} now
   */
  wait(now) {
    return this.shownAt + this.interval - now;
  }

  /**
   * A frame was requested at `now`: the next interval counts from here, not from the frame, so
   * text arriving at a steady pace slower than the interval never waits for a timer.
   * @param {number} now
   */
  requested(now) {
    this.shownAt = now;
  }

  /**
   * Streamed text took `ms` of the main thread to receive (it counts in the budget too).
   * @param {number} ms
   */
  received(ms) {
    this.receiving += WEIGHT * (ms - this.receiving);
  }

  /** Call at the start of a frame's work: its cost is taken when the frame is done. */
  measure() {
    if (this.measuredFrom >= 0 || this.frames++ % SAMPLE_EVERY) return;
    this.measuredFrom = performance.now();
    this.channel.port2.postMessage(null);
  }

  close() {
    this.channel.port1.close();
  }
}
