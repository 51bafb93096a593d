import assert from "node:assert/strict";
import { compileText, issuesOf, positionOf } from "../testdata/_compile_helpers.ts";

const HEAD = "name: demo\nversion: 1.0.0\nnodes:\n  a: { path: ./nodes/a.ts }\n";
const hooks = (body: string) => `${HEAD}webhooks:\n${body}`;

Deno.test("`compileWorkflow()` compiles webhooks: with their verification and secret names", () => {
  const workflow = compileText(hooks(
    "  github: { subject: events.github.push, verify: github, secret: github-webhook }\n" +
      "  partner:\n    subject: events.partner\n    verify: hmac\n    secret: partners.acme\n" +
      "    header: X-Partner-Signature\n    algorithm: sha512\n" +
      "  ci: { subject: events.ci, verify: bearer, secret: ci_token }\n",
  ));
  assert.deepEqual(workflow.webhooks, {
    github: { subject: "events.github.push", verify: "github", secret: "github-webhook" },
    partner: {
      subject: "events.partner",
      verify: "hmac",
      secret: "partners.acme",
      header: "X-Partner-Signature",
      algorithm: "sha512",
    },
    ci: { subject: "events.ci", verify: "bearer", secret: "ci_token" },
  });
  assert.equal(compileText(HEAD).webhooks, undefined);
});

for (
  const c of [
    {
      name: "a list instead of a map",
      yaml: hooks("  - github\n"),
      at: "- github",
      message: "Expected a map for webhooks, got a list",
      hint: /^Write webhooks: \{ github:/,
    },
    {
      name: "a name that is no path segment",
      yaml: hooks("  git/hub: { subject: a.b, verify: github, secret: s }\n"),
      at: "git/hub",
      message: 'Invalid webhook name "git/hub"',
      hint: /last segment of \/hooks\/<name>/,
    },
    {
      name: "a missing subject",
      yaml: hooks("  github: { verify: github, secret: s }\n"),
      at: "{ verify",
      message: 'Webhook "github" has no subject',
      hint: /^Add subject: /,
    },
    {
      name: "a wildcard subject",
      yaml: hooks("  github: { subject: events.>, verify: github, secret: s }\n"),
      at: "events.>",
      message: 'Invalid NATS subject "events.>"',
      hint: /without wildcards/,
    },
    {
      name: "an unknown verification",
      yaml: hooks("  github: { subject: a.b, verify: githb, secret: s }\n"),
      at: "githb",
      message: 'Unknown webhook verification "githb"',
      hint: /^Did you mean "github"\?$/,
    },
    {
      name: "a secret value instead of a name",
      yaml: hooks('  ci: { subject: a.b, verify: bearer, secret: "s3cr3t tok3n!" }\n'),
      at: '"s3cr3t',
      message: 'Invalid secret name "s3cr3t tok3n!"',
      hint: /belongs in \.secrets\.yaml/,
    },
    {
      name: "a token key",
      yaml: hooks("  ci: { subject: a.b, verify: bearer, secret: s, token: abc }\n"),
      at: "token",
      message: 'Unknown webhook key "token"',
      hint: /^Put the token in the secrets/,
    },
    {
      name: "a header for GitHub",
      yaml: hooks("  gh: { subject: a.b, verify: github, secret: s, header: X-Sig }\n"),
      at: "header",
      message: '"header" applies to verify: hmac only',
      hint: /^Remove header:/,
    },
    {
      name: "an unknown HMAC algorithm",
      yaml: hooks("  p: { subject: a.b, verify: hmac, secret: s, algorithm: md5 }\n"),
      at: "md5",
      message: 'Unknown HMAC algorithm "md5"',
      hint: /sha1 \| sha256 \| sha512/,
    },
    {
      name: "a header name with a space",
      yaml: hooks('  p: { subject: a.b, verify: hmac, secret: s, header: "X Sig" }\n'),
      at: '"X Sig"',
      message: 'Invalid header name "X Sig"',
      hint: /X-Signature-256/,
    },
  ]
) {
  Deno.test(`\`compileWorkflow()\` rejects a webhook with ${c.name}, located, with a hint`, () => {
    const issues = issuesOf(c.yaml);
    assert.equal(issues.length, 1, JSON.stringify(issues));
    const [issue] = issues;
    assert.equal(issue!.message, c.message);
    assert.match(issue!.hint ?? "", c.hint);
    assert.deepEqual({ line: issue!.line, column: issue!.column }, positionOf(c.yaml, c.at));
  });
}

Deno.test("`compileWorkflow()` points a webhook trigger type at webhooks:", () => {
  const [issue] = issuesOf(`${HEAD}triggers:\n  - type: webhook\n`);
  assert.equal(issue!.message, 'Unknown trigger type "webhook"');
  assert.match(issue!.hint!, /declare webhooks: \{ github: /);
});
