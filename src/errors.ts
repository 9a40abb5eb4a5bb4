import { Construct } from 'constructs';

/**
 * The error every construct of this library throws for bad input.
 *
 * Its message names the construct path, the field, the bad value and what is allowed, e.g.
 * `mesh-system/mesh: revision 'Rev_1' is invalid: must be a DNS label (lowercase letters, digits and '-', at most 63 characters)`.
 * The value is shown escaped: control characters, CR/LF, bidirectional and other invisible characters appear as
 * escapes (`\n`, `\u{202E}`), so a message can neither forge a second line nor hide what was given; NaN and
 * Infinity appear as such.
 *
 * jsii cannot model subclasses of Error, so this class is not part of the jsii API (src/index.ts): TypeScript users
 * import it from 'cdk8s-mesh/lib/src/errors'; every language can recognise it by `error.name === 'MeshValidationError'`.
 */
export class MeshValidationError extends Error {
  /**
   * Where the input was given: the construct path, or, for a value made by a static factory before any construct
   * saw it, the factory (`ExternalService`, `JwtRule`); `inScope` prefixes such errors with the construct path.
   */
  public readonly constructPath: string;
  /** The field (prop) that holds the bad value. */
  public readonly field: string;
  /** The bad value, rendered and escaped as in the message. */
  public readonly value: string;
  /** What is allowed instead. */
  public readonly allowed: string;

  constructor(constructPath: string, field: string, value: string, allowed: string) {
    const path = escapeText(constructPath);
    super(`${path ? path + ': ' : ''}${escapeText(field)} ${escapeText(value)} is invalid: ${escapeText(allowed)}`);
    this.name = 'MeshValidationError';
    this.constructPath = path;
    this.field = escapeText(field);
    this.value = escapeText(value);
    this.allowed = escapeText(allowed);
    Object.setPrototypeOf(this, MeshValidationError.prototype);
  }
}

// C0 and C1 controls and DEL; bidirectional controls (embeddings, overrides, isolates, marks); zero-width and
// other invisible or blank-looking characters (soft hyphen, joiners, word joiner, invisible operators, BOM,
// Mongolian vowel separator, Hangul fillers, line/paragraph separators, variation selectors, tag characters);
// lone surrogates. Each is shown as an escape.
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb]|\udb40[\udc00-\udcff]|[\udb40-\udb43][\udd00-\udfff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\0': '\\0' };

/**
 * Escapes text for an error message: control, CR/LF, bidirectional and invisible characters become escapes
 * (`\n`, `\x1b`, `\u{202E}`). Printable text, including non-ASCII letters, is kept. @internal
 */
export function escapeText(s: string): string {
  return String(s).replace(INVISIBLE, c => {
    if (NAMED[c]) return NAMED[c];
    const cp = c.codePointAt(0)!;
    return cp <= 0xff ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u{${cp.toString(16).toUpperCase()}}`;
  });
}

const MAX_SHOWN = 120;
const MAX_SHOWN_STRING = 200;

/**
 * Renders a value for an error message: strings in single quotes, `(not set)` for undefined, numbers as JavaScript
 * writes them (NaN, Infinity, -Infinity), objects as JSON with the same number rules; long values are cut (strings at
 * 200 characters, others at 120). Control and invisible characters are escaped by MeshValidationError.
 * @internal
 */
export function show(value: unknown): string {
  if (typeof value === 'string') return `'${cut(value, MAX_SHOWN_STRING)}'`;
  if (value === undefined) return '(not set)';
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean' || value === null) return String(value);
  if (typeof value === 'symbol' || typeof value === 'function') return cut(String(value));
  try {
    const marks: string[] = [];
    const json = JSON.stringify(value, (_k, v) => {
      if (typeof v === 'number' && !Number.isFinite(v)) {
        marks.push(String(v));
        return `\u0000${marks.length - 1}\u0000`;
      }
      if (typeof v === 'bigint') return String(v);
      return v;
    });
    if (json === undefined) return cut(String(value));
    return cut(json.replace(/"\\u0000(\d+)\\u0000"/g, (_m, i) => marks[Number(i)]));
  } catch {
    return cut(String(value));
  }
}

function cut(s: string, max = MAX_SHOWN): string {
  return s.length > max ? s.slice(0, max - 3) + '...' : s;
}

/**
 * Throws a MeshValidationError for `scope`: a construct (its path is named), or, for a static factory that has no
 * construct yet, the factory's name.
 * @internal
 */
export function invalid(scope: Construct | string, field: string, value: unknown, allowed: string): never {
  const path = typeof scope === 'string' ? scope : scope.node.path;
  throw new MeshValidationError(path, field, show(value), allowed);
}

/**
 * Runs `fn` for the construct `scope`: a MeshValidationError it throws that does not already name `scope`'s path
 * (it came from a helper or value that was given a factory name, or no path) is thrown again with the construct
 * path in front, e.g. `shop/frontend: ExternalService: host ... is invalid: ...`. Other errors pass unchanged.
 * @internal
 */
export function inScope<T>(scope: Construct, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof MeshValidationError) {
      const path = escapeText(scope.node.path);
      if (e.constructPath === path || e.constructPath.startsWith(path + '/')) throw e;
      const where = e.constructPath ? `${path}: ${e.constructPath}` : path;
      const err = new MeshValidationError(where, e.field, e.value, e.allowed);
      err.stack = e.stack;
      throw err;
    }
    throw e;
  }
}
