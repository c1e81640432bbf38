import { ConfigError, loadConfig } from '../../src/config';

// Issue 25's two settings, read once by the config module like every other.
describe('AI_TRANSCRIBE and AI_PRICE_TABLE', () => {
  it('transcribes by default and not with AI_TRANSCRIBE=off', () => {
    expect(loadConfig({}).ai.transcribe).toBe(true);
    expect(loadConfig({ AI_TRANSCRIBE: 'off' }).ai.transcribe).toBe(false);
  });

  it('refuses anything but on/off, naming the variable', () => {
    expect(() => loadConfig({ AI_TRANSCRIBE: 'no' })).toThrow(ConfigError);
    expect(() => loadConfig({ AI_TRANSCRIBE: 'no' })).toThrow(/AI_TRANSCRIBE/);
  });

  it('passes the price table through as text (the cost report validates it at API start)', () => {
    expect(loadConfig({}).ai.priceTable).toBeUndefined();
    expect(loadConfig({ AI_PRICE_TABLE: '{"m": {"inputPerMillion": 1}}' }).ai.priceTable).toBe('{"m": {"inputPerMillion": 1}}');
  });
});
