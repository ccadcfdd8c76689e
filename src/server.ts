import { setTimeout as sleep } from 'node:timers/promises';
import closeWithGrace from 'close-with-grace';
import { ConfigError, loadConfig } from './config.js';
import { buildApp } from './app.js';

/** Entry point: reads config, builds the app, listens, and closes Fastify and Redis cleanly on SIGTERM/SIGINT. */
let config;
try {
  config = loadConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  process.exit(78); // EX_CONFIG
}

const app = await buildApp(config);

// Past the shutdown delay, requests in flight get 10 s to finish before the process exits regardless.
closeWithGrace({ delay: config.shutdownDelayMs + 10_000 }, async ({ signal, err }) => {
  if (err) app.log.error({ err }, 'closing after an unexpected error');
  else if (config.shutdownDelayMs > 0) {
    app.log.info({ signal, delayMs: config.shutdownDelayMs }, 'shutting down: serving on until the proxies let go');
    await sleep(config.shutdownDelayMs);
  } else app.log.info({ signal }, 'shutting down');
  await app.close();
});

await app.listen({ host: config.host, port: config.port });
