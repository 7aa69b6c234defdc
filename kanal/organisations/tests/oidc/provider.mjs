// A municipal identity provider for Kanal's single sign-on tests: panva's
// certified `oidc-provider` (package.json pins it) with a few test users.
// Only the sign-in and consent pages are written here; discovery, JWKS,
// authorisation codes, PKCE, tokens and RP-initiated logout are the
// library's own.
//
// Settings come from the environment (the tests set them):
//   OIDC_PORT      loopback port to listen on
//   OIDC_CLIENTS   JSON list of client registrations (client_id, client_secret,
//                  redirect_uris, post_logout_redirect_uris)
//   OIDC_USERS     JSON object: login -> {password, name, email, groups, amr}
// Prints "ready <issuer>" on stdout once it listens.
import { generateKeyPair, exportJWK } from 'jose';
import Provider from 'oidc-provider';

const port = Number(process.env.OIDC_PORT);
const issuer = `http://127.0.0.1:${port}`;
const clients = JSON.parse(process.env.OIDC_CLIENTS);
const users = JSON.parse(process.env.OIDC_USERS);

const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const signingKey = { ...(await exportJWK(privateKey)), kid: `kanal-test-${Date.now()}`, use: 'sig', alg: 'RS256' };

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (title, body) => `<!doctype html><html lang="da"><head><meta charset="utf-8">
<title>${escape(title)}</title></head><body><main><h1>${escape(title)}</h1>${body}</main></body></html>`;

const provider = new Provider(issuer, {
  clients: clients.map((c) => ({
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    ...c,
  })),
  jwks: { keys: [signingKey] },
  cookies: { keys: ['kanal-test-provider-cookie-key'] },
  // Groups and names in the ID token itself, as Entra ID and Keycloak do.
  conformIdTokenClaims: false,
  claims: {
    amr: null,
    acr: null,
    auth_time: null,
    openid: ['sub', 'amr', 'acr', 'auth_time'],
    profile: ['name'],
    email: ['email'],
    groups: ['groups'],
  },
  scopes: ['openid', 'profile', 'email', 'groups'],
  pkce: { required: () => true },
  // Short-lived ID tokens, so a test can step Kanal's clock past one.
  ttl: { IdToken: 120 },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: { enabled: true },
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, id) {
    const user = users[id];
    if (!user) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, name: user.name, email: user.email, groups: user.groups || [] };
      },
    };
  },
});

async function formBody(req) {
  let raw = '';
  for await (const chunk of req) raw += chunk;
  return Object.fromEntries(new URLSearchParams(raw));
}

provider.use(async (ctx, next) => {
  const match = ctx.path.match(/^\/interaction\/([\w-]+)$/);
  if (!match) return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  const { prompt, params, session } = details;
  if (ctx.method === 'GET') {
    ctx.type = 'html';
    if (prompt.name === 'login') {
      ctx.body = page('Kommunens login', `<form method="post" autocomplete="off">
<label>Brugernavn <input name="login" required></label>
<label>Adgangskode <input name="password" type="password" required></label>
<button type="submit">Log ind</button></form>`);
    } else {
      ctx.body = page('Giv adgang', `<p>${escape(params.client_id)} beder om dit navn, din e-mail og dine grupper.</p>
<form method="post"><button type="submit">Giv adgang</button></form>`);
    }
    return undefined;
  }
  const body = await formBody(ctx.req);
  let result;
  if (prompt.name === 'login') {
    const user = users[body.login];
    if (!user || user.password !== body.password) {
      ctx.status = 401;
      ctx.type = 'html';
      ctx.body = page('Kommunens login', '<p role="alert">Forkert brugernavn eller adgangskode.</p>');
      return undefined;
    }
    result = { login: { accountId: body.login, amr: user.amr || ['pwd'] } };
  } else {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    grant.addOIDCScope(params.scope);
    result = { consent: { grantId: await grant.save() } };
  }
  await provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: true });
  return undefined;
});

provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(`ready ${issuer}\n`);
});
