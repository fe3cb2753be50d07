import { afterAll } from 'vitest';
import { dropSpareSchemas } from './stores';

// Every test file: the Postgres schemas kept for reuse between its tests go when it ends.
afterAll(dropSpareSchemas);
