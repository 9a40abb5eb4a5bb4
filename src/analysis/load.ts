/**
 * Reading Kubernetes objects from files for the offline analyzer: .yaml/.yml/.json, recursively, multi-document
 * YAML and `kind: List`. Never throws on bad input: each unreadable document is reported with its file and index.
 * @internal
 */
import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { InputDocument } from './model';

const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/** A document that could not be read. */
export interface LoadProblem {
  readonly file: string;
  /** The document index, or undefined for the whole file. */
  readonly documentIndex?: number;
  readonly message: string;
}

export interface Loaded {
  readonly documents: InputDocument[];
  readonly problems: LoadProblem[];
  /**
   * Files that hold no Kubernetes object at all (every document lacks both apiVersion and kind, e.g. a tsconfig.json
   * or a Grafana dashboard beside the manifests): skipped, with a note, never an error.
   */
  readonly skipped: LoadProblem[];
}

/** The files under the given paths (sorted, for deterministic output). Throws when a path does not exist. */
export function listFiles(paths: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (p: string, explicit: boolean) => {
    const st = fs.statSync(p);
    if (st.isDirectory()) {
      for (const child of fs.readdirSync(p).sort()) {
        if (child.startsWith('.') || child === 'node_modules') continue;
        walk(path.join(p, child), false);
      }
    } else if (explicit || EXTENSIONS.has(path.extname(p).toLowerCase())) {
      out.push(p);
    }
  };
  for (const p of paths) walk(p, true);
  return out;
}

export function loadFiles(files: readonly string[]): Loaded {
  const documents: InputDocument[] = [];
  const problems: LoadProblem[] = [];
  const skipped: LoadProblem[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e: any) {
      problems.push({ file, message: `cannot read: ${e?.message ?? e}` });
      continue;
    }
    const values: Array<{ index: number; value?: any; error?: string }> = [];
    if (path.extname(file).toLowerCase() === '.json') {
      try {
        values.push({ index: 0, value: JSON.parse(text) });
      } catch (e: any) {
        values.push({ index: 0, error: `invalid JSON: ${e?.message ?? e}` });
      }
    } else {
      let docs: YAML.Document.Parsed[];
      try {
        docs = YAML.parseAllDocuments(text) as YAML.Document.Parsed[];
      } catch (e: any) {
        problems.push({ file, message: `invalid YAML: ${e?.message ?? e}` });
        continue;
      }
      if (!Array.isArray(docs)) docs = [docs];
      docs.forEach((doc, index) => {
        if (doc.errors.length) {
          values.push({ index, error: `invalid YAML: ${doc.errors[0].message.split('\n')[0]}` });
          return;
        }
        try {
          values.push({ index, value: doc.toJS({ maxAliasCount: 1000 }) });
        } catch (e: any) {
          values.push({ index, error: `invalid YAML: ${e?.message ?? e}` });
        }
      });
    }
    const present = values.filter(v => v.error === undefined && v.value !== null && v.value !== undefined);
    if (present.length > 0 && values.every(v => v.error === undefined) && present.every(v => !looksKubernetes(v.value))) {
      skipped.push({ file, message: 'not a Kubernetes object (no apiVersion or kind)' });
      continue;
    }
    for (const { index, value, error } of values) {
      if (error) {
        problems.push({ file, documentIndex: index, message: error });
        continue;
      }
      if (value === null || value === undefined) continue; // empty document (e.g. a trailing ---)
      const items = isList(value) ? value.items : [value];
      items.forEach((item: any, i: number) => {
        const where = isList(value) ? ` (List item ${i})` : '';
        if (item === null || typeof item !== 'object' || Array.isArray(item)) {
          problems.push({ file, documentIndex: index, message: `not a Kubernetes object${where}` });
        } else if (typeof item.apiVersion !== 'string' || typeof item.kind !== 'string') {
          problems.push({ file, documentIndex: index, message: `missing apiVersion or kind${where}` });
        } else {
          documents.push({ object: item, source: { file, documentIndex: index } });
        }
      });
    }
  }
  return { documents, problems, skipped };
}

/** Whether a parsed document is meant as a Kubernetes object: a map with apiVersion or kind (or both). */
function looksKubernetes(v: any): boolean {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && ('apiVersion' in v || 'kind' in v);
}

function isList(v: any): boolean {
  return v && typeof v === 'object' && typeof v.kind === 'string' && v.kind.endsWith('List') && Array.isArray(v.items);
}
