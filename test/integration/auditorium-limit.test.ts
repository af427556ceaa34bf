import { randomUUID } from 'node:crypto';
import { AuditoriumsDocument, CreateAuditoriumDocument } from '../../client/generated/graphql';
import { MAX_AUDITORIUMS } from '../../src/booking/create-auditorium';
import { startTestApp, type TestApp, uniqueUser } from '../support/test-app';

// A database of its own: this test fills it up to the limit.
describe('the number of auditoriums', () => {
  let testApp: TestApp;
  let admin: string;

  beforeAll(async () => {
    testApp = await startTestApp();
    admin = await testApp.token(uniqueUser('admin'), { admin: true });
  });

  afterAll(async () => {
    await testApp.stop();
  });

  const create = (name: string) =>
    testApp.graphql(
      CreateAuditoriumDocument,
      { input: { name, legend: [{ symbol: 's', category: 'STANDARD' }], rows: ['ss'] } },
      admin,
    );

  it(`stops at ${MAX_AUDITORIUMS}, even when the last ones are created at once (the list is costed at that size)`, async () => {
    for (let index = 0; index < MAX_AUDITORIUMS - 5; index += 1) {
      expect((await create(`Hall ${index}`)).errors).toBeUndefined();
    }
    // Ten concurrent creations for the last five places: exactly five win.
    const racing = await Promise.all(Array.from({ length: 10 }, () => create(`Hall ${randomUUID()}`)));
    const refused = racing.filter((response) => response.errors);
    expect(refused).toHaveLength(5);
    for (const response of refused) {
      expect(response.errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'name' });
    }
    const listed = await testApp.graphql(AuditoriumsDocument, {});
    expect(listed.data?.auditoriums).toHaveLength(MAX_AUDITORIUMS);
  });
});
