import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { toValidatorDialect } from './schema-dialect.js';

const compile = (schema: object) => new Ajv({ strict: false, allErrors: true, validateSchema: false }).compile(toValidatorDialect(schema));

describe('the OpenAPI 3.0 schema dialect, rewritten for the validator', () => {
  it('boolean exclusiveMinimum/exclusiveMaximum become the bounds they qualify', () => {
    const amount = compile({ type: 'number', minimum: 0, exclusiveMinimum: true, maximum: 10, exclusiveMaximum: true });
    expect([amount(0), amount(0.01), amount(9.99), amount(10)]).toEqual([false, true, true, false]);
    const inclusive = compile({ type: 'number', minimum: 0, exclusiveMinimum: false });
    expect(inclusive(0)).toBe(true);
  });

  it('nullable (and x-nullable) admit null, with or without a type, enums included', () => {
    expect(compile({ type: 'string', nullable: true })(null)).toBe(true);
    expect(compile({ type: 'string', enum: ['a'], nullable: true })(null)).toBe(true);
    expect(compile({ type: 'string', 'x-nullable': true })(null)).toBe(true);
    const untyped = compile({ nullable: true, allOf: [{ type: 'string', maxLength: 2 }] });
    expect([untyped(null), untyped('ab'), untyped('abc')]).toEqual([true, true, false]);
    expect(compile({ type: 'string' })(null)).toBe(false);
  });

  it('required true/false on a property: true joins the parent list, false is dropped; parameters keep theirs', () => {
    const payment = compile({ type: 'object', properties: { a: { type: 'string', required: true }, b: { type: 'string', required: false } } });
    expect([payment({ a: 'x' }), payment({ b: 'x' })]).toEqual([true, false]);
    expect(toValidatorDialect({ name: 'x', in: 'query', required: true, schema: { type: 'string' } })).toMatchObject({ required: true });
  });

  it('patterns written without the u flag in mind still compile, meaning the same', () => {
    const phone = compile({ type: 'string', pattern: '^\\+[0-9]{1,3}\\-[0-9()+\\-]{1,30}$' });
    expect([phone('+32-2(123)45'), phone('32-1')]).toEqual([true, false]);
  });

  it('leaves examples, enums and extensions alone, and never mutates its input', () => {
    const input = { type: 'object', example: { nullable: true, required: false }, 'x-ext': { exclusiveMinimum: true }, properties: { n: { type: 'integer', nullable: true } } };
    const copy = structuredClone(input);
    const out = toValidatorDialect(input) as typeof input;
    expect(input).toEqual(copy);
    expect(out.example).toEqual({ nullable: true, required: false });
    expect(out['x-ext']).toEqual({ exclusiveMinimum: true });
  });
});
