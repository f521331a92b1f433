// GET /, the chat page route of createApp, through app.request() and on 127.0.0.1: its headers (a strict
// Content-Security-Policy, caching), createApp's chatUi option, and that the page needs no API key while /v1 does.
// The page itself (the bundle the build makes) is driven in a browser by spec/browser/chatPage.spec.ts.
import { InvalidOptionError } from 'rxguardrails';
import { createApp } from 'rxguardrails/server';
import { CONFIGS } from './serverHarness.js';

describe('the chat page route (GET /)', () => {
  it('should serve the page as HTML with a Content-Security-Policy that allows no other origin', async () => {
    const app = await createApp({ configDir: CONFIGS });
    const response = await app.request('/');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await response.text()).toContain('<title>rxguardrails chat</title>');
    const policy = response.headers.get('content-security-policy')!;
    const directives = Object.fromEntries(policy.split('; ').map((directive) => [directive.split(' ')[0], directive.split(' ').slice(1).join(' ')]));
    expect(directives).toEqual(
      expect.objectContaining({ 'default-src': "'none'", 'connect-src': "'self'", 'img-src': 'data:', 'base-uri': "'none'", 'form-action': "'none'", 'frame-ancestors': "'none'" }),
    );
    // Nothing but the page's own inline code, by hash: no host, no scheme, no 'unsafe-inline'.
    expect(directives['script-src']).toMatch(/^('none'|('sha256-[A-Za-z0-9+/=]+' ?)+)$/);
    expect(directives['style-src']).toMatch(/^('none'|('sha256-[A-Za-z0-9+/=]+' ?)+)$/);
    expect(policy).not.toMatch(/https?:|\*|unsafe/);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('should let the browser revalidate it: no-cache, an ETag, and a 304 for the version it holds', async () => {
    const app = await createApp({ configDir: CONFIGS });
    const first = await app.request('/');
    expect(first.headers.get('cache-control')).toBe('no-cache');
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await app.request('/', { headers: { 'if-none-match': `W/"other", ${etag}` } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    expect((await app.request('/', { headers: { 'if-none-match': '"other"' } })).status).toBe(200);
  });

  it('should serve the page without the API key, which the /v1 API still requires', async () => {
    const app = await createApp({ configDir: CONFIGS, apiKey: 'sesame' });
    expect((await app.request('/')).status).toBe(200);
    expect((await app.request('/v1/rails/configs')).status).toBe(401);
  });

  it('should leave / a 404, as before, with chatUi: false', async () => {
    const app = await createApp({ configDir: CONFIGS, chatUi: false });
    const response = await app.request('/');
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: expect.objectContaining({ message: 'Unknown path GET /.', code: 'not_found' }) });
    expect((await app.request('/v1/rails/configs')).status).toBe(200);
  });

  it('should refuse a chatUi that is not a boolean, with an InvalidOptionError', async () => {
    const made = createApp({ configDir: CONFIGS, chatUi: 'off' as never });
    await expect(made).rejects.toThrow(InvalidOptionError);
    await expect(made).rejects.toThrow('createApp: chatUi must be true or false, got "off"');
  });

  it('should serve nothing else: another path is still a 404', async () => {
    const app = await createApp({ configDir: CONFIGS });
    expect((await app.request('/index.html')).status).toBe(404);
    expect((await app.request('/', { method: 'POST' })).status).toBe(404);
  });
});
