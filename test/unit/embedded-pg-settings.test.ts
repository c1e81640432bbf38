import { loadConfig } from '../../src/config';

describe('embedded PostgreSQL settings', () => {
  it('treats an empty DATABASE_URL as unset, so the demo may start its own server', () => {
    expect(loadConfig({ DATABASE_URL: '' }).embeddedPg).toEqual({ mode: 'auto', probeAddress: '127.0.0.1:5432', databaseUrlSet: false });
  });
  it('never starts one when DATABASE_URL is set or BIBLIO_EMBEDDED_PG=never', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u@db:5432/x' }).embeddedPg.databaseUrlSet).toBe(true);
    expect(loadConfig({ BIBLIO_EMBEDDED_PG: 'never' }).embeddedPg.mode).toBe('never');
  });
  it('rejects a probe address without a port', () => {
    expect(() => loadConfig({ BIBLIO_PG_PROBE_ADDRESS: 'localhost' })).toThrow(/BIBLIO_PG_PROBE_ADDRESS/);
  });
});
