import type { Fault } from './fault-run.js';

// Each subscriber retries every 250 ms: once the Sentinels are back, they listen again within a second or two.
const RESUBSCRIBE_TIMEOUT_MS = 10_000;

/**
 * The whole stack stopped under load (every tier, newest first) and a new one started from the same config
 * and data; the load goes on meeting refused connections meanwhile. The downtime is the stop plus the start,
 * until NGINX serves through an API instance again. The invariants then show whether the data came back.
 */
export const restartStack: Fault = async (ctx, run) => {
  run.act('stop the whole stack under load');
  await ctx.deployment.restartWhole((stoppedMs) => {
    run.act(`stopped in ${(stoppedMs / 1000).toFixed(1)} s; start a new stack from the same config and data`);
  });
  run.recovery = { process: 'stack', readyMs: Date.now() - run.faultAt };
  run.act(`the stack serves again, ${run.since()} after the stop began`);
  // The same subscribers carry on: their Sentinels are back on the same ports with the same password.
  await ctx.events.listening(RESUBSCRIBE_TIMEOUT_MS).then(
    () => run.act('every Sentinel event subscription listens again'),
    (err: Error) => run.notes.push(`Sentinel events may be missing from here on: ${err.message}`),
  );
};
