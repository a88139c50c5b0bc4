// One sleep for the whole program. 0 or less yields to the event loop once (setImmediate), so a
// loop that sleeps never starves timers, signals or I/O.
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => (ms > 0 ? setTimeout(resolve, ms) : setImmediate(resolve)));
