import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSchema, parse, validate } from 'graphql';
import { IDE_EXAMPLE_TABS, ideExampleTabsScriptLiteral } from './graphql-ide-examples';

describe('GraphQL IDE example tabs', () => {
  const schema = buildSchema(readFileSync(join(__dirname, '../schema/schema.graphql'), 'utf8'));

  it('are valid operations of the served schema', () => {
    for (const tab of IDE_EXAMPLE_TABS) {
      const errors = validate(schema, parse(tab.query)).map((error) => error.message);
      expect({ query: tab.query, errors }).toEqual({ query: tab.query, errors: [] });
      expect(() => JSON.parse(tab.headers) as unknown).not.toThrow();
      if (tab.variables) {
        expect(() => JSON.parse(tab.variables) as unknown).not.toThrow();
      }
    }
  });

  it('show the cinema operations: auditorium, schedule, reserve with prices, refund', () => {
    const operations = IDE_EXAMPLE_TABS.map((tab) => /(?:query|mutation) (\w+)/.exec(tab.query)?.[1]);
    expect(operations).toEqual(
      expect.arrayContaining(['CreateAuditorium', 'ScheduleSession', 'Reserve', 'RefundSale']),
    );
  });

  it('embed in a script element without closing it', () => {
    const literal = ideExampleTabsScriptLiteral();
    expect(literal).not.toMatch(/<|>/);
    expect(JSON.parse(literal)).toEqual(IDE_EXAMPLE_TABS);
  });
});
