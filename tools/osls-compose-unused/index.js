// serverless-step-functions declares @osls/compose but never requires it; if a later version starts to, say so.
throw new Error(
  '@osls/compose is overridden by tools/osls-compose-unused because serverless-step-functions did not use it. ' +
    'It now does: remove the "@osls/compose" entry from the root package.json\'s overrides and run npm install.',
);
