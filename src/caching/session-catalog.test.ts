import { type Session } from '../entities/session.entity';
import { SessionCatalog } from './session-catalog';

function session(id: string): Session {
  return { id, movie: `Movie ${id}` } as Session;
}

describe('SessionCatalog', () => {
  it('reads a session once, then answers it from memory', async () => {
    const catalog = new SessionCatalog();
    const read = jest.fn((id: string) => Promise.resolve(session(id)));
    const first = await catalog.load('a', read);
    const again = await catalog.load('a', read);
    expect(again).toBe(first);
    expect(read).toHaveBeenCalledTimes(1);
  });

  it('keeps nothing for a session that does not exist', async () => {
    const catalog = new SessionCatalog();
    const read = jest.fn(() => Promise.resolve(null));
    expect(await catalog.load('missing', read)).toBeNull();
    expect(await catalog.load('missing', read)).toBeNull();
    expect(read).toHaveBeenCalledTimes(2);
    expect(catalog.size).toBe(0);
  });

  it('stays within its limit, the oldest out first', async () => {
    const catalog = new SessionCatalog(2);
    for (const id of ['a', 'b', 'c']) {
      catalog.remember(session(id));
    }
    expect(catalog.size).toBe(2);
    const read = jest.fn((id: string) => Promise.resolve(session(id)));
    await catalog.load('b', read);
    await catalog.load('c', read);
    expect(read).not.toHaveBeenCalled();
    await catalog.load('a', read);
    expect(read).toHaveBeenCalledWith('a');
  });
});
