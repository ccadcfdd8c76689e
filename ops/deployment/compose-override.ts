import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { ComposeProject } from '../../stack/compose/project.js';
import { repoRoot } from '../../stack/layout.js';
import { EXTRA_LOCATIONS_MARK } from '../../stack/processes/nginx.js';

const NGINX_TEMPLATE = path.join(repoRoot, 'nginx', 'nginx.conf');
// Where the nginx image reads the template compose.yml mounts.
const NGINX_TEMPLATE_IN_CONTAINER = '/etc/nginx/templates/nginx.conf.template';

/** compose.yml with an override file that only this project uses. */
export class OverriddenProject extends ComposeProject {
  constructor(
    name: string,
    vars: Record<string, string>,
    private readonly overrideFile: string,
  ) {
    super(name, vars);
  }

  override compose(args: string[], timeoutMs?: number): Promise<string> {
    return super.compose(['--file', this.overrideFile, ...args], timeoutMs);
  }
}

/**
 * The override, written in `dir`: NGINX's template with `locations` inserted where the local stack inserts them
 * (stack/processes/nginx.ts), mounted over the one compose.yml mounts. Returns the override file.
 */
export async function writeNginxOverride(dir: string, locations: string): Promise<string> {
  const template = await readFile(NGINX_TEMPLATE, 'utf8');
  if (!template.includes(EXTRA_LOCATIONS_MARK)) throw new Error(`${NGINX_TEMPLATE} lost its mark`);
  const ownTemplate = path.join(dir, 'nginx.conf.template');
  await writeFile(ownTemplate, template.replace(EXTRA_LOCATIONS_MARK, locations));
  const file = path.join(dir, 'compose.override.yml');
  const nginx = { volumes: [`${ownTemplate}:${NGINX_TEMPLATE_IN_CONTAINER}:ro`] };
  await writeFile(file, stringify({ services: { nginx } }));
  return file;
}
