import { describe, expect, it } from 'vitest';
import { isJsonMediaType, isMediaRange, matchMediaType, parseMediaType } from './media-type.js';

describe('media types by the rules', () => {
  it('parses type and subtype case-insensitively, ignoring parameters; refuses what is not a media type', () => {
    expect(parseMediaType('Application/HAL+JSON; charset=utf-8')).toEqual({ type: 'application', subtype: 'hal+json' });
    expect(parseMediaType('json')).toBeUndefined();
    expect(parseMediaType('*/json')).toBeUndefined();
    expect(parseMediaType('')).toBeUndefined();
  });

  it('matches ranges, parameters and case, the most specific declaration winning', () => {
    expect(matchMediaType(['*/*'], 'text/csv')).toBe('*/*');
    expect(matchMediaType(['application/*'], 'application/pdf')).toBe('application/*');
    expect(matchMediaType(['application/*'], 'text/plain')).toBeUndefined();
    expect(matchMediaType(['application/json'], 'application/json; charset=utf-8')).toBe('application/json');
    expect(matchMediaType(['application/json; charset=utf-8'], 'APPLICATION/JSON')).toBe('application/json; charset=utf-8');
    expect(matchMediaType(['*/*', 'application/*', 'application/json'], 'application/json')).toBe('application/json');
    expect(matchMediaType(['*/*', 'application/*'], 'application/xml')).toBe('application/*');
    expect(matchMediaType(['application/json'], 'application/hal+json')).toBeUndefined();
    expect(matchMediaType(['*/*'], 'not a type')).toBeUndefined();
  });

  it('reads +json suffixes as JSON, and knows a range', () => {
    expect(['application/json', 'application/problem+json', 'application/vnd.bank+json; charset=utf-8', 'text/json'].map(isJsonMediaType)).toEqual([true, true, true, true]);
    expect(['application/xml', '*/*', 'application/jose+jwe'].map(isJsonMediaType)).toEqual([false, false, false]);
    expect(['*/*', 'application/*', 'application/json'].map(isMediaRange)).toEqual([true, true, false]);
  });
});
