import { parseArgs } from 'node:util';
import { ensureEngine } from '../stack/compose/engine.js';
import { runVerb } from '../stack/helpers/verbs.js';
import { swarmDown } from './down.js';
import { readSwarmRecord } from './state.js';
import { statusLines, swarmStatus } from './status.js';
import { swarmUp } from './up.js';

/** `npm run swarm -- <verb>`: Evergreen on a Docker Swarm of nodes simulated on this machine. */
const USAGE = `usage: npm run swarm -- <command>
  up [--nodes 3] [--no-monitoring]  N Docker-in-Docker nodes, a registry, swarm/stack.yml deployed, on HTTP_PORT
  status [--json]                   each node (container, state, role, availability, its tasks) and where the master is
  down                              remove the stack, the nodes, the registry and their volumes
SWARM_NAME names the nodes <name>-node-N (default evergreen); HTTP_PORT is the edge's port (default 8080).`;

const name = process.env.SWARM_NAME || 'evergreen';

async function known() {
  const record = await readSwarmRecord(name);
  if (!record) throw new Error(`no swarm ${name} on this machine (npm run swarm -- up)`);
  return record;
}

await runVerb(USAGE, {
  up: async (flags) => {
    const { values } = parseArgs({
      args: flags,
      options: { nodes: { type: 'string', default: '3' }, 'no-monitoring': { type: 'boolean', default: false } },
    });
    const nodes = Number(values.nodes);
    // Three is the least that survives a host: a majority of Sentinels and of Swarm's managers out of three.
    if (!Number.isInteger(nodes) || nodes < 3 || nodes > 9) throw new Error('--nodes takes 3 to 9');
    await ensureEngine(console.log);
    const record = await swarmUp({
      name,
      nodes,
      httpPort: Number(process.env.HTTP_PORT || 8080),
      monitoring: !values['no-monitoring'],
      adminUsername: process.env.ADMIN_USERNAME || 'admin',
      stackEnv: {},
      log: console.log,
    });
    console.log(`admin: ${record.admin.username} / ${record.admin.password} (kept in .swarm/${name}/swarm.json)`);
    for (const line of statusLines(await swarmStatus(record))) console.log(line);
  },
  status: async (flags) => {
    const { values } = parseArgs({ args: flags, options: { json: { type: 'boolean', default: false } } });
    const status = await swarmStatus(await known());
    if (values.json) {
      const { problems, ...rest } = status;
      console.log(JSON.stringify({ ...rest, ...(problems.length ? { problems } : {}) }, null, 2));
    } else {
      for (const line of statusLines(status)) console.log(line);
    }
    return status.master ? 0 : 1;
  },
  down: async () => {
    await swarmDown(await known(), console.log);
  },
});
