// The whole hostile-input corpus (tests/data/bad/) dropped at once beside valid files:
// each file shows its accepted and quarantined counts and its reasons (the list is long
// enough to start folded), the zones match `stedi run` on the same files, and no error
// escapes.
import { test, expect } from "@playwright/test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ZONES, filesUnder, open, shownCounts, stediRun, tempDir, waitForZones } from "./helpers.mjs";

const DATA = join(import.meta.dirname, "../data");
const { files } = JSON.parse(readFileSync(join(DATA, "bad-expected.json"), "utf8"));

/** The corpus in a temporary folder, the generated files built from their parts. */
function corpusFolder() {
  const dir = tempDir("stedi-bad-");
  for (const file of files) {
    const bytes = file.generate
      ? Buffer.concat(file.generate.map((p) => Buffer.from(p.text ?? p.repeat.repeat(p.times))))
      : readFileSync(join(DATA, "bad", file.name));
    writeFileSync(join(dir, file.name), bytes);
  }
  return dir;
}

test("the bad-input corpus shows every file's quarantine and the page keeps working", async ({ page }) => {
  const bad = corpusFolder();
  const inputs = [...files.map((f) => join(bad, f.name)), ...filesUnder(join(DATA, "valid"))];
  const audit = JSON.parse(readFileSync(join(stediRun([], [bad, join(DATA, "valid")]), "audit.json"), "utf8"));

  const errors = await open(page);
  const consoleErrors = [];
  page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
  await page.getByTestId("file-input").setInputFiles(inputs);
  await waitForZones(page);

  // Of these 35 files the first 25 are listed, and any later one that needs attention
  // (a problem, or no known source); a button lists them all.
  const rows = page.getByTestId("file-row");
  const listAll = page.getByTestId("list-all-files");
  const attention = files.slice(25).filter((f) => f.problems.length > 0 || !f.source);
  expect(attention.length).toBeGreaterThan(0);
  await expect(rows).toHaveCount(25 + attention.length);
  for (const file of attention) {
    await expect(page.locator(`[data-testid="file-row"][data-name="${file.name}"]`)).toHaveCount(1);
  }
  await expect(listAll).toHaveAttribute("aria-expanded", "false");
  await expect(listAll).toContainText(`List all ${inputs.length} files`);
  await listAll.press("Enter");
  await expect(rows).toHaveCount(inputs.length);
  await expect(listAll).toHaveAttribute("aria-expanded", "true");

  for (const file of files) {
    const row = page.locator(`[data-testid="file-row"][data-name="${file.name}"]`);
    await expect(row.getByTestId("accepted"), file.name).toHaveText(String(file.accepted));
    await expect(row.getByTestId("quarantined"), file.name).toHaveText(String(file.quarantined));
    const next = row.locator("xpath=following-sibling::tr[1]");
    const expected = [...new Set(file.reasons.map(([, reason]) => reason)), ...file.problems];
    if (expected.length === 0) {
      await expect(next.getByTestId("file-problems"), file.name).toHaveCount(0);
    }
    for (const text of expected) {
      await expect(next.getByTestId("file-problems"), file.name).toContainText(text);
    }
  }
  const total = files.reduce((n, f) => n + f.quarantined, 0);
  await expect(page.getByTestId("quarantine")).toHaveAttribute("data-total", String(total));
  const counts = await shownCounts(page);
  for (const zone of ZONES) expect(counts[zone], zone).toBe(audit.zones[zone].rows);
  expect(errors).toEqual([]);
  expect(consoleErrors).toEqual([]);
});
