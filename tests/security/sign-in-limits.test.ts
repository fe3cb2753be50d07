import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createStaffAccount } from '../../src/staff/accounts';
import { MAX_FAILURES_PER_ACCOUNT } from '../../src/staff/auth/login-limit';
import { testConfig } from '../helpers/config';
import { startTestService, type TestService } from '../helpers/service';
import { TEST_PASSWORD } from '../helpers/staff';
import { closeTestD1, flowDialects } from '../helpers/stores';

/* The sign-in limits on every store the service runs on, D1 too (whose transactions write only at commit). */
describe.each(flowDialects)('sign-in limits on $name', (dialect) => {
  let svc: TestService;
  beforeEach(async () => {
    svc = await startTestService(dialect, testConfig());
    await createStaffAccount(svc.db.store, { email: 'mei@dealer.example', role: 'advisor', password: TEST_PASSWORD, branches: 'all' }, { kind: 'cli', label: 'test' }, new Date(), { defaultLocale: 'en', iterations: 1000 });
  });
  afterEach(async () => {
    await svc.close();
  });
  afterAll(closeTestD1);

  const login = (password: string, from: string) =>
    svc.app.request(
      '/console/login',
      { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ email: 'mei@dealer.example', password }).toString() },
      { incoming: { socket: { remoteAddress: from } } },
    );

  it('a right password clears the count; wrong ones past the limit are refused, the right one too', async () => {
    for (let i = 0; i < MAX_FAILURES_PER_ACCOUNT - 1; i++) expect((await login(`wrong ${i}`, '192.0.2.1')).status).toBe(401);
    expect((await login(TEST_PASSWORD, '192.0.2.1')).status).toBe(303);
    // The successful attempt is not left counted against its address.
    const left = await svc.db.store.db.selectFrom('login_attempts').select('key').execute();
    expect(left.filter((r) => r.key.startsWith('account:'))).toEqual([]);
    expect(left.filter((r) => r.key === 'ip:192.0.2.1')).toHaveLength(MAX_FAILURES_PER_ACCOUNT - 1);
    for (let i = 0; i < MAX_FAILURES_PER_ACCOUNT; i++) expect((await login(`wrong again ${i}`, '192.0.2.2')).status).toBe(401);
    expect((await login(TEST_PASSWORD, '192.0.2.3')).status).toBe(429);
    // Refused attempts are not written: the wait does not grow with them.
    expect((await svc.db.store.db.selectFrom('login_attempts').select('key').where('key', '=', 'account:mei@dealer.example').execute()).length).toBe(MAX_FAILURES_PER_ACCOUNT);
  });
});
