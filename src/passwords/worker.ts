import bcrypt from 'bcryptjs';

/** One bcrypt job, run on a worker thread: the synchronous forms are the fastest, and block only this thread. */
export type PasswordJob =
  { op: 'hash'; password: string; cost: number } | { op: 'compare'; password: string; hash: string };

export default function run(job: PasswordJob): string | boolean {
  return job.op === 'hash' ? bcrypt.hashSync(job.password, job.cost) : bcrypt.compareSync(job.password, job.hash);
}
