// Assertions that stay on in production (STYLE.md: assert densely). A failed assertion
// is a bug in Corral, never a user error: user errors are values or ZooKeeperErrors.

export class AssertionError extends Error {
  override name = "AssertionError";
}

export function assert(condition: unknown, message = "assertion failed"): asserts condition {
  if (!condition) throw new AssertionError(message);
}

export function assertNever(value: never, what = "value"): never {
  throw new AssertionError(`unexpected ${what}: ${String(value)}`);
}
