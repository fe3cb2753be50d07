import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testConfig } from './helpers/config';
import { startTestService, type TestService } from './helpers/service';
import { dialects } from './helpers/stores';

const METRICS_TOKEN = 'metrics-token-for-tests-0123';
const scrape = { headers: { authorization: `Bearer ${METRICS_TOKEN}` } };

describe.each(dialects)('service basics on $name', (dialect) => {
  let svc: TestService;

  beforeEach(async () => {
    svc = await startTestService(dialect, testConfig({ METRICS_TOKEN: METRICS_TOKEN }));
  });
  afterEach(async () => {
    await svc.close();
  });

  it('reports health with the database reachable', async () => {
    const res = await svc.app.request('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', database: 'ok' });
  });

  it('answers 404 with the reason for a channel whose secrets are not set, and keeps the rest running', async () => {
    const line = await svc.app.request('/webhooks/line', { method: 'POST', body: '{"events":[]}' });
    expect(line.status).toBe(404);
    expect(((await line.json()) as { error: string }).error).toContain('LINE_CHANNEL_SECRET');
    const telegram = await svc.app.request('/webhooks/telegram', { method: 'POST', body: '{}' });
    expect(telegram.status).toBe(404);
    expect(((await telegram.json()) as { error: string }).error).toContain('TELEGRAM_BOT_TOKEN');
    expect((await svc.app.request('/chat')).status).toBe(200);
  });

  it('exposes Prometheus metrics including outbox depth', async () => {
    const v = await svc.app.request('/chat');
    const cookie = v.headers.get('set-cookie')!.split(';')[0]!;
    await svc.app.request('/chat/api/start', { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ id: 'metrics-start' }) });
    const before = await (await svc.app.request('/metrics', scrape)).text();
    expect(before).toContain('# TYPE dealer_outbox_messages gauge');
    expect(before).toMatch(/dealer_outbox_messages\{channel="web",status="pending"\} 1/);
    expect(before).toMatch(/dealer_events_processed_total\{channel="web",result="ok"\} 1/);
    expect(before).toContain('dealer_step_duration_seconds_bucket');
    await svc.flush();
    // Scrapes are answered from memory; the gauges are read again after GAUGE_MAX_AGE_MS, here at once.
    await svc.metrics.collectGauges();
    const after = await (await svc.app.request('/metrics', scrape)).text();
    expect(after).toMatch(/dealer_outbox_sends_total\{platform="web",result="sent"\} 1/);
    expect(after).not.toMatch(/dealer_outbox_messages\{channel="web",status="pending"\}/);
  });

  it('seeds one demo branch on a fresh database', async () => {
    const branches = await svc.db.store.db.selectFrom('branches').selectAll().execute();
    expect(branches).toHaveLength(1);
    expect(branches[0]).toMatchObject({ is_demo: 1, time_zone: 'Asia/Taipei' });
  });
});
