import { randomUUID } from 'node:crypto';
import {
  AuditoriumDocument,
  AuditoriumsDocument,
  type CreateAuditoriumInput,
  CreateAuditoriumDocument,
} from '../../client/generated/graphql';
import { Auditorium } from '../../src/entities/auditorium.entity';
import { startTestApp, type TestApp, uniqueUser } from '../support/test-app';

/** A valid input with a unique name: two rows with a centre aisle, a wheelchair space. */
function auditoriumInput(overrides: Partial<CreateAuditoriumInput> = {}): CreateAuditoriumInput {
  return {
    name: `Hall ${randomUUID()}`,
    legend: [
      { symbol: 's', category: 'STANDARD' },
      { symbol: 'P', category: 'PREMIUM' },
      { symbol: 'w', category: 'STANDARD', kind: 'WHEELCHAIR' },
      { symbol: 'c', category: 'STANDARD', kind: 'COMPANION' },
    ],
    rows: ['wc.ss', 'PP.PP'],
    ...overrides,
  };
}

describe('auditoriums over HTTP', () => {
  let testApp: TestApp;
  let admin: string;

  beforeAll(async () => {
    testApp = await startTestApp();
    admin = await testApp.token(uniqueUser('admin'), { admin: true });
  });

  afterAll(async () => {
    await testApp.stop();
  });

  /** The names of every auditorium, as anyone reads them. */
  async function names(): Promise<string[]> {
    const response = await testApp.graphql(AuditoriumsDocument, {});
    expect(response.errors).toBeUndefined();
    return response.data!.auditoriums.map((auditorium) => auditorium.name);
  }

  it('creates one as an admin, and anyone lists it and reads it by id', async () => {
    const input = auditoriumInput({ name: '  Grande Sala  ' + randomUUID() });
    const created = await testApp.graphql(CreateAuditoriumDocument, { input }, admin);
    expect(created.errors).toBeUndefined();
    const auditorium = created.data!.createAuditorium;
    expect(auditorium).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      name: input.name.trim(),
      cleaningBufferMinutes: 15,
      categories: ['STANDARD', 'PREMIUM'],
      capacity: 8,
      rows: ['wc.ss', 'PP.PP'],
    });

    const read = await testApp.graphql(AuditoriumDocument, { id: auditorium.id.toUpperCase() });
    expect(read.data?.auditorium).toEqual(auditorium);
    const listed = await testApp.graphql(AuditoriumsDocument, {});
    expect(listed.data?.auditoriums).toContainEqual(auditorium);
  });

  it('keeps the rows as given and takes a cleaning buffer', async () => {
    const created = await testApp.graphql(
      CreateAuditoriumDocument,
      { input: auditoriumInput({ rows: [' ss ', 's..s'], cleaningBufferMinutes: 0 }) },
      admin,
    );
    expect(created.errors).toBeUndefined();
    expect(created.data!.createAuditorium).toMatchObject({
      rows: [' ss ', 's..s'],
      cleaningBufferMinutes: 0,
      categories: ['STANDARD'],
      capacity: 4,
    });
  });

  it('takes null as the default buffer and kind, and stores the legend the layout derives from', async () => {
    const input = auditoriumInput({
      cleaningBufferMinutes: null,
      legend: [{ symbol: 'x', category: ' VIP ', kind: null }],
      rows: ['x.x'],
    });
    const created = await testApp.graphql(CreateAuditoriumDocument, { input }, admin);
    expect(created.errors).toBeUndefined();
    const { id, cleaningBufferMinutes, categories } = created.data!.createAuditorium;
    expect({ cleaningBufferMinutes, categories }).toEqual({ cleaningBufferMinutes: 15, categories: ['VIP'] });
    const stored = await testApp.app.orm.em
      .fork()
      .findOneOrFail(Auditorium, { id }, { populate: ['legend'] });
    expect(stored.legend).toEqual([{ symbol: 'x', category: 'VIP', kind: 'STANDARD' }]);
  });

  it('answers NOT_FOUND for an unknown id and BAD_USER_INPUT for a malformed one', async () => {
    const id = randomUUID();
    const unknown = await testApp.graphql(AuditoriumDocument, { id });
    expect(unknown.errors?.[0].extensions).toMatchObject({ code: 'NOT_FOUND', id });
    expect(unknown.data).toEqual({ auditorium: null });

    const malformed = await testApp.graphql(AuditoriumDocument, { id: 'hall-1' });
    expect(malformed.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
  });

  it('lets only admins create one', async () => {
    const customer = await testApp.token(uniqueUser('customer'));
    const input = auditoriumInput();
    const forbidden = await testApp.graphql(CreateAuditoriumDocument, { input }, customer);
    expect(forbidden.errors?.[0].extensions.code).toBe('FORBIDDEN');
    const anonymous = await testApp.graphql(CreateAuditoriumDocument, { input });
    expect(anonymous.errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(await names()).not.toContain(input.name);
  });

  it('refuses a name already taken, creating nothing', async () => {
    const input = auditoriumInput();
    expect((await testApp.graphql(CreateAuditoriumDocument, { input }, admin)).errors).toBeUndefined();
    const before = await names();

    const again = await testApp.graphql(
      CreateAuditoriumDocument,
      { input: { ...input, name: ` ${input.name} `, rows: ['sss'] } },
      admin,
    );
    expect(again.errors?.[0].message).toBe(`An auditorium named '${input.name}' already exists.`);
    expect(again.errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'name' });
    expect(await names()).toEqual(before);
  });

  it('lets exactly one of concurrent creations of one name win', async () => {
    const input = auditoriumInput();
    const results = await Promise.all(
      Array.from({ length: 5 }, () => testApp.graphql(CreateAuditoriumDocument, { input }, admin)),
    );
    expect(results.filter((result) => result.data?.createAuditorium)).toHaveLength(1);
    const losers = results.filter((result) => result.errors);
    expect(losers).toHaveLength(4);
    for (const loser of losers) {
      expect(loser.errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'name' });
    }
    expect((await names()).filter((name) => name === input.name)).toHaveLength(1);
  });

  it.each<[string, Partial<CreateAuditoriumInput>, string, Record<string, unknown>]>([
    [
      'an unknown symbol',
      { rows: ['ss', 'ss', 'ssssssQ'] },
      "Row C, column 7: unknown symbol 'Q'.",
      { field: 'rows', row: 'C', column: 7 },
    ],
    [
      'a symbol of two characters',
      { legend: [{ symbol: 'ss', category: 'STANDARD' }] },
      "Legend symbol 'ss' must be exactly one character.",
      { field: 'legend', symbol: 'ss' },
    ],
    [
      'a gap as a symbol',
      { legend: [{ symbol: '.', category: 'STANDARD' }] },
      'Legend symbol \'.\' is reserved for "no seat".',
      { field: 'legend', symbol: '.' },
    ],
    [
      'a symbol twice',
      {
        legend: [
          { symbol: 's', category: 'STANDARD' },
          { symbol: 's', category: 'PREMIUM' },
        ],
      },
      "Legend symbol 's' appears more than once.",
      { field: 'legend', symbol: 's' },
    ],
    ['no rows', { rows: [] }, 'rows must have at least one row.', { field: 'rows' }],
    ['a row with no seat', { rows: ['ss', '. .'] }, 'Row B has no seat.', { field: 'rows', row: 'B' }],
    [
      'more than 100 rows',
      { rows: Array.from({ length: 101 }, () => 's') },
      'rows may have at most 100 rows, got 101.',
      { field: 'rows' },
    ],
    [
      'more than 100 columns',
      { rows: ['s'.repeat(101)] },
      'Row A has more than 100 characters.',
      { field: 'rows', row: 'A' },
    ],
    ['a blank name', { name: '   ' }, 'name must be 1-100 visible characters, not blank.', { field: 'name' }],
    [
      'a name too long',
      { name: 'n'.repeat(101) },
      'name must be 1-100 visible characters, not blank.',
      { field: 'name' },
    ],
    [
      'a name with a NUL character (PostgreSQL could not store it)',
      { name: 'Sala\u0000 1' },
      'name must be 1-100 visible characters, not blank.',
      { field: 'name' },
    ],
    [
      'a NUL character as a symbol',
      { legend: [{ symbol: '\u0000', category: 'STANDARD' }], rows: ['\u0000'] },
      "Legend symbol '\u0000' must be a visible character.",
      { field: 'legend', symbol: '\u0000' },
    ],
    [
      'a lone surrogate as a symbol',
      { legend: [{ symbol: '\ud800', category: 'STANDARD' }], rows: ['\ud800'] },
      "Legend symbol '\ud800' must be a visible character.",
      { field: 'legend', symbol: '\ud800' },
    ],
    [
      'a long symbol, echoed cut short',
      { legend: [{ symbol: 'x'.repeat(5_000), category: 'STANDARD' }] },
      "Legend symbol 'xxxxxxxxxx…' must be exactly one character.",
      { field: 'legend', symbol: 'xxxxxxxxxx…' },
    ],
    [
      'a negative cleaning buffer',
      { cleaningBufferMinutes: -1 },
      'cleaningBufferMinutes must be between 0 and 240.',
      { field: 'cleaningBufferMinutes' },
    ],
    [
      'a cleaning buffer over 240 minutes',
      { cleaningBufferMinutes: 241 },
      'cleaningBufferMinutes must be between 0 and 240.',
      { field: 'cleaningBufferMinutes' },
    ],
  ])('refuses %s as BAD_USER_INPUT, creating nothing', async (_kind, overrides, message, details) => {
    const before = await names();
    const input = auditoriumInput(overrides);
    const refused = await testApp.graphql(CreateAuditoriumDocument, { input }, admin);
    expect(refused.data).toBeNull();
    expect(refused.errors?.[0].message).toBe(message);
    expect(refused.errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', ...details });
    expect(await names()).toEqual(before);
  });
});
