import type { Migration, MigrationProvider } from 'kysely';
import * as m0001 from './0001_foundation';
import * as m0002 from './0002_staff';
import * as m0003 from './0003_booking';
import * as m0004 from './0004_reminders';
import * as m0005 from './0005_repair_orders';
import * as m0006 from './0006_appointment_start_index';
import * as m0007 from './0007_line_rich_menu_links';
import * as m0008 from './0008_customer_reach';
import * as m0011 from './0011_complaints';
import * as m0010 from './0010_repair_progress';
import * as m0012 from './0012_survey';
import * as m0013 from './0013_outbox_delivery';

/**
 * Migrations are listed here rather than read from disk so the same list runs on Node and on Workers
 * (which has no file system). A landed migration is never edited; a change is a new file.
 */
export const migrations: Record<string, Migration> = {
  '0001_foundation': m0001,
  '0002_staff': m0002,
  '0003_booking': m0003,
  '0004_reminders': m0004,
  '0005_repair_orders': m0005,
  '0006_appointment_start_index': m0006,
  '0007_line_rich_menu_links': m0007,
  '0008_customer_reach': m0008,
  '0011_complaints': m0011,
  '0010_repair_progress': m0010,
  '0012_survey': m0012,
  '0013_outbox_delivery': m0013,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
