// oidc-provider (OpenID Certified) on a free loopback port, for Snowlink's OAuth end-to-end
// test. Prints one JSON line `{"issuer": "http://127.0.0.1:PORT"}` once it listens, then serves
// until its standard input closes or it is killed. The client is a native public client
// (RFC 8252): PKCE required, no secret, redirect http://127.0.0.1/callback on any port (§7.3).
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const server = createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'snowlink-test',
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        redirect_uris: ['http://127.0.0.1/callback'],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
      },
    ],
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: true },
      revocation: { enabled: true },
    },
    // Refresh tokens without the offline_access + prompt=consent dance: ServiceNow issues one
    // on every code exchange of a confidential client, which is what the client must handle.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  });
  server.on("request", provider.callback());
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});

// The test reads only the first line and then closes the pipe: anything printed later must not
// crash the server with EPIPE.
process.stdout.on('error', () => {});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
