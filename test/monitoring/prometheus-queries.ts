import { z } from 'zod';

/** Prometheus' HTTP query API, as the dashboards would use it through Grafana. */

const Point = z.tuple([z.number(), z.string()]);
/** An instant vector's sample has `value`; a range vector's series has `values`. */
const VectorSeries = z.object({
  metric: z.record(z.string(), z.string()),
  value: Point.optional(),
  values: z.array(Point).optional(),
});
const QueryAnswer = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('success'),
    data: z.object({ resultType: z.string(), result: z.union([z.array(VectorSeries), Point]) }),
    warnings: z.array(z.string()).optional(),
  }),
  z.object({ status: z.literal('error'), errorType: z.string(), error: z.string() }),
]);
export type QueryAnswer = z.infer<typeof QueryAnswer>;

export interface Series {
  metric: Record<string, string>;
  /** The numbers of an instant vector's sample or a range vector's points. */
  values: number[];
}

export type QueryOutcome = { ok: true; series: Series[] } | { ok: false; error: string };

async function post(url: string, form: Record<string, string>, fetcher: typeof fetch): Promise<QueryOutcome> {
  const response = await fetcher(url, { method: 'POST', body: new URLSearchParams(form) });
  const answer = QueryAnswer.parse(await response.json());
  if (answer.status === 'error') return { ok: false, error: `${answer.errorType}: ${answer.error}` };
  const result = answer.data.result;
  // A scalar or string answer is one unnamed value.
  if (typeof result[0] === 'number') {
    const [, value] = result as z.infer<typeof Point>;
    return { ok: true, series: [{ metric: {}, values: [Number(value)] }] };
  }
  const series = result as z.infer<typeof VectorSeries>[];
  return {
    ok: true,
    series: series.map((s) => ({
      metric: s.metric,
      values: (s.values ?? (s.value ? [s.value] : [])).map(([, v]) => Number(v)),
    })),
  };
}

export function instantQuery(
  prometheus: string,
  expr: string,
  fetcher: typeof fetch = fetch,
): Promise<QueryOutcome> {
  return post(`${prometheus}/api/v1/query`, { query: expr }, fetcher);
}

export function rangeQuery(
  prometheus: string,
  expr: string,
  seconds: number,
  stepSeconds: number,
  fetcher: typeof fetch = fetch,
): Promise<QueryOutcome> {
  const end = Date.now() / 1000;
  return post(
    `${prometheus}/api/v1/query_range`,
    {
      query: expr,
      start: String(end - seconds),
      end: String(end),
      step: String(stepSeconds),
    },
    fetcher,
  );
}

/**
 * Grafana's template variables replaced as Grafana would: `$name` and `${name}` by the selected value
 * (All = `.*`), `$__rate_interval` and `$__range` by durations. An unknown variable is an error, so a
 * dashboard cannot reference a variable it does not define.
 */
export function substituteVariables(expr: string, values: Record<string, string>): string {
  const replaced = expr.replace(
    /\$\{(\w+)(?::\w+)?\}|\$(\w+)/g,
    (_match, braced: string | undefined, bare: string | undefined) => {
      const name = (braced ?? bare) as string;
      const value = values[name];
      if (value === undefined)
        throw new Error(`the dashboard uses $${name}, which the test does not know: ${expr}`);
      return value;
    },
  );
  return replaced;
}

/** `label_values(selector, label)` → PromQL that returns the same label values. */
export function labelValuesQuery(definition: string): { expr: string; label: string } {
  const match = /^label_values\((.*),\s*(\w+)\)$/.exec(definition.trim());
  if (!match) throw new Error(`not a label_values() variable query: ${definition}`);
  return { expr: `count by (${match[2]}) (${match[1]})`, label: match[2] as string };
}
