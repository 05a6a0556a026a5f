import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import GithubSlugger from "github-slugger";
import { JSDOM } from "jsdom";
import { describe, expect, it } from "vitest";

// The docs a platform team follows: every relative link leads to a file of the
// repository (and to a heading there, when it names one), and every mermaid diagram
// parses, with mermaid's own parser, as GitHub will render it.

const REPO = new URL("../../../", import.meta.url).pathname;
/** The markdown a reader reaches from the README: docs/, the deploy and image READMEs. */
const PAGES = [
  "README.md",
  ...readdirSync(join(REPO, "docs"), { recursive: true, encoding: "utf8" })
    .filter((path) => path.endsWith(".md"))
    .map((path) => join("docs", path)),
  "deploy/helm/ondemand-eks/README.md",
  "images/elastic-ci-stack/README.md",
  "bench/README.md",
  ...readdirSync(join(REPO, "packages"))
    .map((name) => join("packages", name, "README.md"))
    .filter((path) => existsSync(join(REPO, path))),
].sort();

const text = (page: string) => readFileSync(join(REPO, page), "utf8");
/** Markdown without its fenced code, where a link is an example, not a link. */
const prose = (markdown: string) => markdown.replace(/^( *)(```|~~~)[\s\S]*?^\1\2/gm, "");

/** The anchors GitHub gives a page's headings. */
function anchors(page: string): Set<string> {
  const slugger = new GithubSlugger();
  const found = new Set<string>();
  for (const [, heading] of prose(text(page)).matchAll(/^#{1,6} +(.+?) *#*$/gm)) {
    // GitHub slugs the heading's text: inline code and links lose their markup.
    const plain = (heading ?? "").replace(/`/g, "").replace(/\[([^\]]*)\]\([^)]*\)/g, "$1");
    found.add(slugger.slug(plain));
  }
  return found;
}

/** Each relative link of a page: its target path (from the repository root) and anchor. */
function relativeLinks(page: string): { target: string; anchor?: string; raw: string }[] {
  const links: { target: string; anchor?: string; raw: string }[] = [];
  for (const [, raw = ""] of prose(text(page)).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    if (/^[a-z]+:/i.test(raw) || raw.startsWith("//")) continue;
    const [path = "", anchor] = raw.split("#");
    const target = path === "" ? page : relative(REPO, join(REPO, dirname(page), path));
    links.push({ target, ...(anchor ? { anchor } : {}), raw });
  }
  return links;
}

describe("the docs' links", () => {
  it("covers the guides, the reference and the troubleshooting page", () => {
    for (const page of [
      "docs/guides/eks-eventbridge-lambda.md",
      "docs/guides/webhook.md",
      "docs/guides/sqs-consumer.md",
      "docs/guides/controller.md",
      "docs/pod-definitions.md",
      "docs/migrating-from-elastic-ci-stack.md",
      "docs/troubleshooting.md",
      "docs/benchmarks.md",
    ]) {
      expect(PAGES).toContain(page);
    }
  });

  it.each(PAGES)(
    "%s: every relative link leads to a file, and to a heading when it names one",
    (page) => {
      const broken: string[] = [];
      for (const link of relativeLinks(page)) {
        const path = join(REPO, link.target);
        if (!existsSync(path)) {
          broken.push(`${link.raw}: no ${link.target}`);
          continue;
        }
        if (link.anchor && statSync(path).isFile() && link.target.endsWith(".md")) {
          if (!anchors(link.target).has(link.anchor)) {
            broken.push(`${link.raw}: ${link.target} has no heading #${link.anchor}`);
          }
        }
      }
      expect(broken).toEqual([]);
    },
  );

  it("would see a broken link and a broken anchor (the check is live)", () => {
    expect(existsSync(join(REPO, "docs/guides/no-such-guide.md"))).toBe(false);
    expect(anchors("docs/troubleshooting.md").has("the-pod-stays-pending")).toBe(true);
    expect(anchors("docs/troubleshooting.md").has("the-pod-stays-pendin")).toBe(false);
  });
});

describe("the docs' diagrams", () => {
  const diagrams = PAGES.flatMap((page) =>
    [...text(page).matchAll(/^```mermaid\n([\s\S]*?)^```/gm)].map((match, index) => ({
      name: `${page} #${index + 1}`,
      source: match[1] ?? "",
    })),
  );

  /** mermaid's parser: it needs a DOM (for its sanitiser), which jsdom gives it. */
  async function mermaid() {
    const dom = new JSDOM("<!doctype html><html><body></body></html>");
    Object.assign(globalThis, { window: dom.window, document: dom.window.document });
    return (await import("mermaid")).default;
  }

  it("include the architecture diagram", () => {
    expect(diagrams.map((diagram) => diagram.name)).toContain("docs/architecture.md #1");
  });

  it("parse as mermaid diagrams", async () => {
    const parser = await mermaid();
    const refused: string[] = [];
    for (const diagram of diagrams) {
      try {
        await parser.parse(diagram.source);
      } catch (error) {
        refused.push(`${diagram.name}: ${(error as Error).message.split("\n")[0]}`);
      }
    }
    expect(refused).toEqual([]);
    // The parser refuses what is broken (the check is live).
    await expect(parser.parse("flowchart LR\n  a -- b")).rejects.toThrow(/Parse error/);
  });
});
