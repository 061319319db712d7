// Runs an async function for each new input and keeps only the newest answer: when the user
// types quickly, a slow answer for an old value must never overwrite the answer for the new one.
export function latestOnly<I, O>(run: (input: I) => Promise<O>, apply: (output: O) => void) {
  let generation = 0;
  return async (input: I): Promise<void> => {
    const mine = ++generation;
    const output = await run(input);
    if (mine === generation) apply(output);
  };
}
