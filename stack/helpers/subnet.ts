import { randomInt } from 'node:crypto';
import { execa } from 'execa';
import { DOCKER } from '../compose/docker-cli.js';

/**
 * A /24 in `base`.0.0/16 that no network of this engine overlaps, as its first three octets: Compose projects
 * take theirs from 172.30 (a developer's has 172.30.250), the Swarm nodes' networks from 172.31.
 */
export async function freeSubnetPrefix(base = '172.30'): Promise<string> {
  const ids = (await execa(DOCKER, ['network', 'ls', '--quiet'])).stdout.split('\n').filter(Boolean);
  const format = '{{range .IPAM.Config}}{{.Subnet}} {{end}}';
  const listed = ids.length > 0 ? (await execa(DOCKER, ['network', 'inspect', '--format', format, ...ids])).stdout : '';
  const used = listed.split(/\s+/).flatMap((cidr) => (/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(cidr) ? [range(cidr)] : []));
  for (let tries = 0; tries < 100; tries++) {
    const prefix = `${base}.${1 + randomInt(240)}`;
    const [from, to] = range(`${prefix}.0/24`);
    if (!used.some(([a, b]) => a <= to && from <= b)) return prefix;
  }
  throw new Error(`no free /24 in ${base}.0.0/16 for a new network`);
}

function range(cidr: string): [number, number] {
  const [ip = '', bits = '32'] = cidr.split('/');
  const start = ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
  const size = 2 ** (32 - Number(bits));
  return [start - (start % size), start - (start % size) + size - 1];
}
