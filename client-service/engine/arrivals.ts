/**
 * Poisson arrivals for the open loop: exponential gaps with mean 1/rate. A seed makes a schedule
 * repeatable (mulberry32; quality is ample for inter-arrival times).
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Gap to the next arrival in ms. `1 - u` keeps log away from 0. */
export function exponentialGapMs(ratePerSecond: number, random: () => number): number {
  return (-Math.log(1 - random()) / ratePerSecond) * 1000;
}
