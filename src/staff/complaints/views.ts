import type { Kysely } from 'kysely';
import { loadComplaintBranch, type ComplaintBranch } from '../../complaints/branch';
import { slaState, type SlaState } from '../../complaints/business-hours';
import type { MediaLinks } from '../../complaints/media-links';
import type { ChannelName, ComplaintCategory, ComplaintEventRow, ComplaintPriority, ComplaintRow, ComplaintSource, ComplaintStatus, Database } from '../../store/schema';

/*
 * Tickets as staff and integrations read them: the summary the inbox lists (with where each deadline
 * stands) and the whole ticket with its timeline. Shapes only, plus the reads they need.
 */

export interface Deadline {
  /** UTC ISO. */
  dueAt: string;
  doneAt: string | null;
  state: SlaState;
}

export interface ComplaintSummary {
  id: string;
  reference: string;
  status: ComplaintStatus;
  category: ComplaintCategory | null;
  priority: ComplaintPriority;
  source: ComplaintSource;
  channel: ChannelName | null;
  branch: { id: string; name: string };
  customer: { id: string; name: string | null };
  /** The customer's own words: what they described, or the first thing they wrote to the person they asked for. */
  words: string;
  assignee: { id: string; name: string } | null;
  createdAt: string;
  updatedAt: string;
  deadlines: { firstResponse: Deadline; resolution: Deadline };
  /** The worse of the two deadlines that still matter: breached, at_risk, on_track (or met / missed once done). */
  sla: SlaState;
}

export interface TimelineEntry {
  id: number;
  kind: ComplaintEventRow['kind'];
  at: string;
  actor: { type: ComplaintEventRow['actor_type']; id: string | null; name: string | null };
  channel: ChannelName | null;
  text: string | null;
  /** A link to the photo, for a photo entry. */
  photoUrl: string | null;
  details: Record<string, unknown> | null;
}

const SEVERITY: Record<SlaState, number> = { breached: 4, missed: 3, at_risk: 2, on_track: 1, met: 0 };

/** Where the ticket's two deadlines stand now (the resolution's is done when resolved or closed). */
export function deadlinesOf(c: ComplaintRow, branch: ComplaintBranch | null, now: Date): { deadlines: { firstResponse: Deadline; resolution: Deadline }; sla: SlaState } {
  const calendar = branch?.calendar ?? { timeZone: 'UTC', openingHours: { sun: [], mon: [], tue: [], wed: [], thu: [], fri: [], sat: [] }, holidays: [] };
  const settings = branch?.settings ?? { firstResponseMinutes: 30, resolutionMinutes: 1080 };
  const resolvedAt = c.resolved_at ?? c.closed_at;
  const deadline = (dueAt: string, doneAt: string | null, totalMinutes: number): Deadline => ({
    dueAt,
    doneAt,
    state: slaState(calendar, { now: now.getTime(), dueAt: Date.parse(dueAt), doneAt: doneAt ? Date.parse(doneAt) : null, totalMinutes }),
  });
  const firstResponse = deadline(c.first_response_due_at, c.first_responded_at, settings.firstResponseMinutes);
  const resolution = deadline(c.resolution_due_at, resolvedAt, settings.resolutionMinutes);
  const sla = SEVERITY[firstResponse.state] >= SEVERITY[resolution.state] ? firstResponse.state : resolution.state;
  return { deadlines: { firstResponse, resolution }, sla };
}

/** Branches with their calendars, loaded once for a list. */
export async function branchesOf(db: Kysely<Database>, ids: readonly string[]): Promise<Map<string, ComplaintBranch>> {
  const out = new Map<string, ComplaintBranch>();
  for (const id of new Set(ids)) {
    const branch = await loadComplaintBranch(db, id);
    if (branch) out.set(id, branch);
  }
  return out;
}

/** Staff names by id (assignees, authors), for a list. */
export async function staffNames(db: Kysely<Database>, ids: readonly (string | null)[]): Promise<Map<string, string>> {
  const wanted = [...new Set(ids.filter((id): id is string => id !== null))];
  if (wanted.length === 0) return new Map();
  const rows = await db.selectFrom('staff_users').select(['id', 'name']).where('id', 'in', wanted).execute();
  return new Map(rows.map((r) => [r.id, r.name]));
}

/** The first thing each ticket's customer wrote, for tickets opened without a description ("talk to a person"). */
async function firstWords(db: Kysely<Database>, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('complaint_events')
    .select(['complaint_id', 'text'])
    .where('complaint_id', 'in', [...ids])
    .where('kind', '=', 'customer_message')
    .orderBy('id', 'asc')
    .execute();
  const out = new Map<string, string>();
  for (const r of rows) if (r.text && !out.has(r.complaint_id)) out.set(r.complaint_id, r.text);
  return out;
}

export async function summariesOf(db: Kysely<Database>, rows: readonly ComplaintRow[], now: Date): Promise<ComplaintSummary[]> {
  const [branches, names, customers, words] = await Promise.all([
    branchesOf(
      db,
      rows.map((r) => r.branch_id),
    ),
    staffNames(
      db,
      rows.map((r) => r.assignee_id),
    ),
    rows.length ? db.selectFrom('customers').select(['id', 'display_name']).where('id', 'in', [...new Set(rows.map((r) => r.customer_id))]).execute() : Promise.resolve([]),
    firstWords(
      db,
      rows.filter((r) => !r.description).map((r) => r.id),
    ),
  ]);
  const customerNames = new Map(customers.map((c) => [c.id, c.display_name]));
  return rows.map((c) => {
    const branch = branches.get(c.branch_id) ?? null;
    return {
      id: c.id,
      reference: c.reference,
      status: c.status,
      category: c.category,
      priority: c.priority,
      source: c.source,
      channel: c.channel,
      branch: { id: c.branch_id, name: branch?.name ?? '' },
      customer: { id: c.customer_id, name: customerNames.get(c.customer_id) ?? null },
      words: c.description || words.get(c.id) || '',
      assignee: c.assignee_id ? { id: c.assignee_id, name: names.get(c.assignee_id) ?? '' } : null,
      createdAt: c.created_at,
      updatedAt: c.updated_at,
      ...deadlinesOf(c, branch, now),
    };
  });
}

export async function timelineOf(events: readonly ComplaintEventRow[], links: MediaLinks | null): Promise<TimelineEntry[]> {
  return Promise.all(
    events.map(async (e) => ({
      id: e.id,
      kind: e.kind,
      at: e.created_at,
      actor: { type: e.actor_type, id: e.actor_id, name: e.actor_label },
      channel: e.channel,
      text: e.text,
      photoUrl: e.blob_key && links ? await links.linkFor(e.blob_key, { absolute: false }) : null,
      details: e.details ? (JSON.parse(e.details) as Record<string, unknown>) : null,
    })),
  );
}
