/**
 * A failed ARM call reaches apply and restore as a typed error (model/live-errors.ts), made from
 * the HTTP status in one place (azure/arm-errors.ts), with the explained message kept.
 */
import { explainArmError } from '../../src/azure/arm-errors.js';
import { Conflict, Forbidden, LiveError, NotFound, PreconditionFailed, Rejected } from '../../src/model/live-errors.js';

const target = { subscriptionId: 'sub', resourceGroup: 'rg', serviceName: 'apim', armEndpoint: 'https://management.azure.com' };
const restError = (statusCode: number, code: string, message = 'ARM said no') => Object.assign(new Error(message), { name: 'RestError', statusCode, code });

test.each([
  [412, 'PreconditionFailed', PreconditionFailed],
  [404, 'ResourceNotFound', NotFound],
  [403, 'AuthorizationFailed', Forbidden],
  [409, 'Conflict', Conflict],
  [400, 'ValidationError', Rejected],
])('HTTP %i becomes %s', (status, code, Kind) => {
  const e = explainArmError(restError(status, code), 'PUT apis/a/policies/policy', target as never, 'write');
  expect(e).toBeInstanceOf(Kind);
  expect(e).toBeInstanceOf(LiveError);
  expect(e.message).toContain('PUT apis/a/policies/policy');
  expect((e as unknown as { statusCode: number }).statusCode).toBe(status);
  // Explained once: explaining it again changes nothing.
  expect(explainArmError(e, 'again', target as never, 'write')).toBe(e);
});

test('a status without a typed meaning stays a LiveError that says what ARM answered', () => {
  const e = explainArmError(restError(502, 'BadGateway'), 'GET policies/policy', target as never, 'read');
  expect(e).toBeInstanceOf(LiveError);
  expect(e).not.toBeInstanceOf(PreconditionFailed);
  expect(e.message).toBe('GET policies/policy: ARM answered 502 BadGateway: ARM said no');
});
