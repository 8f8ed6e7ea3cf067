// A local OpenID provider for the single sign-on tests (tests/unit/dashapp/test_oidc.py).
// It is panva's certified oidc-provider with its development sign-in pages: any
// account below signs in with any password. Never part of the app.
//
//   node server.mjs <redirect_uri>
//
// listens on a free loopback port and prints one JSON line, {"issuer": "http://..."},
// once it answers. The client is "dashapp" / "dashapp-secret" with that redirect URI.
//
// POST /__test/tamper with a JSON body changes the NEXT answer of one kind, so tests can
// play a hostile or broken provider with the real one's keys:
//   {"claims": {...}}              the ID token of the next token answer gets these
//                                  claims, re-signed with the provider's key
//   {"claims": {...}, "key": "other"}   ... signed with another key of the same kid
//   {"drop": "id_token"}           the next token answer carries no ID token
//   {"discovery": {...}}           the next discovery document gets these fields
import { generateKeyPairSync, sign } from 'node:crypto';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const redirectUri = process.argv[2];
if (!redirectUri) {
  console.error('usage: node server.mjs <redirect_uri>');
  process.exit(2);
}

const ACCOUNTS = {
  'sub-amina': {
    preferred_username: 'amina.diallo',
    email: 'amina@example.org',
    name: 'Amina Diallo',
    groups: ['staff', 'planner'],
  },
  'sub-impostor': { preferred_username: 'admin', groups: ['viewer'] },
  'sub-emile': { preferred_username: 'Émile Zola', groups: 'analyst' },
  'sub-kofi': { email: 'kofi mensah+sso@example.org', groups: ['nothing-we-know'] },
};

function rsaKey(kid) {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
}

const key = rsaKey('test-key-1');
const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');

function resign(jwt, claims, signingKey) {
  const [header, payload] = jwt.split('.').slice(0, 2)
    .map((part) => JSON.parse(Buffer.from(part, 'base64url')));
  const input = `${b64(header)}.${b64({ ...payload, ...claims })}`;
  const signature = sign('sha256', Buffer.from(input), { key: signingKey, format: 'jwk' });
  return `${input}.${signature.toString('base64url')}`;
}

let tamper = null;

const server = createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: 'dashapp',
      client_secret: 'dashapp-secret',
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    }],
    jwks: { keys: [key] },
    cookies: { keys: ['test-cookie-key-not-secret'] },
    claims: {
      openid: ['sub'],
      profile: ['preferred_username', 'name', 'groups'],
      email: ['email'],
    },
    async findAccount(_ctx, sub) {
      const account = ACCOUNTS[sub];
      if (!account) return undefined;
      return { accountId: sub, claims: async () => ({ sub, ...account }) };
    },
    features: { devInteractions: { enabled: true } },
  });
  provider.use(async (ctx, next) => {
    await next();
    if (!tamper || !ctx.body || typeof ctx.body !== 'object') return;
    if (ctx.path === '/token' && (tamper.claims || tamper.drop)) {
      if (tamper.drop) {
        delete ctx.body[tamper.drop];
      } else {
        const signingKey = tamper.key === 'other' ? rsaKey(key.kid) : key;
        ctx.body.id_token = resign(ctx.body.id_token, tamper.claims, signingKey);
      }
      tamper = null;
    } else if (ctx.path === '/.well-known/openid-configuration' && tamper.discovery) {
      Object.assign(ctx.body, tamper.discovery);
      tamper = null;
    }
  });
  const handle = provider.callback();
  server.on('request', (req, res) => {
    if (req.method === 'POST' && req.url === '/__test/tamper') {
      let body = '';
      req.on('data', (chunk) => { body += chunk; });
      req.on('end', () => {
        tamper = JSON.parse(body || 'null');
        res.writeHead(204).end();
      });
      return;
    }
    handle(req, res);
  });
  console.log(JSON.stringify({ issuer }));
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
