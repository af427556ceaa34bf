/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMilliseconds`. */
export async function eventually<Value>(
  check: () => Promise<Value | undefined | false> | Value | undefined | false,
  timeoutMilliseconds = 10_000,
  description = 'condition',
): Promise<Value> {
  const deadline = Date.now() + timeoutMilliseconds;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`Timed out waiting for ${description}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export const sleep = (milliseconds: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, milliseconds));
