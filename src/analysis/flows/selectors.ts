/**
 * Kubernetes label selectors (matchLabels and matchExpressions) and an index that finds the selectors matching a
 * pod's labels without walking every selector. @internal
 */
import { arr, stringMap, text } from '../model';

/** A parsed label selector. */
export interface Selector {
  readonly labels: Readonly<Record<string, string>>;
  readonly expressions: ReadonlyArray<{ readonly key: string; readonly operator: string; readonly values: readonly string[] }>;
}

export const EMPTY_SELECTOR: Selector = { labels: {}, expressions: [] };

/** A `{ matchLabels, matchExpressions }` object (NetworkPolicy, PodMonitor...) as a Selector. */
export function parseLabelSelector(x: any): Selector {
  const expressions = arr(x?.matchExpressions).map((e: any) => ({
    key: text(e?.key),
    operator: text(e?.operator),
    values: arr(e?.values).map(text),
  }));
  return { labels: stringMap(x?.matchLabels), expressions };
}

/** A plain label map (Istio `selector.matchLabels`, `workloadSelector.labels`) as a Selector. */
export function labelsSelector(x: any): Selector {
  return { labels: stringMap(x), expressions: [] };
}

export function isEmptySelector(s: Selector): boolean {
  return Object.keys(s.labels).length === 0 && s.expressions.length === 0;
}

/** Whether a selector matches a label set (Kubernetes semantics; an unknown operator matches nothing). */
export function selectorMatches(s: Selector, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(s.labels)) if (labels[k] !== v) return false;
  for (const e of s.expressions) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    switch (e.operator) {
      case 'In': if (!has || !e.values.includes(labels[e.key])) return false; break;
      case 'NotIn': if (has && e.values.includes(labels[e.key])) return false; break;
      case 'Exists': if (!has) return false; break;
      case 'DoesNotExist': if (has) return false; break;
      default: return false;
    }
  }
  return true;
}

/** `k=v` of a selector, for display. */
export function selectorText(s: Selector): string {
  const parts = Object.entries(s.labels).map(([k, v]) => `${k}=${v}`);
  for (const e of s.expressions) parts.push(`${e.key} ${e.operator}${e.values.length ? ` (${e.values.join(',')})` : ''}`);
  return parts.length ? parts.join(',') : '(all)';
}

interface Indexed<T> {
  readonly order: number;
  readonly ns: string;
  readonly selector: Selector;
  readonly item: T;
}

/**
 * Selectors by namespace, keyed by their rarest `k=v` pair: `query(ns, labels)` looks up the buckets of the pod's
 * labels only, so matching W pods against P policies costs O(W x labels + matches), not O(W x P). Results keep
 * insertion order.
 */
export class SelectorIndex<T> {
  private readonly pending: Array<Indexed<T>> = [];
  private readonly byPair = new Map<string, Array<Indexed<T>>>();
  private readonly unkeyed = new Map<string, Array<Indexed<T>>>();
  private readonly namespaces = new Set<string>();
  private frozen = false;

  public add(ns: string, selector: Selector, item: T): void {
    if (this.frozen) throw new Error('SelectorIndex: add after query');
    this.pending.push({ order: this.pending.length, ns, selector, item });
  }

  private freeze(): void {
    this.frozen = true;
    const freq = new Map<string, number>();
    for (const p of this.pending) for (const [k, v] of Object.entries(p.selector.labels)) freq.set(`${p.ns}\0${k}=${v}`, (freq.get(`${p.ns}\0${k}=${v}`) ?? 0) + 1);
    for (const p of this.pending) {
      this.namespaces.add(p.ns);
      let best: string | undefined;
      for (const [k, v] of Object.entries(p.selector.labels)) {
        const key = `${p.ns}\0${k}=${v}`;
        if (best === undefined || freq.get(key)! < freq.get(best)!) best = key;
      }
      const map = best === undefined ? this.unkeyed : this.byPair;
      const k = best ?? p.ns;
      const l = map.get(k) ?? [];
      l.push(p);
      map.set(k, l);
    }
  }

  /**
   * The items of namespace `ns` whose selector matches `labels`. With `labels` undefined (pods unknown), only the
   * items whose selector is empty (they select every pod).
   */
  public query(ns: string, labels: Readonly<Record<string, string>> | undefined): T[] {
    if (!this.frozen) this.freeze();
    const hits: Array<Indexed<T>> = [];
    for (const p of this.unkeyed.get(ns) ?? []) {
      if (labels === undefined ? isEmptySelector(p.selector) : selectorMatches(p.selector, labels)) hits.push(p);
    }
    if (labels !== undefined) {
      for (const [k, v] of Object.entries(labels)) {
        for (const p of this.byPair.get(`${ns}\0${k}=${v}`) ?? []) if (selectorMatches(p.selector, labels)) hits.push(p);
      }
    }
    return hits.sort((a, b) => a.order - b.order).map(h => h.item);
  }

  /** Whether any item lives in a namespace. */
  public hasNamespace(ns: string): boolean {
    if (!this.frozen) this.freeze();
    return this.namespaces.has(ns);
  }
}
