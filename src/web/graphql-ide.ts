import { dirname, join } from 'node:path';
import { type Express } from 'express';
import { ideExampleTabsScriptLiteral } from './graphql-ide-examples';

/** Browser files the IDE and the demo page load, served from installed packages (no CDN). */
const ASSETS: Readonly<Record<string, { packageName: string; file: string; type: string }>> = {
  'react.js': { packageName: 'react', file: 'umd/react.production.min.js', type: 'text/javascript' },
  'react-dom.js': {
    packageName: 'react-dom',
    file: 'umd/react-dom.production.min.js',
    type: 'text/javascript',
  },
  'graphiql.js': { packageName: 'graphiql', file: 'graphiql.min.js', type: 'text/javascript' },
  'graphiql.css': { packageName: 'graphiql', file: 'graphiql.min.css', type: 'text/css' },
  'graphql-ws.js': { packageName: 'graphql-ws', file: 'umd/graphql-ws.min.js', type: 'text/javascript' },
};

// Located through package.json: packages' export maps do not expose their browser bundles.
function assetPath(asset: { packageName: string; file: string }): string {
  return join(dirname(require.resolve(`${asset.packageName}/package.json`)), asset.file);
}

/** Where those files are served. */
export const ASSETS_PATH = '/_assets';

const IDE_PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Poltrona GraphQL IDE</title>
  <link rel="stylesheet" href="${ASSETS_PATH}/graphiql.css">
  <style>body { margin: 0; height: 100vh; } #ide { height: 100vh; }</style>
</head>
<body>
  <div id="ide">Loading…</div>
  <script src="${ASSETS_PATH}/react.js"></script>
  <script src="${ASSETS_PATH}/react-dom.js"></script>
  <script src="${ASSETS_PATH}/graphql-ws.js"></script>
  <script src="${ASSETS_PATH}/graphiql.js"></script>
  <script>
    const httpUrl = location.origin + '/graphql';
    const wsUrl = httpUrl.replace(/^http/, 'ws');
    const clients = new Map();
    // One websocket per Authorization value, so editing the header takes effect at once.
    function wsClient(authorization) {
      if (!clients.has(authorization)) {
        clients.set(authorization, graphqlWs.createClient({
          url: wsUrl,
          connectionParams: authorization ? { authorization } : {},
        }));
      }
      return clients.get(authorization);
    }
    function headerValue(headers, name) {
      const key = Object.keys(headers || {}).find((k) => k.toLowerCase() === name);
      return key ? headers[key] : undefined;
    }
    function fetcher(params, options) {
      const headers = (options && options.headers) || {};
      const operation = options && options.documentAST && options.documentAST.definitions.find(
        (d) => d.kind === 'OperationDefinition' && (!params.operationName || (d.name && d.name.value === params.operationName)));
      if (operation && operation.operation === 'subscription') {
        return {
          subscribe(observer) {
            const dispose = wsClient(headerValue(headers, 'authorization')).subscribe(params, {
              next: (value) => observer.next(value),
              error: (error) => observer.error(error),
              complete: () => observer.complete(),
            });
            return { unsubscribe: dispose };
          },
        };
      }
      return fetch(httpUrl, {
        method: 'POST',
        headers: Object.assign({ 'content-type': 'application/json' }, headers),
        body: JSON.stringify(params),
      }).then((response) => response.json());
    }
    ReactDOM.createRoot(document.getElementById('ide')).render(React.createElement(GraphiQL, {
      fetcher,
      defaultEditorToolsVisibility: 'headers',
      headers: JSON.stringify({ Authorization: '' }, null, 2),
      shouldPersistHeaders: true,
      defaultTabs: ${ideExampleTabsScriptLiteral()},
    }));
  </script>
</body>
</html>`;

function wantsHtml(accept: string | undefined): boolean {
  return typeof accept === 'string' && accept.includes('text/html');
}

/**
 * The GraphQL IDE (GraphiQL, self-hosted: it works with no internet) at `GET /graphql` for
 * browsers, with schema docs, an editable Authorization header and subscriptions over
 * graphql-ws. Mounted only where introspection is on (not in production unless enabled).
 */
export function mountGraphQLIde(app: Express, graphqlPath: string): void {
  app.get(`${ASSETS_PATH}/:file`, (request, response, next) => {
    // An own property only: `__proto__` or `constructor` must not reach sendFile.
    const asset = Object.hasOwn(ASSETS, request.params.file) ? ASSETS[request.params.file] : undefined;
    if (!asset) {
      next();
      return;
    }
    response.setHeader('cache-control', 'public, max-age=86400');
    response.type(asset.type).sendFile(assetPath(asset));
  });
  app.get(graphqlPath, (request, response, next) => {
    if (wantsHtml(request.headers.accept) && request.query.query === undefined) {
      response.type('html').send(IDE_PAGE);
      return;
    }
    next();
  });
}
