// PromQL checks on Prometheus' own Lezer grammar (the one its web UI uses): syntax, metric names, rate ranges.
import { parser } from '@prometheus-io/lezer-promql';

type SyntaxNode = ReturnType<typeof parser.parse>['topNode'];

/** Why `expr` is not valid PromQL syntax, or undefined when it parses. Grafana variables must be substituted first. */
export function parsePromql(expr: string): string | undefined {
  if (expr.trim() === '') return 'empty expression';
  let errorAt: number | undefined;
  parser.parse(expr).iterate({
    enter: (node) => {
      // Lezer recovers from bad input by inserting error nodes (named ⚠) instead of throwing.
      if (node.type.isError && errorAt === undefined) errorAt = node.from;
      return errorAt === undefined;
    },
  });
  if (errorAt === undefined) return undefined;
  const near = expr.slice(errorAt, errorAt + 30);
  return `syntax error at character ${errorAt + 1}: ${near ? `unexpected "${near}"` : 'unexpected end of expression'}`;
}

function walk(expr: string, visit: (node: SyntaxNode) => void): void {
  const cursor = parser.parse(expr).cursor();
  do visit(cursor.node);
  while (cursor.next());
}

/** The metric names `expr` selects, sorted and without duplicates (`{__name__="x"}` included). */
export function metricNames(expr: string): string[] {
  const names = new Set<string>();
  const text = (node: SyntaxNode) => expr.slice(node.from, node.to);
  walk(expr, (node) => {
    if (node.name === 'VectorSelector') {
      const identifier = node.getChild('Identifier');
      if (identifier) names.add(text(identifier));
    }
    if (node.name === 'UnquotedLabelMatcher' && text(node.getChild('LabelName') ?? node) === '__name__') {
      const op = node.getChild('MatchOp');
      const value = node.getChild('StringLiteral');
      if (op && value && text(op) === '=') names.add(text(value).slice(1, -1));
    }
  });
  return [...names].sort();
}

export interface RangeFunctionCall {
  /** The function, e.g. `rate`. */
  fn: string;
  /** The range inside its selector's brackets, e.g. `5m` (for a subquery, the part before the colon). */
  range: string | undefined;
}

/** Every call of one of `functions` (default rate, irate, increase) with the range of its range-vector argument. */
export function rangeFunctionCalls(expr: string, functions = ['rate', 'irate', 'increase']): RangeFunctionCall[] {
  const calls: RangeFunctionCall[] = [];
  walk(expr, (node) => {
    if (node.name !== 'FunctionCall') return;
    const identifier = node.getChild('FunctionIdentifier');
    const fn = identifier ? expr.slice(identifier.from, identifier.to) : '';
    if (!functions.includes(fn)) return;
    const body = node.getChild('FunctionCallBody');
    const argument = body?.getChild('MatrixSelector') ?? body?.getChild('SubqueryExpr');
    const selector = argument ? expr.slice(argument.from, argument.to) : '';
    const range = /\[([^\]:]*)[\]:]/.exec(selector.slice(selector.lastIndexOf('[')))?.[1]?.trim();
    calls.push({ fn, range });
  });
  return calls;
}
