import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SUPPORTED_LOCALES, type Locale } from '../../src/i18n/locales';
import { NAMESPACES, resources } from '../../src/i18n/resources';

/*
 * locales/GLOSSARY.md names one term for each thing and lists the variants the service does not write. This
 * test reads that list, so the glossary stays the one place the rule is kept: a text that slips back to a
 * variant (a converted 分公司, a copied "Switched off", a doubled วันที่) fails here with the term to use.
 */

type Scope = 'all' | 'customer' | 'staff';
interface Variant {
  locale: Locale;
  scope: Scope;
  variant: string;
  instead: string;
}

const GLOSSARY = readFileSync(new URL('../../locales/GLOSSARY.md', import.meta.url), 'utf8');

/** The rows of the "Words the service does not write" table. */
function variants(): Variant[] {
  const section = GLOSSARY.split(/^## Words the service does not write$/m)[1];
  if (!section) throw new Error('GLOSSARY.md has no "Words the service does not write" section');
  const rows: Variant[] = [];
  for (const line of section.split('\n')) {
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    if (cells.length !== 4 || cells[0] === 'locale' || /^-+$/.test(cells[0]!)) continue;
    const [locale, scope, variant, instead] = cells as [string, string, string, string];
    if (!(SUPPORTED_LOCALES as readonly string[]).includes(locale)) throw new Error(`GLOSSARY.md: unknown locale "${locale}"`);
    if (scope !== 'all' && scope !== 'customer' && scope !== 'staff') throw new Error(`GLOSSARY.md: unknown scope "${scope}"`);
    rows.push({ locale: locale as Locale, scope, variant, instead });
  }
  return rows;
}

/** What customers type is kept in every variant so the chat understands it; the rule is for what we write. */
const TYPED = new Set(['words', 'intents']);
const scopeOf = (ns: string): Exclude<Scope, 'all'> => (ns.startsWith('console') ? 'staff' : 'customer');

function texts(tree: unknown, path = ''): [string, string][] {
  if (typeof tree === 'string') return [[path, tree]];
  if (Array.isArray(tree)) return tree.flatMap((v, i) => texts(v, `${path}[${i}]`));
  if (tree && typeof tree === 'object') return Object.entries(tree).flatMap(([k, v]) => texts(v, path ? `${path}.${k}` : k));
  return [];
}

/** Every text of one locale's namespaces that uses a variant the glossary rules out, with the term to use. */
function variantsUsed(locale: Locale, namespaces: Record<string, unknown>, table: Variant[]): string[] {
  const found: string[] = [];
  for (const [ns, tree] of Object.entries(namespaces)) {
    if (TYPED.has(ns)) continue;
    const rules = table.filter((v) => v.locale === locale && (v.scope === 'all' || v.scope === scopeOf(ns)));
    for (const [key, text] of texts(tree)) {
      for (const rule of rules) if (text.includes(rule.variant)) found.push(`${ns}:${key} has "${rule.variant}" (use ${rule.instead}): ${text}`);
    }
  }
  return found;
}

describe('the glossary', () => {
  const table = variants();

  it('lists variants for every locale', () => {
    expect(table.length).toBeGreaterThan(20);
    for (const locale of SUPPORTED_LOCALES) expect(table.some((v) => v.locale === locale), locale).toBe(true);
  });

  it('finds a variant in what the service writes, by scope, and leaves what customers type alone', () => {
    const namespaces = {
      'console-admin': { branches: { title: '分公司' } },
      booking: { askLoaner: '需要备用车吗？' },
      complaint: { opened: '您的客訴編號' },
      words: { yes: ['客訴'] },
    };
    expect(variantsUsed('zh-CN', namespaces, table)).toEqual([
      'console-admin:branches.title has "分公司" (use 门店): 分公司',
      'booking:askLoaner has "备用车" (use 代步车): 需要备用车吗？',
    ]);
    // 客訴 is ruled out for zh-TW customers only: staff say it, and customers may type it.
    expect(variantsUsed('zh-TW', { 'console-complaints': { title: '客訴' }, ...namespaces }, table).some((f) => f.startsWith('complaint:opened'))).toBe(true);
    expect(variantsUsed('zh-TW', { 'console-complaints': { title: '客訴' } }, table)).toEqual([]);
  });

  for (const locale of SUPPORTED_LOCALES) {
    it(`holds in every ${locale} text the service writes`, () => {
      const namespaces = Object.fromEntries(NAMESPACES.map((ns) => [ns, resources[locale][ns]]));
      expect(variantsUsed(locale, namespaces, table)).toEqual([]);
    });
  }
});
