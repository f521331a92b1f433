// Internal: the chat page served at `/`. This file is a stand-in for running the sources (tsx, the specs): the
// build (scripts/build.mjs) bundles chat/ (page.ts, page.css, index.html) into one HTML file and writes it, with the
// hashes of its inline script and style for the Content-Security-Policy, over this module in dist/esm and dist/cjs.

/** The page and what its Content-Security-Policy allows inline. */
export interface ChatPage {
  readonly html: string;
  /** `sha256-...` of each inline script. */
  readonly scriptHashes: readonly string[];
  /** `sha256-...` of each inline style. */
  readonly styleHashes: readonly string[];
}

export const chatPage: ChatPage = {
  html: `<!doctype html>
<html lang="en">
  <head><meta charset="utf-8"><title>rxguardrails chat</title></head>
  <body>
    <h1>rxguardrails chat</h1>
    <p>This server runs from the sources: the chat page is bundled by <code>npm run build</code>. Run the built
    <code>rxguardrails server</code> to use it.</p>
  </body>
</html>
`,
  scriptHashes: [],
  styleHashes: [],
};
