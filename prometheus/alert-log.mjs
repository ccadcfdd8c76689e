// Evergreen's alert log: Alertmanager's webhook receiver when no chat or email is set up. Each
// notification becomes one JSON line on stdout (the local stack keeps it in alert-log/alerts.log;
// Compose in `docker-compose logs alert-log`), one line per alert: when, firing or resolved, its name,
// severity, instance and summary. Plain Node, no dependencies: Compose runs it in a stock Node image.
// Listens on ALERT_LOG_LISTEN (host:port, default 0.0.0.0:9099); GET /health answers 200.
import { createServer } from 'node:http';

const [host, port] = (process.env.ALERT_LOG_LISTEN ?? '0.0.0.0:9099').split(/:(?=\d+$)/);
const MAX_BODY_BYTES = 1024 * 1024;

const server = createServer((req, res) => {
  const answer = (status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (req.method === 'GET' && req.url === '/health') return answer(200, { status: 'ok' });
  if (req.method !== 'POST' || req.url !== '/alerts') return answer(404, { code: 'NOT_FOUND' });
  const chunks = [];
  let size = 0;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  });
  req.on('end', () => {
    if (size > MAX_BODY_BYTES) return answer(413, { code: 'PAYLOAD_TOO_LARGE' });
    let notification;
    try {
      notification = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return answer(400, { code: 'BAD_REQUEST' });
    }
    for (const alert of Array.isArray(notification.alerts) ? notification.alerts : []) {
      const line = {
        time: new Date().toISOString(),
        status: alert.status,
        alertname: alert.labels?.alertname,
        severity: alert.labels?.severity,
        instance: alert.labels?.instance,
        summary: alert.annotations?.summary,
        startsAt: alert.startsAt,
        endsAt: alert.endsAt,
        labels: alert.labels,
      };
      process.stdout.write(`${JSON.stringify(line)}\n`);
    }
    answer(200, { status: 'ok' });
  });
});

server.listen(Number(port), host, () => console.error(`alert log listening on ${host}:${port}`));
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
