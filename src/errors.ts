import { Construct } from 'constructs';

/**
 * The error every construct of this library throws for bad input.
 *
 * Its message names the construct path, the field, the bad value and what is allowed, e.g.
 * `mesh-system/mesh: revision 'Rev_1' is invalid: must be a DNS label (lowercase letters, digits and '-', at most 63 characters)`.
 *
 * jsii cannot model subclasses of Error, so this class is not part of the jsii API (src/index.ts): TypeScript users
 * import it from 'cdk8s-mesh/lib/src/errors'; every language can recognise it by `error.name === 'MeshValidationError'`.
 */
export class MeshValidationError extends Error {
  /** The construct path where the input was given ('' when not known). */
  public readonly constructPath: string;
  /** The field (prop) that holds the bad value. */
  public readonly field: string;
  /** What is allowed instead. */
  public readonly allowed: string;

  constructor(constructPath: string, field: string, value: string, allowed: string) {
    super(`${constructPath ? constructPath + ': ' : ''}${field} ${value} is invalid: ${allowed}`);
    this.name = 'MeshValidationError';
    this.constructPath = constructPath;
    this.field = field;
    this.allowed = allowed;
    Object.setPrototypeOf(this, MeshValidationError.prototype);
  }
}

/** Renders a value for an error message. @internal */
export function show(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (value === undefined) return 'undefined';
  try {
    const s = JSON.stringify(value);
    return s.length > 120 ? s.slice(0, 117) + '...' : s;
  } catch {
    return String(value);
  }
}

/**
 * Throws a MeshValidationError for `scope`.
 * @internal
 */
export function invalid(scope: Construct | string, field: string, value: unknown, allowed: string): never {
  const path = typeof scope === 'string' ? scope : scope.node.path;
  throw new MeshValidationError(path, field, show(value), allowed);
}
