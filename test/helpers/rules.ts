/**
 * Reads the Prometheus alerting rules (prometheus/rules/*.yml) as Prometheus loads them: one entry per alert,
 * with the file and group it is in. Recording rules, if any, are left out.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';

import { repoRoot } from '../../stack/layout.js';

export { repoRoot };
export const PROMETHEUS_DIR = path.join(repoRoot, 'prometheus');
export const RULES_DIR = path.join(PROMETHEUS_DIR, 'rules');
/** promtool unit tests: outside rules/, which Prometheus loads whole (rule_files: rules/*.yml). */
export const RULE_TESTS_DIR = path.join(PROMETHEUS_DIR, 'tests');

export interface AlertRule {
  /** The rule file, relative to the repository: prometheus/rules/redis.yml. */
  file: string;
  group: string;
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

interface RuleFile {
  groups?: { name: string; rules?: Rule[] }[];
}

/** The *.yml files of a folder, absolute and sorted. */
export async function yamlFiles(dir: string): Promise<string[]> {
  const names = await readdir(dir);
  return names
    .filter((name) => name.endsWith('.yml'))
    .sort()
    .map((name) => path.join(dir, name));
}

/** Every alerting rule of prometheus/rules/*.yml, in file, group and rule order. */
export async function loadAlertRules(): Promise<AlertRule[]> {
  const rules: AlertRule[] = [];
  for (const file of await yamlFiles(RULES_DIR)) {
    const parsed = (parse(await readFile(file, 'utf8')) ?? {}) as RuleFile;
    for (const group of parsed.groups ?? []) {
      for (const rule of group.rules ?? []) {
        if (rule.alert === undefined) continue;
        rules.push({
          file: path.relative(repoRoot, file),
          group: group.name,
          alert: rule.alert,
          expr: rule.expr,
          ...(rule.for === undefined ? {} : { for: rule.for }),
          labels: rule.labels ?? {},
          annotations: rule.annotations ?? {},
        });
      }
    }
  }
  return rules;
}
