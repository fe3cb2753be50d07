/*
 * Every text a customer can see, imported statically so the bundle works on Workers (no file system).
 * A new namespace is one import line per locale here and a file in each locales/<lng>/ folder.
 */
import zhTWCommon from '../../locales/zh-TW/common.json';
import zhTWIntents from '../../locales/zh-TW/intents.json';
import zhCNCommon from '../../locales/zh-CN/common.json';
import zhCNIntents from '../../locales/zh-CN/intents.json';
import enCommon from '../../locales/en/common.json';
import enIntents from '../../locales/en/intents.json';
import jaCommon from '../../locales/ja/common.json';
import jaIntents from '../../locales/ja/intents.json';
import thCommon from '../../locales/th/common.json';
import thIntents from '../../locales/th/intents.json';
import type { Locale } from './locales';

export const NAMESPACES = ['common', 'intents'] as const;
export type Namespace = (typeof NAMESPACES)[number];

export const resources: Record<Locale, Record<Namespace, Record<string, unknown>>> = {
  'zh-TW': { common: zhTWCommon, intents: zhTWIntents },
  'zh-CN': { common: zhCNCommon, intents: zhCNIntents },
  en: { common: enCommon, intents: enIntents },
  ja: { common: jaCommon, intents: jaIntents },
  th: { common: thCommon, intents: thIntents },
};
