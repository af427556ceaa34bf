import { startTestApp, type TestApp } from '../support/test-app';

describe('migrations', () => {
  let testApp: TestApp;

  beforeAll(async () => {
    testApp = await startTestApp();
  });

  afterAll(async () => {
    await testApp.stop();
  });

  it('are applied and agree with the entities (run `npm run migration:create` after changing one)', async () => {
    const migrator = testApp.app.orm.migrator;
    expect(await migrator.getPending()).toEqual([]);
    expect((await migrator.getExecuted()).length).toBeGreaterThan(0);
    expect(await migrator.checkSchema()).toBe(false);
  });

  it('let the database itself refuse a second live reservation of a seat', async () => {
    const em = testApp.app.orm.em.fork();
    const [{ indexdef }] = await em.execute<{ indexdef: string }[]>(
      `select indexdef from pg_indexes where indexname = 'reservation_seat_live_seat_unique'`,
    );
    expect(indexdef).toMatch(/UNIQUE INDEX .* \(seat_id\) WHERE live/);
  });
});
