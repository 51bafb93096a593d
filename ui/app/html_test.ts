import assert from "node:assert/strict";
import { escapeHtml, html, raw } from "./html.ts";

Deno.test("`html` escapes every interpolated value", () => {
  const table: [unknown, string][] = [
    ["<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"],
    [`" onmouseover="x`, "&quot; onmouseover=&quot;x"],
    ["Tom & Jerry's", "Tom &amp; Jerry&#39;s"],
    [42, "42"],
    [null, ""],
    [undefined, ""],
    [false, ""],
    [["<a>", "<b>"], "&lt;a&gt;&lt;b&gt;"],
  ];
  for (const [value, expected] of table) {
    assert.equal(html`${value as string}`.value, expected, String(value));
  }
});

Deno.test("`html` keeps nested templates and `raw()` markup as they are", () => {
  const inner = html`<b>${"<i>"}</b>`;
  assert.equal(html`<p>${inner}${raw("<br>")}</p>`.value, "<p><b>&lt;i&gt;</b><br></p>");
  assert.equal(String(inner), "<b>&lt;i&gt;</b>");
});

Deno.test("`escapeHtml()` escapes the five special characters", () => {
  assert.equal(escapeHtml(`<>&"'`), "&lt;&gt;&amp;&quot;&#39;");
});
