import { describe, expect, it } from 'vitest';
import { isUiError, toUiError } from './api';

describe('toUiError', () => {
  it('keeps a UiError from the shell as it is', () => {
    const err = { code: 'invalid_input', message: 'm', hint: 'h', retryable: false, field: 'client-id', next: null };
    expect(isUiError(err)).toBe(true);
    expect(toUiError(err)).toBe(err);
  });

  it('wraps anything else in a generic internal error without echoing it', () => {
    const wrapped = toUiError('Command parse_instance not allowed by ACL secret=abc');
    expect(wrapped.code).toBe('internal');
    expect(wrapped.message).not.toContain('secret');
    expect(toUiError({ code: 'x' }).code).toBe('internal');
    expect(toUiError(null).code).toBe('internal');
  });
});
