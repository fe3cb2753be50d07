import type { BlobStore } from '../../blobs/blob-store';
import type { Choice } from '../../channels/types';
import type { MediaLinks } from '../../complaints/media-links';
import type { Config } from '../../config';
import type { Translator } from '../../i18n';
import type { Logger } from '../../ops/logger';
import type { GuardDeps, RouteRegistry } from '../guard';
import type { StaffServices } from '../services';

/** What the console is built from (see createConsole). */
export interface ConsoleDeps extends GuardDeps {
  config: Config;
  translator: Translator;
  logger: Logger;
  registry: RouteRegistry;
  /** PBKDF2 iterations for new passwords (tests lower it; production keeps the default). */
  passwordIterations?: number;
  /** Wakes the outbox sender after staff queue a message. */
  onOutbox?: () => void;
  /** The customer's main menu, offered when staff hand a conversation back to the bot. */
  menuChoices?: () => Choice[];
  /** Where photos are kept and links to them (complaint photos). */
  blobs?: BlobStore;
  mediaLinks?: MediaLinks;
}

/** What every console page module gets: the deps and the staff services, built once in createConsole. */
export interface ConsoleContext extends ConsoleDeps {
  services: StaffServices;
}
