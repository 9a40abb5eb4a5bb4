import { RequestMatch } from '../src';

describe('RequestMatch.userAgent (issue 17: a mistake that passed silently)', () => {
  test('a plain word is refused: Istio matches the whole value, so it would match no real browser', () => {
    expect(() => RequestMatch.userAgent('iPhone')).toThrow(/userAgent pattern 'iPhone' is invalid: must be a regex for the whole User-Agent value .* use RequestMatch.userAgentContains\('iPhone'\)/);
    expect(() => RequestMatch.userAgent('.*iPhone.*')).not.toThrow();
  });

  test('userAgentContains escapes the text into a contains-regex', () => {
    const m = RequestMatch.userAgentContains('Mozilla/5.0 (iPhone');
    expect(JSON.stringify(m)).toContain('.*Mozilla/5\\\\.0 \\\\(iPhone.*');
    expect(() => RequestMatch.userAgentContains('')).toThrow(/userAgentContains text '' is invalid/);
  });
});
