/**
 * Response processors for Berlin Group NextGenPSD2 answers: each reads one answer, checks the fields the gateway
 * relies on and names the field when it is missing or wrong (`bank bg answered createConsent without consentId`).
 * Status words go through the bank's `statusNames` map first (a bank spelling `finalized` for `finalised`).
 */
import { BankgateError } from '../../errors/bankgate-error.js';
import { bankErrorToProblem } from '../../surface/bank-error.js';
import type { OperationResponse, ScaChallenge, ScaMethod } from '../protocol.js';

/** The standard's scaStatus words (1.3.9): what a normalised status is one of. */
export const SCA_STATUSES = ['received', 'psuIdentified', 'psuAuthenticated', 'scaMethodSelected', 'started', 'unconfirmed', 'finalised', 'failed', 'exempted'] as const;
export type ScaStatus = (typeof SCA_STATUSES)[number];

export const CONSENT_STATUSES = ['received', 'rejected', 'valid', 'revokedByPsu', 'expired', 'terminatedByTpp', 'partiallyAuthorised'] as const;
export type ConsentStatusWord = (typeof CONSENT_STATUSES)[number];

/** ISO 20022 transaction statuses after which nothing changes any more. */
export const FINAL_TRANSACTION_STATUSES: ReadonlySet<string> = new Set(['ACCC', 'ACSC', 'RJCT', 'CANC']);

type Json = Record<string, unknown>;

/** What a Berlin Group answer about an SCA carries (creation, start of an authorisation, an update, a status read). */
export interface ScaAnswer {
  readonly scaStatus?: ScaStatus;
  readonly links: Readonly<Record<string, string>>;
  readonly psuMessage?: string;
  readonly authorisationId?: string;
  readonly scaMethods?: readonly ScaMethod[];
  readonly chosenScaMethod?: ScaMethod;
  readonly challengeData?: ScaChallenge;
}

/** Reads a Berlin Group answer's body: an object, else the bank's answer is unusable. */
export function bodyOf(bank: string, response: OperationResponse): Json {
  const body = response.json;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new BankgateError('bank_response_invalid', { status: 502, bank, detail: `bank ${bank} answered ${response.operationId} (HTTP ${response.status}) without a JSON object` });
  }
  return body as Json;
}

/** Throws the bank's error as a problem unless the status is one of `ok`. */
export function expectStatus(bank: string, response: OperationResponse, ok: readonly number[]): void {
  if (!ok.includes(response.status)) throw bankErrorToProblem(bank, response.operationId, response.response);
}

/** The Berlin Group error codes of an answer (`tppMessages[].code`). */
export function tppCodes(response: OperationResponse): string[] {
  const body = response.json as { tppMessages?: Array<{ code?: unknown }> } | undefined;
  return Array.isArray(body?.tppMessages) ? body.tppMessages.map((m) => String(m?.code ?? '')).filter(Boolean) : [];
}

/** `_links` as name → href (HAL `{ href }` objects; a bank's bare strings accepted). */
export function linksOf(body: Json): Record<string, string> {
  const links: Record<string, string> = {};
  const raw = body._links;
  if (raw === null || typeof raw !== 'object') return links;
  for (const [name, value] of Object.entries(raw as Json)) {
    const href = typeof value === 'string' ? value : (value as { href?: unknown } | null)?.href;
    if (typeof href === 'string' && href.length > 0) links[name] = href;
  }
  return links;
}

/** A status word through the bank's map; undefined when absent. */
export function normalise(word: unknown, names: Readonly<Record<string, string>>): string | undefined {
  if (typeof word !== 'string' || word.length === 0) return undefined;
  return names[word] ?? word;
}

export function readScaAnswer(bank: string, response: OperationResponse, names: Readonly<Record<string, string>>): ScaAnswer {
  const body = bodyOf(bank, response);
  const scaStatus = normalise(body.scaStatus, names);
  if (scaStatus !== undefined && !(SCA_STATUSES as readonly string[]).includes(scaStatus)) {
    throw new BankgateError('bank_response_invalid', { status: 502, bank, detail: `bank ${bank} answered ${response.operationId} with scaStatus ${JSON.stringify(scaStatus).slice(0, 40)}, which Berlin Group does not define (map it with statusNames)` });
  }
  return {
    links: linksOf(body),
    ...(scaStatus ? { scaStatus: scaStatus as ScaStatus } : {}),
    ...(typeof body.psuMessage === 'string' ? { psuMessage: body.psuMessage.slice(0, 500) } : {}),
    ...(typeof body.authorisationId === 'string' ? { authorisationId: body.authorisationId } : {}),
    ...(Array.isArray(body.scaMethods) ? { scaMethods: body.scaMethods.map(readMethod).filter((m): m is ScaMethod => m !== undefined) } : {}),
    ...(readMethod(body.chosenScaMethod) ? { chosenScaMethod: readMethod(body.chosenScaMethod)! } : {}),
    ...(body.challengeData && typeof body.challengeData === 'object' ? { challengeData: readChallenge(body.challengeData as Json) } : {}),
  };
}

/** The fields of a required string member, or a 502 naming it. */
export function requiredString(bank: string, response: OperationResponse, body: Json, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value.length === 0) {
    throw new BankgateError('bank_response_invalid', { status: 502, bank, detail: `bank ${bank} answered ${response.operationId} without ${field}` });
  }
  return value;
}

/** `GET /v1/consents/{id}`: what the bank granted. */
export interface ConsentInformation {
  readonly consentStatus: string;
  readonly validUntil?: string;
  readonly frequencyPerDay?: number;
  readonly recurringIndicator?: boolean;
}

export function readConsentInformation(bank: string, response: OperationResponse, names: Readonly<Record<string, string>>): ConsentInformation {
  const body = bodyOf(bank, response);
  const consentStatus = normalise(body.consentStatus, names);
  if (!consentStatus) throw new BankgateError('bank_response_invalid', { status: 502, bank, detail: `bank ${bank} answered ${response.operationId} without consentStatus` });
  return {
    consentStatus,
    ...(typeof body.validUntil === 'string' ? { validUntil: body.validUntil } : {}),
    ...(typeof body.frequencyPerDay === 'number' ? { frequencyPerDay: body.frequencyPerDay } : {}),
    ...(typeof body.recurringIndicator === 'boolean' ? { recurringIndicator: body.recurringIndicator } : {}),
  };
}

function readMethod(value: unknown): ScaMethod | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const method = value as Json;
  if (typeof method.authenticationMethodId !== 'string') return undefined;
  return {
    authenticationMethodId: method.authenticationMethodId,
    ...(typeof method.authenticationType === 'string' ? { authenticationType: method.authenticationType } : {}),
    ...(typeof method.name === 'string' ? { name: method.name } : {}),
    ...(typeof method.explanation === 'string' ? { explanation: method.explanation } : {}),
  };
}

function readChallenge(raw: Json): ScaChallenge {
  return {
    ...(typeof raw.otpMaxLength === 'number' ? { otpMaxLength: raw.otpMaxLength } : {}),
    ...(raw.otpFormat === 'characters' || raw.otpFormat === 'integer' ? { otpFormat: raw.otpFormat } : {}),
    ...(typeof raw.additionalInformation === 'string' ? { additionalInformation: raw.additionalInformation.slice(0, 500) } : {}),
    ...(typeof raw.image === 'string' ? { image: raw.image } : {}),
    ...(typeof raw.imageLink === 'string' ? { imageLink: raw.imageLink } : {}),
    ...(Array.isArray(raw.data) ? { data: raw.data.filter((d): d is string => typeof d === 'string') } : {}),
  };
}
