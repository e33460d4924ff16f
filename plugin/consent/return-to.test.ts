import { describe, expect, it } from 'vitest';
import { BankgateError } from '../errors/bankgate-error.js';
import { checkReturnTo } from './return-to.js';

const refused = (returnTo: string, origins: string[] = ['https://app.example.com']) => {
  try {
    checkReturnTo(returnTo, origins, 'https://gw.example.com');
  } catch (error) {
    expect(error).toBeInstanceOf(BankgateError);
    return (error as BankgateError).code === 'bad_request' && (error as BankgateError).status === 400 ? (error as BankgateError).message : 'wrong error';
  }
  return undefined;
};

describe('returnTo', () => {
  it('accepts the allowed origins and the gateway own', () => {
    expect(checkReturnTo('https://app.example.com/done?x=1', ['https://app.example.com'], 'https://gw.example.com').pathname).toBe('/done');
    expect(checkReturnTo('https://gw.example.com/after', [], 'https://gw.example.com').origin).toBe('https://gw.example.com');
  });

  it('refuses other origins, look-alikes included, naming the config to change', () => {
    expect(refused('https://evil.example.net/')).toMatch(/returnToOrigins/);
    expect(refused('https://app.example.com.evil.net/')).toMatch(/not allowed/);
    expect(refused('https://app.example.com@evil.net/')).toMatch(/without user/);
    expect(refused('http://app.example.com/')).toMatch(/not allowed/);
    expect(refused('https://app.example.com:8443/')).toMatch(/not allowed/);
  });

  it('refuses what is no http(s) URL, and credentials in it', () => {
    expect(refused('/relative')).toMatch(/absolute/);
    expect(refused('javascript:alert(1)')).toMatch(/http\(s\)/);
    expect(refused('https://user:pw@app.example.com/')).toMatch(/without user/);
  });
});
