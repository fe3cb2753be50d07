import type { Child, FC } from 'hono/jsx';
import type { ChannelName } from '../../../store/schema';
import { maskPhoneNumber } from '../../customers/normalize';
import type { CustomerListItem } from '../../customers/search';
import { SearchForm } from './components';
import type { Page } from './context';

/** A customer's name, or the console's word for a profile without one. */
export function customerName(page: Page, name: string | null | undefined): string {
  return name && name.trim() ? name : page.t('console-customers:unnamed');
}

export function shortId(id: string): string {
  return id.slice(0, 8);
}

/** A chat channel, marked when the customer cannot be reached on it. */
export const ChannelBadge: FC<{ page: Page; channel: ChannelName; reachable?: boolean }> = ({ page, channel, reachable }) => (
  <span class={reachable === undefined ? 'badge' : reachable ? 'badge ok' : 'badge bad'} title={reachable === undefined ? undefined : page.t(`console-customers:${reachable ? 'reachable' : 'unreachable'}`)}>
    {page.t(`console-customers:channel.${channel}`)}
    {reachable === false ? ` · ${page.t('console-customers:unreachable')}` : ''}
  </span>
);

/**
 * Finding a customer to act on: a search by name, phone or plate (see searchCustomers), then one row per
 * match saying who it is (name, channels, masked phone, plates) with what the page offers to do with
 * them (`choose`): book for them, merge them. `results` is null until something was searched for.
 */
export const CustomerPicker: FC<{
  page: Page;
  /** The search: where it goes, its field's name and value, fields to keep, and its words. */
  search: { action: string; name: string; value: string; hidden?: Record<string, string>; label?: string; button: string; secondary?: boolean; autofocus?: boolean };
  results: readonly CustomerListItem[] | null;
  /** Said when the search found nobody. */
  empty: string;
  /** Whether a match's name links to its profile. */
  linkProfiles?: boolean;
  choose: (item: CustomerListItem) => Child;
}> = ({ page, search, results, empty, linkProfiles, choose }) => (
  <>
    <SearchForm {...search} id={search.label ? `${search.name}-picker` : undefined} placeholder={page.t('console-customers:list.searchPlaceholder')} />
    {results === null ? null : results.length === 0 ? (
      <p class="muted">{empty}</p>
    ) : (
      <table>
        <tbody>
          {results.map((item) => (
            <tr>
              <td>
                {linkProfiles ? <a href={`/console/customers/${item.id}`}>{customerName(page, item.displayName)}</a> : customerName(page, item.displayName)} <span class="muted">#{shortId(item.id)}</span>
                <div class="muted" style="font-size:.85rem">
                  {item.channels.map((ch) => (
                    <>
                      <ChannelBadge page={page} channel={ch.channel} reachable={ch.reachable} />{' '}
                    </>
                  ))}
                  {[item.phone ? maskPhoneNumber(item.phone) : '', item.plates.join(', ')].filter(Boolean).join(' · ')}
                </div>
              </td>
              <td style="white-space:nowrap">{choose(item)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    )}
  </>
);
