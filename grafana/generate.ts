// Writes the dashboards the code in grafana/src/ describes to grafana/dashboards/*.json.
// `node --import tsx grafana/generate.ts --check` writes nothing and fails listing the files that differ.
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { DASHBOARDS } from './src/index.js';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Where the generated JSON lives, relative to the repository root (and mounted into Grafana). */
export const DASHBOARDS_DIR = 'grafana/dashboards';
export const REGENERATE_COMMAND = 'npm run dashboards';

export interface GeneratedDashboard {
  /** Path relative to the repository root, e.g. `grafana/dashboards/overview.json`. */
  file: string;
  /** The file's exact content. */
  json: string;
}

/** Every dashboard as its file and content; formatted as Prettier would, so `prettier --check .` agrees. */
export async function generateDashboards(): Promise<GeneratedDashboard[]> {
  return Promise.all(
    DASHBOARDS.map(async ({ name, build }) => {
      const file = `${DASHBOARDS_DIR}/${name}.json`;
      const absolute = path.join(REPO_ROOT, file);
      const options = (await prettier.resolveConfig(absolute)) ?? {};
      const json = await prettier.format(JSON.stringify(build(), null, 2), { ...options, filepath: absolute });
      return { file, json };
    }),
  );
}

/** The files under grafana/dashboards/ that differ from the generated ones, are missing, or are not generated. */
export async function staleDashboardFiles(): Promise<string[]> {
  const generated = await generateDashboards();
  const stale: string[] = [];
  for (const { file, json } of generated) {
    const current = await readFile(path.join(REPO_ROOT, file), 'utf8').catch(() => undefined);
    if (current !== json) stale.push(file);
  }
  return [...stale, ...(await strayFiles(generated))];
}

// JSON files in the folder that no dashboard generates: Grafana would still provision them.
async function strayFiles(generated: GeneratedDashboard[]): Promise<string[]> {
  const names = await readdir(path.join(REPO_ROOT, DASHBOARDS_DIR)).catch(() => []);
  const expected = new Set(generated.map(({ file }) => file));
  return names
    .filter((name) => name.endsWith('.json'))
    .map((name) => `${DASHBOARDS_DIR}/${name}`)
    .filter((file) => !expected.has(file))
    .sort();
}

async function main(check: boolean): Promise<number> {
  if (check) {
    const stale = await staleDashboardFiles();
    if (stale.length === 0) return 0;
    console.error(`Dashboards differ from grafana/src/: ${stale.join(', ')}\nRegenerate with: ${REGENERATE_COMMAND}`);
    return 1;
  }
  const generated = await generateDashboards();
  for (const file of await strayFiles(generated)) {
    await rm(path.join(REPO_ROOT, file));
    console.log(`removed ${file}`);
  }
  for (const { file, json } of generated) {
    await writeFile(path.join(REPO_ROOT, file), json);
    console.log(`wrote ${file}`);
  }
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.includes('--check'));
}
