// The OpenID Connect provider of the OIDC tests: panva's oidc-provider, configured from the JSON
// file named by OP_CONFIG so that each test decides the issuer's keys and clients:
//
//   {"port": 47301,
//    "keys": [<private JWK>, ...],          the first key of an algorithm signs; all are published
//    "audiences": ["https://occi.test/"],   resource indicators a client may ask for; the first is the default
//    "clients": [{"client_id": "...", "client_secret": "...",
//                 "format": "jwt" | "opaque",     the access token's format (default jwt)
//                 "ttl": 600,                      its lifetime in seconds
//                 "claims": {...}}]}               extra claims of its tokens (groups, entitlements)
//
// Tokens come from the client-credentials grant; opaque ones are checked at /token/introspection.
// Restarting it with another key list is how the tests rotate the issuer's keys.
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.env.OP_CONFIG, 'utf8'));
const issuer = `http://127.0.0.1:${config.port}`;
const clients = new Map(config.clients.map((client) => [client.client_id, client]));

const provider = new Provider(issuer, {
  clients: config.clients.map((client) => ({
    client_id: client.client_id,
    client_secret: client.client_secret,
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: 'openid compute',
  })),
  jwks: { keys: config.keys },
  scopes: ['openid', 'compute'],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => config.audiences[0],
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resource, client) => {
        if (!config.audiences.includes(resource)) {
          throw new Error(`unknown resource ${resource}`);
        }
        const settings = clients.get(client.clientId) || {};
        return {
          scope: 'compute',
          audience: resource,
          accessTokenFormat: settings.format || 'jwt',
          accessTokenTTL: settings.ttl || 600,
          jwt: { sign: { alg: settings.alg || 'RS256' } },
        };
      },
    },
  },
  extraTokenClaims: (ctx, token) => (clients.get(token.clientId) || {}).claims || {},
});
provider.proxy = false;

const server = provider.listen(config.port, '127.0.0.1', () => console.log(`listening on ${issuer}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
