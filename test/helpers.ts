// What the tests of refused inputs share.
import { expect } from 'vitest';
import { CRFInputError } from '../src/index.js';

/**
 * The CRFInputError a call throws or its promise rejects with (callers of the async ops see both
 * alike); the test fails when it gives anything else, or nothing.
 */
export async function inputError(call: Promise<unknown> | (() => unknown)): Promise<CRFInputError> {
  let err: unknown = null;
  try {
    await (typeof call === 'function' ? call() : call);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(CRFInputError);
  return err as CRFInputError;
}
