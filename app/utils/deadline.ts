/** Rejects when `promise` has not settled within `ms`: pages must not hang on a slow Stripe. */
export function withDeadline<T>(promise: Promise<T>, ms: number, what = "Stripe"): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
