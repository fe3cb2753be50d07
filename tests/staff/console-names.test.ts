import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SUPPORTED_LOCALES } from '../../src/i18n/locales';
import { testConfig } from '../helpers/config';
import { startTestService, type TestService } from '../helpers/service';
import { staffMember, type SignedInStaff } from '../helpers/staff';
import { dialects } from '../helpers/stores';

/*
 * One name per thing: the menu entry that leads to a page and the page's own title and heading are the
 * same words in every language (they come from one key), and every page starts with a way past the menu
 * for keyboard and screen-reader users.
 */

/** The menu's entries as the page draws them: where each leads and what it says. */
function menuOf(html: string): { href: string; label: string }[] {
  const nav = /<nav class="main">([\s\S]*?)<\/nav>/.exec(html)![1]!;
  return [...nav.matchAll(/<a href="([^"]+)"[^>]*>([\s\S]*?)<\/a>/g)].map((m) => ({ href: m[1]!, label: text(m[2]!) }));
}

const text = (html: string) =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();

describe('console page names', () => {
  let svc: TestService;
  const admins = new Map<string, SignedInStaff>();

  beforeAll(async () => {
    svc = await startTestService(dialects[0]!, testConfig({ DEFAULT_LOCALE: 'en' }));
    for (const locale of SUPPORTED_LOCALES) admins.set(locale, await staffMember(svc, 'admin', { locale }));
  });
  afterAll(async () => {
    await svc.close();
  });

  it.each(SUPPORTED_LOCALES)('calls each page in %s the same in the menu, the window title and the heading', async (locale) => {
    const admin = admins.get(locale)!;
    const consoleTitle = svc.translator.t(locale, 'console:title');
    const differ: string[] = [];
    const menu = menuOf(await (await admin.request('/console')).text());
    // An administrator sees every page of the console in the menu.
    expect(menu.length).toBeGreaterThanOrEqual(10);
    for (const entry of menu) {
      const html = await (await admin.request(entry.href)).text();
      const label = entry.label;
      const title = text(/<title>([\s\S]*?)<\/title>/.exec(html)![1]!);
      const h1 = text(/<h1>([\s\S]*?)<\/h1>/.exec(html)![1]!);
      if (title !== `${label} · ${consoleTitle}`) differ.push(`${entry.href}: menu "${label}", title "${title}"`);
      if (!h1.startsWith(label)) differ.push(`${entry.href}: menu "${label}", heading "${h1}"`);
    }
    expect(differ).toEqual([]);
  });

  it.each(SUPPORTED_LOCALES)('starts every page in %s with a link past the menu to the page’s content', async (locale) => {
    const admin = admins.get(locale)!;
    for (const entry of menuOf(await (await admin.request('/console')).text())) {
      const html = await (await admin.request(entry.href)).text();
      const body = html.slice(html.indexOf('<body>') + '<body>'.length);
      const first = /^\s*<a class="skip" href="#main">([^<]+)<\/a>/.exec(body);
      expect(first, `${locale} ${entry.href}`).not.toBeNull();
      expect(first![1]).toBe(svc.translator.t(locale, 'console:skipToContent'));
      expect(html).toContain('<main id="main" tabindex="-1">');
    }
  });
});
