import { isUuid, uuidv7 } from '../../src/infra/uuid';

describe('uuidv7', () => {
  it('makes RFC 9562 version 7 UUIDs carrying the current time', () => {
    const before = Date.now();
    const id = uuidv7();
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const milliseconds = parseInt(id.replace(/-/g, '').slice(0, 12), 16);
    expect(milliseconds).toBeGreaterThanOrEqual(before);
    expect(milliseconds).toBeLessThanOrEqual(Date.now() + 1);
  });

  it('sorts in creation order, even within one millisecond', () => {
    const ids = Array.from({ length: 10_000 }, () => uuidv7());
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('recognises canonical UUIDs only', () => {
    expect(isUuid(uuidv7())).toBe(true);
    expect(isUuid('7A4D2E4C-1B2A-4C3D-9E8F-0123456789AB')).toBe(true);
    expect(isUuid('not-a-uuid')).toBe(false);
    expect(isUuid(`${uuidv7()}x`)).toBe(false);
  });
});
