// A real OAuth 2.0 / OpenID Connect authorization server for mailsetup's tests: npm's
// oidc-provider (panva, OpenID certified), started on loopback by tests/src/oidc.rs.
//
// - Authorization code flow with PKCE (S256) required for every client; opaque access
//   tokens with scopes; an id_token with the `email` claim (the account id is the address
//   typed at the login page); refresh tokens with `offline_access`.
// - Development interactions (oidc-provider's own login and consent pages): any login name
//   and password sign in; plain HTML forms a browser or an HTTP agent can fill; the
//   consent page's "Cancel" link ends in `error=access_denied`.
// - Token introspection (RFC 7662) for Dovecot's `oauth2` passdb and revocation (RFC 7009);
//   introspection answers `username` (the address), which Dovecot logs in as.
// - Dynamic client registration (`POST /reg`), so each test registers its own client.
// - An account whose login is listed in OIDC_NO_MAIL_SCOPE is granted every scope but
//   `mail`, like a user who unticks the mail permission on a granular consent screen.
// - `POST /test/mint` (header `x-admin-key: $OIDC_ADMIN_KEY`) issues an access token for
//   {email, scope, client_id} without a browser: the harness's `token_for`.
//
// Environment: OIDC_PORT (required), OIDC_ADMIN_KEY (required), OIDC_INTROSPECTION_SECRET
// (the `dovecot` client's secret), OIDC_NO_MAIL_SCOPE (comma-separated logins).
// Prints `ready <port>` on stdout once it listens. Stops when stdin closes (the harness's
// watchdog pipe).

import http from 'node:http';
import crypto from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.env.OIDC_PORT);
const adminKey = process.env.OIDC_ADMIN_KEY;
if (!port || !adminKey) {
  console.error('OIDC_PORT and OIDC_ADMIN_KEY are required');
  process.exit(2);
}
const noMail = new Set((process.env.OIDC_NO_MAIL_SCOPE || '').split(',').filter(Boolean));
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'dovecot',
    client_secret: process.env.OIDC_INTROSPECTION_SECRET || 'dovecot-introspection',
    grant_types: [],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  scopes: ['openid', 'email', 'offline_access', 'mail'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  // The id_token carries the `email` claim even beside an access token, as Google's and
  // Microsoft's do.
  conformIdTokenClaims: false,
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: id, email_verified: true };
      },
    };
  },
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (!grantId) return undefined;
    const grant = await ctx.oidc.provider.Grant.find(grantId);
    if (grant && noMail.has(grant.accountId) && grant.getOIDCScope().split(' ').includes('mail')) {
      grant.rejectOIDCScope('mail');
      await grant.save();
    }
    return grant;
  },
  async extraTokenClaims(ctx, token) {
    return token.kind === 'AccessToken' ? { username: token.accountId } : undefined;
  },
  features: {
    devInteractions: { enabled: true },
    introspection: {
      enabled: true,
      // Dovecot (the `dovecot` client) may introspect every token.
      async allowedPolicy(ctx, client, token) {
        return client.clientId === 'dovecot' || token.clientId === client.clientId;
      },
    },
    revocation: { enabled: true },
    registration: { enabled: true },
  },
  pkce: { required: () => true },
  // Offer a refresh token whenever `offline_access` was asked for and granted (the
  // default also wants prompt=consent).
  async issueRefreshToken(ctx, client, code) {
    return client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access');
  },
  ttl: {
    AccessToken: 3600,
    AuthorizationCode: 120,
    IdToken: 3600,
    RefreshToken: 86400,
    Interaction: 600,
    Session: 3600,
    Grant: 86400,
  },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = `<!doctype html><title>oidc error</title><p id="error">${String(out.error).replace(/[<&]/g, '')}</p>`;
  },
});
provider.proxy = false;

async function mint(req, res) {
  if (req.headers['x-admin-key'] !== adminKey) {
    res.writeHead(403).end('forbidden');
    return;
  }
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 10000) {
      res.writeHead(413).end();
      return;
    }
  }
  const { email, scope, client_id: clientId } = JSON.parse(body);
  const client = await provider.Client.find(clientId);
  if (!client) {
    res.writeHead(400).end('unknown client');
    return;
  }
  const grant = new provider.Grant({ accountId: email, clientId });
  grant.addOIDCScope(scope);
  const grantId = await grant.save();
  const token = new provider.AccessToken({
    accountId: email,
    client,
    grantId,
    scope,
    gty: 'authorization_code',
    extra: { username: email },
  });
  const value = await token.save();
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ access_token: value, scope, expires_in: 3600 }));
}

const callback = provider.callback();
const server = http.createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/test/mint') {
    mint(req, res).catch((e) => res.writeHead(500).end(String(e)));
    return;
  }
  callback(req, res);
});
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`ready ${port}\n`);
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
