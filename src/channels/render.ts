import type { Translator } from '../i18n';
import type { Locale } from '../i18n/locales';
import type { CardReply, Choice, RenderedCard, RenderedChoice, RenderedMessage, Reply, TextRef } from './types';

export function renderText(t: Translator, locale: Locale, ref: TextRef): string {
  return 'raw' in ref ? ref.raw : t.t(locale, ref.key, ref.params);
}

function renderChoice(t: Translator, locale: Locale, choice: Choice): RenderedChoice {
  const label = renderText(t, locale, choice.label);
  switch (choice.kind) {
    case 'postback':
      return { kind: 'postback', id: choice.id, label };
    case 'datetime':
      return { kind: 'datetime', id: choice.id, label, mode: choice.mode, initial: choice.initial, min: choice.min, max: choice.max };
    case 'url':
      return { kind: 'url', url: choice.url, label };
  }
}

function renderCard(t: Translator, locale: Locale, reply: CardReply): RenderedCard {
  const title = renderText(t, locale, reply.title);
  const rows = reply.rows.map((r) => ({ label: renderText(t, locale, r.label), value: renderText(t, locale, r.value) }));
  const footer = reply.footer ? (Array.isArray(reply.footer) ? reply.footer : [reply.footer]).map((f) => renderText(t, locale, f)).join(' ') : null;
  return {
    type: 'card',
    title,
    rows,
    footer,
    choices: (reply.choices ?? []).map((c) => renderChoice(t, locale, c)),
    altText: [title, ...rows.map((r) => `${r.label}: ${r.value}`), ...(footer ? [footer] : [])].join('\n'),
    ...(reply.image ? { image: reply.image } : {}),
  };
}

/** Renders a flow's replies in the customer's language; channels then map them to native widgets. */
export function renderReplies(t: Translator, locale: Locale, replies: Reply[]): RenderedMessage[] {
  return replies.map((reply): RenderedMessage => {
    switch (reply.type) {
      case 'text': {
        const parts = Array.isArray(reply.text) ? reply.text : [reply.text];
        return {
          type: 'text',
          text: parts.map((p) => renderText(t, locale, p)).join('\n\n'),
          choices: (reply.choices ?? []).map((c) => renderChoice(t, locale, c)),
          ...(reply.columns ? { columns: reply.columns } : {}),
          ...(reply.requestContact ? { requestContact: renderText(t, locale, reply.requestContact) } : {}),
        };
      }
      case 'card':
        return renderCard(t, locale, reply);
      case 'carousel':
        return {
          type: 'carousel',
          altText: renderText(t, locale, reply.altText),
          cards: reply.cards.map((card) => renderCard(t, locale, card)),
          choices: (reply.choices ?? []).map((c) => renderChoice(t, locale, c)),
        };
      case 'image':
        return { type: 'image', url: reply.url, previewUrl: reply.previewUrl ?? reply.url };
    }
  });
}

/** The text a person reads in the staff transcript for a rendered message. */
export function transcriptText(message: RenderedMessage): string {
  switch (message.type) {
    case 'text':
      return message.text;
    case 'card':
      return message.altText;
    case 'carousel':
      return message.cards.map((card) => card.altText).join('\n\n');
    case 'image':
      return message.url;
  }
}
