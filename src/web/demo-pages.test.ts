import { Script } from 'node:vm';
import { DEMO_COMMON_SCRIPT } from './demo-common-script';
import { escapeHtml } from './demo-html';
import { SEAT_MAP_SCRIPT } from './seat-map-script';
import { seatMapPage } from './seat-map-page';
import { SESSIONS_SCRIPT } from './sessions-script';
import { sessionsPage } from './sessions-page';

describe('demo pages', () => {
  const scripts = { DEMO_COMMON_SCRIPT, SEAT_MAP_SCRIPT, SESSIONS_SCRIPT };

  it.each(Object.entries(scripts))('%s is valid browser JavaScript', (_name, source) => {
    expect(() => new Script(source)).not.toThrow();
  });

  it.each(Object.entries(scripts))('%s writes text into the page, never HTML', (_name, source) => {
    // API data (movie names, rooms, categories) is user input: textContent only.
    expect(source).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
  });

  it('has no inline script or style, so the Content-Security-Policy can forbid them', () => {
    for (const html of [sessionsPage(), seatMapPage('0190f2a4-8d1c-7c3e-9a5b-1f2e3d4c5b6a', true)]) {
      expect(html).not.toMatch(/<script>|<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son\w+=/);
    }
  });

  it('escapes text for HTML', () => {
    expect(escapeHtml(`<img src=x onerror="alert('1')">&`)).toBe(
      '&lt;img src=x onerror=&quot;alert(&#39;1&#39;)&quot;&gt;&amp;',
    );
  });
});
