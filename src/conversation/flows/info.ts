import { activeServiceType, loadBranchCapacity } from '../../booking/capacity';
import { branchAddressIn, branchNameIn, branchProfiles, mapLinkOf, type BranchProfile } from '../../booking/branch-profile';
import type { Choice, Input, Reply, TextRef } from '../../channels/types';
import type { OpenInterval } from '../../domain/booking-rules';
import { localTimeOf, type Weekday } from '../../domain/local-time';
import { holidaysAhead, openNow, weekRuns } from '../../domain/opening-hours';
import { formatDayLong, formatDayShort } from '../../i18n/format';
import type { Locale } from '../../i18n/locales';
import { infoButtons as buttons, intentButtons, type InfoTopic } from '../button-ids';
import type { FlowContext } from '../flow';
import { defineFlow, endings, optionChoices, pickOne, stepKit, type Option, type Outcome } from '../kit';
import { callChoice, serviceName } from './booking-view';

/*
 * Questions about a branch, answered from its own data: opening hours (today and the week, holidays),
 * the address with a map link, the phone number, the services that can be booked. Reached from the menu
 * ("Branch info"), or straight from a sentence ("when are you open?", 「地址在哪裡」) — also in the middle
 * of another flow, which then asks its question again (see the engine).
 */

type Steps = {
  topic: Record<string, never>;
  branch: { topic: InfoTopic };
};
type Result = Outcome<Steps>;
const { ask, reask, done } = stepKit<Steps>();

const TOPICS: readonly InfoTopic[] = ['hours', 'address', 'phone', 'services'];
const isTopic = (t: string): t is InfoTopic => (TOPICS as readonly string[]).includes(t);

/** Up to this many branches are answered together; more are asked about one at a time. */
const ANSWERED_TOGETHER = 3;
/** Holidays this far ahead are named with the hours. */
const HOLIDAY_DAYS = 60;

const text = (key: string, params?: Record<string, string | number>): TextRef => ({ key: `info.${key}`, params });
const menuChoice = (): Choice => ({ kind: 'postback', id: intentButtons.id('menu'), label: { key: 'labels.menu' } });
const bookChoice = (): Choice => ({ kind: 'postback', id: intentButtons.id('book'), label: { key: 'menu.book' } });
const humanChoice = (): Choice => ({ kind: 'postback', id: intentButtons.id('human'), label: { key: 'menu.human' } });

function topicOptions(): Option<InfoTopic>[] {
  return TOPICS.map((t) => ({ id: buttons.id('topic', t), label: text(t), names: [], value: t }));
}

// ——— hours ———

/** "Mon", "週一", "月" — a weekday as a timetable writes it. */
function weekdayName(locale: Locale, day: Weekday): string {
  // 2026-11-30 is a Monday.
  const offset = { mon: 0, tue: 1, wed: 2, thu: 3, fri: 4, sat: 5, sun: 6 }[day];
  return new Intl.DateTimeFormat(locale, { timeZone: 'UTC', weekday: 'short' }).format(new Date(Date.UTC(2026, 10, 30 + offset, 12)));
}

const intervalsText = (ctx: FlowContext, intervals: OpenInterval[]) => (intervals.length === 0 ? ctx.t('info.closed') : intervals.map(([a, b]) => `${a}–${b}`).join(', '));

function hoursText(ctx: FlowContext, b: BranchProfile): string {
  const clock = ctx.clock.at(b.timeZone);
  const today = clock.today();
  const now = openNow(b.openingHours, b.holidays, today, localTimeOf(clock.now, b.timeZone));
  const day = new Intl.DateTimeFormat(ctx.locale, { timeZone: 'UTC', weekday: 'long' }).format(new Date(`${today}T12:00:00Z`));
  let status: string;
  if (now.state === 'open') status = ctx.t('info.openNow', { until: now.until });
  else if (now.state === 'later_today') status = ctx.t('info.opensLater', { time: now.opensAt });
  else {
    status = ctx.t(now.holiday ? 'info.closedHoliday' : 'info.closedToday', { day });
    if (now.next) status += `\n${ctx.t('info.nextOpen', { when: `${formatDayLong(ctx.locale, now.next.date)} ${now.next.opensAt}` })}`;
  }
  const week = weekRuns(b.openingHours).map((r) => {
    const days = r.from === r.to ? weekdayName(ctx.locale, r.from) : `${weekdayName(ctx.locale, r.from)}–${weekdayName(ctx.locale, r.to)}`;
    return `${days}  ${intervalsText(ctx, r.intervals)}`;
  });
  const holidays = holidaysAhead(b.holidays, today, HOLIDAY_DAYS);
  return [
    ctx.t('info.hoursTitle', { branch: branchNameIn(b, ctx.locale) }),
    status,
    week.join('\n'),
    ...(holidays.length > 0 ? [ctx.t('info.holidays', { dates: holidays.map((h) => formatDayShort(ctx.locale, h)).join(', ') })] : []),
  ].join('\n\n');
}

// ——— address, phone, services ———

async function servicesText(ctx: FlowContext, b: BranchProfile): Promise<string | null> {
  const capacity = await loadBranchCapacity(ctx.tx, b.id);
  const names = (capacity?.serviceTypes ?? []).filter((t) => activeServiceType(capacity!, t.code)).map((t) => `• ${serviceName(t.names, ctx.locale, t.code)}`);
  return names.length > 0 ? ctx.t('info.servicesText', { branch: branchNameIn(b, ctx.locale), list: names.join('\n') }) : null;
}

async function answer(ctx: FlowContext, topic: InfoTopic, branches: BranchProfile[]): Promise<Reply[]> {
  const several = branches.length > 1;
  switch (topic) {
    case 'hours':
      return [{ type: 'text', text: branches.map((b) => ({ raw: hoursText(ctx, b) })), choices: [bookChoice(), ...(several ? [] : [{ kind: 'postback' as const, id: buttons.id('topic', 'address'), label: text('address') }]), menuChoice()] }];
    case 'address': {
      const known = branches.filter((b) => branchAddressIn(b, ctx.locale));
      if (known.length === 0) return [{ type: 'text', text: text('noAddress'), choices: [humanChoice(), menuChoice()] }];
      const parts: TextRef[] = known.map((b) => text('addressText', { branch: branchNameIn(b, ctx.locale), address: branchAddressIn(b, ctx.locale)! }));
      const maps: Choice[] = several ? [] : known.flatMap((b) => {
        const url = mapLinkOf(b, ctx.locale);
        return url ? [{ kind: 'url' as const, url, label: text('openMap') }] : [];
      });
      // Several branches: each map link in the text, since buttons cannot say which branch they are for.
      if (several) known.forEach((b, i) => {
        const url = mapLinkOf(b, ctx.locale);
        if (url) parts[i] = { raw: `${ctx.t('info.addressText', { branch: branchNameIn(b, ctx.locale), address: branchAddressIn(b, ctx.locale)! })}\n${url}` };
      });
      return [{ type: 'text', text: parts, choices: [...maps, bookChoice(), menuChoice()] }];
    }
    case 'phone': {
      const known = branches.filter((b) => b.phone);
      if (known.length === 0) return [{ type: 'text', text: text('noPhone'), choices: [humanChoice(), menuChoice()] }];
      return [{ type: 'text', text: known.map((b) => text('phoneText', { branch: branchNameIn(b, ctx.locale), phone: b.phone! })), choices: [...(several ? [] : callChoice(ctx.channel, known[0]!.phone)), humanChoice(), menuChoice()] }];
    }
    case 'services': {
      const texts = (await Promise.all(branches.map((b) => servicesText(ctx, b)))).filter((t): t is string => t !== null);
      if (texts.length === 0) return [{ type: 'text', text: { key: 'notAvailable' }, choices: [humanChoice(), menuChoice()] }];
      return [{ type: 'text', text: texts.map((raw) => ({ raw })), choices: [bookChoice(), menuChoice()] }];
    }
  }
}

/** Answers `topic` for every branch when there are few, else asks which branch. */
async function answerTopic(ctx: FlowContext, topic: InfoTopic, branchId: string | null = null): Promise<Result> {
  const all = await branchProfiles(ctx.tx);
  const chosen = branchId ? all.filter((b) => b.id === branchId) : all;
  if (chosen.length === 0) return endings.notAvailable(ctx);
  if (chosen.length > ANSWERED_TOGETHER) return askBranch(ctx, topic, chosen);
  return done(...(await answer(ctx, topic, chosen)));
}

function branchOptions(ctx: FlowContext, topic: InfoTopic, branches: BranchProfile[]): Option<string>[] {
  return branches.map((b) => ({ id: buttons.id('atBranch', topic, b.id), label: { raw: branchNameIn(b, ctx.locale) }, names: [b.name, ...Object.values(b.names)], value: b.id }));
}

function askBranch(ctx: FlowContext, topic: InfoTopic, branches: BranchProfile[], again = false): Result {
  return (again ? reask : ask)('branch', { topic }, { type: 'text', text: text('chooseBranch'), choices: optionChoices(branchOptions(ctx, topic, branches)) });
}

/** A button of this flow, from a menu, a sentence the engine understood, or an old message. */
function pressed(ctx: FlowContext, input: Input): Promise<Result> | Result | null {
  const button = input.type === 'choice' ? buttons.parse(input.id) : null;
  if (!button) return null;
  if (!isTopic(button.args.topic)) return endings.staleButton(ctx);
  return answerTopic(ctx, button.args.topic, button.name === 'atBranch' ? button.args.branchId : null);
}

/** See the file comment. */
export const infoFlow = defineFlow<Steps>({
  name: buttons.prefix,
  stateVersion: 1,
  intent: 'info',
  menuOrder: 70,
  start(ctx, input) {
    return (input && pressed(ctx, input)) ?? ask('topic', {}, { type: 'text', text: text('prompt'), choices: [...optionChoices(topicOptions()), menuChoice()] });
  },
  steps: {
    async topic(ctx, state, input) {
      const answered = pressed(ctx, input);
      if (answered) return answered;
      const topic = pickOne(input, topicOptions());
      if (topic) return answerTopic(ctx, topic);
      return reask('topic', state, { type: 'text', text: text('prompt'), choices: [...optionChoices(topicOptions()), menuChoice()] });
    },
    async branch(ctx, state, input) {
      const answered = pressed(ctx, input);
      if (answered) return answered;
      const all = await branchProfiles(ctx.tx);
      const branchId = pickOne(input, branchOptions(ctx, state.topic, all));
      if (branchId) return answerTopic(ctx, state.topic, branchId);
      return askBranch(ctx, state.topic, all, true);
    },
  },
});
