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

/** A small batch the input tests share: B = 2, T = 3, K = 3, nested, and gold tags for it. */
export const SMALL_EMISSIONS = [
  [
    [0.5, -1, 2],
    [0, 0.25, 1],
    [1, 1, -2],
  ],
  [
    [0.1, 0.2, 0.3],
    [3, -3, 0],
    [0, 0, 0.5],
  ],
];
export const SMALL_TAGS = [
  [0, 1, 2],
  [2, 2, 0],
];
