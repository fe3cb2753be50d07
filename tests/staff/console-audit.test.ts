import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AUDIT_ACTIONS, AUDIT_ENTITIES, changesOf } from '../../src/staff/audit-log';
import { createTranslator } from '../../src/i18n';
import { SUPPORTED_LOCALES } from '../../src/i18n/locales';
import { staffMember, type SignedInStaff } from '../helpers/staff';
import { dialects } from '../helpers/stores';
import { startFakeLineApi, type FakeLineApi } from '../fakes/line-api';
import { openConsoleWorld, type ConsoleWorld } from './console-world';

/*
 * The audit log as a manager reads it: what was done in words, the record by its name, each changed field
 * as "field: before → after", times in the dealership's zone, the filters in the staff member's language;
 * the raw records only folded away.
 */

const SRC = new URL('../../src/', import.meta.url).pathname;

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sourceFiles(path)));
    else if (/\.tsx?$/.test(entry.name)) out.push(path);
  }
  return out;
}

/** The page's text as a person reads it, with the folded raw records left out. */
function readable(html: string): string {
  return html
    .replace(/<style[\s\S]*?<\/style>|<script[\s\S]*?<\/script>|<details[\s\S]*?<\/details>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&quot;/g, '"')
    .replace(/\s+/g, ' ');
}

describe('audit log names', () => {
  const translator = createTranslator('en');

  it('knows every action and record kind the services write, and names each in every language', async () => {
    const written = new Set<string>();
    const entities = new Set<string>();
    for (const file of await sourceFiles(SRC)) {
      const text = await readFile(file, 'utf8');
      if (!/recordAudit|audit\(tx, ctx,/.test(text)) continue;
      for (const m of text.matchAll(/recordAudit\([^;]*?;/gs)) {
        for (const a of m[0].matchAll(/action: (?:[^,'{}]*\? )?'([a-z_.]+)'(?: : '([a-z_.]+)')?/g)) [a[1], a[2]].forEach((x) => x && written.add(x));
        for (const e of m[0].matchAll(/entity: '([a-z_]+)'/g)) entities.add(e[1]!);
      }
      for (const a of text.matchAll(/audit\(tx, ctx, '([a-z_.]+)'/g)) written.add(a[1]!);
    }
    expect(written.size).toBeGreaterThan(30);
    expect([...written].filter((a) => !(AUDIT_ACTIONS as readonly string[]).includes(a))).toEqual([]);
    expect([...entities].filter((e) => !(AUDIT_ENTITIES as readonly string[]).includes(e))).toEqual([]);
    const missing: string[] = [];
    for (const locale of SUPPORTED_LOCALES) {
      for (const a of AUDIT_ACTIONS) if (!translator.has(locale, `console-admin:audit.actions.${a}`)) missing.push(`${locale} ${a}`);
      for (const e of AUDIT_ENTITIES) if (!translator.has(locale, `console-admin:audit.entities.${e}`)) missing.push(`${locale} ${e}`);
    }
    expect(missing).toEqual([]);
  });

  it('reads a change field by field, a creation as what was set, and leaves unchanged fields out', () => {
    expect(changesOf({ before: '{"name":"A","phone":null,"active":true}', after: '{"name":"B","phone":null,"active":false}' })).toEqual([
      { field: 'name', before: { kind: 'text', text: 'A' }, after: { kind: 'text', text: 'B' } },
      { field: 'active', before: { kind: 'bool', value: true }, after: { kind: 'bool', value: false } },
    ]);
    expect(changesOf({ before: null, after: '{"plate":"ABC-1234","vin":null,"startsAt":"2026-03-09T02:00:00.000Z"}' })).toEqual([
      { field: 'plate', before: null, after: { kind: 'text', text: 'ABC-1234' } },
      { field: 'startsAt', before: null, after: { kind: 'time', iso: '2026-03-09T02:00:00.000Z' } },
    ]);
    // The version counter is bookkeeping, not a change staff need to read.
    expect(changesOf({ before: '{"note":"x","version":1}', after: '{"note":"y","version":2}' }).map((c) => c.field)).toEqual(['note']);
    expect(changesOf({ before: '{"status":"booked"}', after: null })).toEqual([{ field: 'status', before: { kind: 'text', text: 'booked' }, after: null }]);
  });
});

describe.each(dialects)('console audit log on $name', (dialect) => {
  let line: FakeLineApi;
  let world: ConsoleWorld;
  let manager: SignedInStaff;

  beforeAll(async () => {
    line = await startFakeLineApi();
  });
  afterAll(async () => {
    await line.close();
  });
  beforeEach(async () => {
    world = await openConsoleWorld(dialect, line);
    manager = await staffMember(world.svc, 'manager');
  });
  afterEach(async () => {
    await world.close();
  });

  it('says what changed in words, names the record and the advisor, in local time', async () => {
    const { customerId } = await world.newLineCustomer('Emily Chen');
    const saved = await manager.request(`/console/customers/${customerId}`, { form: { displayName: 'Emily Chen-Wu', phone: '0912 345 678', locale: 'en', category: 'prospect', notes: '' } });
    expect(saved.status).toBe(303);

    const html = await (await manager.request('/console/audit')).text();
    const text = readable(html);
    expect(text).toContain('Changed a customer');
    expect(text).toContain('Customer · Emily Chen-Wu');
    expect(text).toMatch(/Name: .*→ Emily Chen-Wu/);
    // 08:00 in Taipei (the dealership's zone), not 00:00 UTC.
    expect(text).toContain('03/09/2026, 08:00');
    expect(text).toContain('Times in Asia/Taipei');
    // No raw records or ids outside the folded "full record".
    expect(text).not.toContain('{"');
    expect(text).not.toContain(customerId.slice(0, 8));
    expect(text).not.toContain('customer.update');
    // A booking's status reads as the console says it elsewhere.
    const { customerId: other } = await world.newLineCustomer('Ken Sato');
    await world.book(other, '2026-03-10', '10:00');
    const booked = readable(await (await manager.request('/console/audit?entity=appointment')).text());
    expect(booked).toContain('Booked a visit');
    expect(booked).toContain('Status: Booked');
    expect(booked).not.toContain('Version:');
    // The record filter names kinds of record in words.
    expect(html).toMatch(/<option value="customer"[^>]*>Customer<\/option>/);
  });

  it('speaks the staff member’s language: actions, records, fields and filters', async () => {
    const { customerId } = await world.newLineCustomer('Emily Chen');
    await manager.request(`/console/customers/${customerId}`, { form: { displayName: 'Emily Chen-Wu', phone: '', locale: 'en', category: 'prospect', notes: '' } });
    const zh = await staffMember(world.svc, 'manager', { locale: 'zh-TW' });
    const html = await (await zh.request('/console/audit')).text();
    const text = readable(html);
    const t = (key: string) => world.svc.translator.t('zh-TW', `console-admin:audit.${key}`);
    expect(t('actions.customer.update')).not.toBe(world.svc.translator.t('en', 'console-admin:audit.actions.customer.update'));
    expect(text).toContain(t('actions.customer.update'));
    expect(text).toContain(`${t('fields.display_name')}: `);
    expect(text).toMatch(/→ Emily Chen-Wu/);
    expect(html).toContain(`<option value="customer">${t('entities.customer')}</option>`);
  });
});
