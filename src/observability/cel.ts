/**
 * A light syntax check of CEL-like expressions (access log filters, metric tag values): non-empty, quotes closed,
 * brackets balanced and correctly nested. Full CEL type checking is Envoy's job; this catches typos at synth time.
 * @internal
 */
export function celProblem(expr: unknown): string | undefined {
  if (typeof expr !== 'string' || expr.trim() === '') return 'must be a non-empty CEL expression';
  const closing: { [c: string]: string } = { ')': '(', ']': '[', '}': '{' };
  const stack: string[] = [];
  let quote: string | undefined;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'") {quote = c;} else if (c === '(' || c === '[' || c === '{') {stack.push(c);} else if (c in closing) {
      if (stack.pop() !== closing[c]) return `has an unmatched '${c}' at position ${i + 1}`;
    }
  }
  if (quote) return `has an unterminated ${quote} string`;
  if (stack.length) return `has ${stack.length} unclosed '${stack[stack.length - 1]}'`;
  if (/(&&|\|\||[=!<>]=|[<>+\-*/%!])\s*$/.test(expr)) return 'ends with an operator';
  if (/^\s*(&&|\|\||==|!=|<=|>=|[<>*/%])/.test(expr)) return 'starts with a binary operator';
  return undefined;
}
