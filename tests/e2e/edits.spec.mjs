// 5. Files removed, added back, or given another source after a run or while the others
//    are read: the page's zones and download are those `stedi run` gives for the files
//    then loaded.
import { test, expect } from "@playwright/test";
import { readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { ZONES, downloadOf, filesUnder, generated, loadFiles, open, press, shownCounts, stediRun, waitForZones } from "./helpers.mjs";

const SALT = "edits-salt";

/** What `stedi run` gives for `inputs`: row counts by zone and the ML CSV's bytes. */
function expected(inputs) {
  const out = stediRun(["--salt", SALT, "--format", "csv"], inputs);
  const audit = JSON.parse(readFileSync(join(out, "audit.json"), "utf8"));
  const counts = {};
  for (const zone of ZONES) counts[zone] = audit.zones[zone].rows;
  return { counts, ml: readFileSync(join(out, "machine_learning_curated.csv")) };
}

/** Waits for the page to show `want`'s counts, then checks its ML CSV download. */
async function shows(page, want) {
  await expect.poll(() => shownCounts(page), { timeout: 90_000 }).toEqual(want.counts);
  await expect(page.getByTestId("progress")).toBeHidden({ timeout: 90_000 });
  const download = await downloadOf(page, page.getByTestId("download-machine_learning_curated-csv").first());
  expect(readFileSync(await download.path()).equals(want.ml)).toBe(true);
}

test("removing a file, adding it back and changing its source give stedi run's zones", async ({ page }) => {
  const inputs = filesUnder(generated(1, 7)).filter((p) => p.endsWith(".json"));
  const phones = inputs.filter((p) => basename(p).startsWith("accelerometer"));
  // One from the middle, so that its rows sit between other files' rows.
  const removed = phones[Math.floor(phones.length / 2)];
  const all = expected(inputs);
  const rest = expected(inputs.filter((p) => p !== removed));
  expect(rest.counts).not.toEqual(all.counts);

  const errors = await open(page);
  await page.getByTestId("salt").fill(SALT);
  await page.getByTestId("salt").press("Enter");
  await loadFiles(page, inputs);
  await shows(page, all);

  await press(page, page.getByRole("button", { name: `Remove ${basename(removed)}` }));
  await shows(page, rest);

  await page.getByTestId("file-input").setInputFiles([removed]);
  await shows(page, all);

  // Read as step-trainer records, every one of its records is quarantined.
  const source = page.getByLabel(`Source of ${basename(removed)}`);
  await source.selectOption("step_trainer");
  await expect
    .poll(() => shownCounts(page), { timeout: 90_000 })
    .toEqual({ ...rest.counts });
  await source.selectOption("auto");
  await shows(page, all);
  expect(errors).toEqual([]);
});

test("files removed while the others are being read give stedi run's zones for the rest", async ({ page }) => {
  test.setTimeout(180_000);
  // Files join the landing while the others are read, each once the files before it in
  // name order are read: the first of them removed, the rest waited behind it.
  const inputs = filesUnder(generated(6, 3)).filter((p) => p.endsWith(".json"));
  const phones = inputs.filter((p) => basename(p).startsWith("accelerometer")).sort();
  const removed = [phones[0], phones[3]];
  const rest = expected(inputs.filter((p) => !removed.includes(p)));

  const errors = await open(page);
  await page.getByTestId("salt").fill(SALT);
  await page.getByTestId("salt").press("Enter");
  await page.getByTestId("file-input").setInputFiles(inputs);
  for (const file of removed) {
    await press(page, page.getByRole("button", { name: `Remove ${basename(file)}` }));
  }
  await shows(page, rest);
  expect(errors).toEqual([]);
});

test("a salt being typed is left as typed while files are read and the zones built", async ({ page }) => {
  const inputs = filesUnder(generated(1, 7)).filter((p) => p.endsWith(".json"));
  const errors = await open(page);
  const salt = page.getByTestId("salt");
  // Typed, not yet committed (no Enter, the box keeps the focus): reading's progress and
  // the run change the page's state many times, and none may put the old salt back.
  await salt.fill("half-typed");
  await loadFiles(page, inputs);
  await expect(salt).toBeFocused();
  await expect(salt).toHaveValue("half-typed");
  // Committed, the box keeps it too.
  await salt.press("Enter");
  await waitForZones(page);
  await expect(salt).toHaveValue("half-typed");
  expect(errors).toEqual([]);
});
