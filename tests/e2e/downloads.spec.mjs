// 2. The machine_learning_curated download, in each format, with a salt typed into the
//    page, is byte-identical to `stedi run` with the same policy and salt.
import { test, expect } from "@playwright/test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { filesUnder, generated, loadFiles, open, stediRun } from "./helpers.mjs";

const SALT = "reviewed-salt-42";

test("machine_learning_curated downloads equal stedi run's files", async ({ page }) => {
  const inputs = filesUnder(generated());
  const errors = await open(page);
  await page.getByTestId("salt").fill(SALT);
  await page.getByTestId("salt").press("Enter");
  await loadFiles(page, inputs);
  for (const format of ["jsonl", "csv", "parquet"]) {
    const expected = readFileSync(
      join(stediRun(["--salt", SALT, "--format", format], inputs), `machine_learning_curated.${format}`),
    );
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByTestId(`download-machine_learning_curated-${format}`).first().click(),
    ]);
    expect(download.suggestedFilename()).toBe(`machine_learning_curated.${format}`);
    const got = readFileSync(await download.path());
    expect(got.length).toBe(expected.length);
    expect(got.equals(expected)).toBe(true);
  }
  expect(errors).toEqual([]);
});
